package fuse_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/fuse"
	"github.com/folbricht/desync/storage"
)

// Mount a blob index read-only at /mnt/blob, with its chunks from a local
// store and a copy-on-read file, until interrupted.
func ExampleMountBlob() {
	ix, err := caindex.ReadFile("image.caibx")
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := storage.Open(context.Background(), "/var/store", storage.Options{Digest: ix.Digest()})
	if err != nil {
		fmt.Println(err)
		return
	}
	cor, err := fuse.OpenCOR("/var/tmp/image.cor", ix)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cor.Close()
	b := fuse.NewBlob(ix, fuse.BlobOptions{Store: store, COR: cor})
	defer b.Close()
	m, err := fuse.MountBlob("/mnt/blob", "image", b, fuse.MountOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); m.Unmount() }()
	m.Wait() // /mnt/blob/image reads as the blob
	cor.SaveState("/var/tmp/image.cor.state")
}
