module github.com/folbricht/desync/chunker

go 1.24
