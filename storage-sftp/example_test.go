package sftpstore_test

import (
	"context"

	"github.com/folbricht/desync/storage"
	_ "github.com/folbricht/desync/storage-sftp" // registers sftp
)

// Example opens a chunk store on an SFTP server by location. The store
// runs the ssh program (CASYNC_SSH_PATH, default ssh), so the user's
// ~/.ssh/config, agent, keys and known_hosts apply; N sessions are kept.
func Example() {
	ctx := context.Background()
	s, err := storage.Open(ctx, "sftp://backup@nas.example.com/srv/store", storage.Options{N: 8})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// s holds /srv/store/<4 hex>/<id>.cacnk on the server; uploads go to a
	// temporary name and are renamed into place.
}
