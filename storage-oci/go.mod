module github.com/folbricht/desync/storage-oci

go 1.26.0

require (
	github.com/folbricht/desync/caindex v0.0.0
	github.com/folbricht/desync/chunk v0.0.0
	github.com/folbricht/desync/storage v0.0.0
	github.com/opencontainers/go-digest v1.0.0
	github.com/opencontainers/image-spec v1.1.1
	golang.org/x/crypto v0.58.0
	oras.land/oras-go/v2 v2.7.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/folbricht/desync/storage => ../storage

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/caindex => ../caindex
