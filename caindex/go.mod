module github.com/folbricht/desync/caindex

go 1.25.0

require github.com/folbricht/desync/chunk v0.0.0

require github.com/klauspost/compress v1.20.4 // indirect

replace github.com/folbricht/desync/chunk => ../chunk
