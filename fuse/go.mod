module github.com/folbricht/desync/fuse

go 1.26.0

require (
	github.com/folbricht/desync/assemble v0.0.0
	github.com/folbricht/desync/caindex v0.0.0
	github.com/folbricht/desync/catar v0.0.0
	github.com/folbricht/desync/chunk v0.0.0
	github.com/folbricht/desync/storage v0.0.0
	github.com/hanwen/go-fuse/v2 v2.12.1
	golang.org/x/sys v0.47.0
)

require (
	github.com/dchest/siphash v1.2.3 // indirect
	github.com/folbricht/desync/chunker v0.0.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/crypto v0.55.0 // indirect
)

replace github.com/folbricht/desync/assemble => ../assemble

replace github.com/folbricht/desync/catar => ../catar

replace github.com/folbricht/desync/storage => ../storage

replace github.com/folbricht/desync/caindex => ../caindex

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/chunker => ../chunker
