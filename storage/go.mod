module github.com/folbricht/desync/storage

go 1.25
