module github.com/folbricht/desync/chunk

go 1.25.0

require github.com/klauspost/compress v1.20.4

require golang.org/x/crypto v0.55.0 // indirect
