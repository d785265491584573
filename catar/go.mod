module github.com/folbricht/desync/catar

go 1.25.0

require github.com/dchest/siphash v1.2.3
