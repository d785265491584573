module github.com/folbricht/desync/storage

go 1.25.0

require (
	github.com/folbricht/desync/caindex v0.0.0
	github.com/folbricht/desync/chunk v0.0.0
	golang.org/x/sys v0.47.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/crypto v0.55.0 // indirect
)

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/caindex => ../caindex
