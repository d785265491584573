module github.com/folbricht/desync/chunk

go 1.25.0

require github.com/klauspost/compress v1.20.4

require (
	golang.org/x/crypto v0.55.0
	golang.org/x/sys v0.47.0 // indirect
)
