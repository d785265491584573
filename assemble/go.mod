module github.com/folbricht/desync/assemble

go 1.25
