module github.com/folbricht/desync/caindex

go 1.25
