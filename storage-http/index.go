package httpstore

import (
	"net/url"

	"github.com/folbricht/desync/storage"
)

// IndexStore is an index store on an HTTP(S) server: an index named
// "x.caibx" is at <base>/x.caibx. It is a storage.ObjectIndexStore over
// the HTTP [Driver]: GetIndex and CopyIndex are a GET, read as a stream
// and capped at storage.DefaultMaxIndexSize (a 404 is an error matching
// fs.ErrNotExist, as from a local index store); StoreIndex and WriteIndex
// a PUT (to an index-server started with -w, or any server that accepts
// PUT), sent once the index is whole, so a writer that fails sends
// nothing. Names are relative paths without "." or ".." elements, each
// element escaped in the URL.
type IndexStore struct {
	*storage.ObjectIndexStore
	d *Driver
}

// NewIndexStore returns the index store at loc with the HTTP options of o
// (N, Timeout, TLS settings, HTTPAuth, HTTPCookie).
func NewIndexStore(loc *url.URL, o storage.Options) (*IndexStore, error) {
	d, err := newDriver(loc, o, "index store")
	if err != nil {
		return nil, err
	}
	return &IndexStore{ObjectIndexStore: storage.NewObjectIndexStore(d, storage.DefaultMaxIndexSize), d: d}, nil
}

var (
	_ storage.IndexStreamStore = (*IndexStore)(nil)
	_ storage.IndexCopyStore   = (*IndexStore)(nil)
)
