module github.com/folbricht/desync/storage-sftp

go 1.25.0

replace github.com/folbricht/desync/storage => ../storage

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/caindex => ../caindex

require (
	github.com/folbricht/desync/chunk v0.0.0
	github.com/folbricht/desync/storage v0.0.0
	github.com/pkg/sftp v1.13.12
)

require (
	github.com/folbricht/desync/caindex v0.0.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/kr/fs v0.1.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
