module github.com/folbricht/desync/cli

go 1.25.0

require (
	github.com/folbricht/desync/assemble v0.0.0
	github.com/folbricht/desync/caindex v0.0.0
	github.com/folbricht/desync/chunk v0.0.0
	github.com/folbricht/desync/chunker v0.0.0
	github.com/folbricht/desync/httpserver v0.0.0
	github.com/folbricht/desync/storage v0.0.0
	github.com/folbricht/desync/storage-http v0.0.0
	github.com/folbricht/desync/storage-s3 v0.0.0
	github.com/peterbourgon/ff/v3 v3.4.0
	github.com/schollz/progressbar/v3 v3.19.1
	golang.org/x/term v0.45.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/kr/fs v0.1.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pkg/sftp v1.13.12 // indirect
	github.com/prometheus/client_golang v1.24.1 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.70.1 // indirect
	github.com/prometheus/procfs v0.21.1 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

require (
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/folbricht/desync/storage-sftp v0.0.0
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/klauspost/crc32 v1.3.0 // indirect
	github.com/minio/crc64nvme v1.1.1 // indirect
	github.com/minio/md5-simd v1.1.2 // indirect
	github.com/minio/minio-go/v7 v7.3.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/rs/xid v1.6.0 // indirect
	github.com/tinylib/msgp v1.6.4 // indirect
	github.com/zeebo/xxh3 v1.1.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	gopkg.in/ini.v1 v1.67.3 // indirect
)

replace github.com/folbricht/desync/chunk => ../chunk

replace github.com/folbricht/desync/chunker => ../chunker

replace github.com/folbricht/desync/caindex => ../caindex

replace github.com/folbricht/desync/storage => ../storage

replace github.com/folbricht/desync/assemble => ../assemble

replace github.com/folbricht/desync/storage-http => ../storage-http

replace github.com/folbricht/desync/httpserver => ../httpserver

replace github.com/folbricht/desync/storage-s3 => ../storage-s3

replace github.com/folbricht/desync/storage-sftp => ../storage-sftp
