module github.com/folbricht/desync/cli

go 1.25
