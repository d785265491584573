module github.com/folbricht/desync/httpserver

go 1.25.0

require (
	github.com/folbricht/desync/caindex v0.0.0
	github.com/folbricht/desync/chunk v0.0.0
	github.com/folbricht/desync/storage v0.0.0
	github.com/folbricht/desync/storage-http v0.0.0
	github.com/prometheus/client_golang v1.24.1
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.70.1 // indirect
	github.com/prometheus/procfs v0.21.1 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/folbricht/desync/storage => ../storage

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/caindex => ../caindex

replace github.com/folbricht/desync/storage-http => ../storage-http
