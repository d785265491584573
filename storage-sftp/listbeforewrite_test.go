package sftpstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// TestKnownChunks: a store written to over SFTP is listed before its first
// HasChunk like any object store: the listing names exactly its chunks
// (not the files that are not chunks), and past its bound it gives up.
func TestKnownChunks(t *testing.T) {
	srv := start(t)
	loc, _ := newDir(t, srv)
	ctx := context.Background()
	s := openStore(t, loc, storage.Options{})
	defer s.Close()
	var ids []chunk.ID
	for i := range 12 {
		c := chunk.New(chunk.SHA512_256.Sum(fmt.Appendf(nil, "chunk %d", i)), fmt.Appendf(nil, "chunk %d", i))
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID())
	}
	known, ok := s.KnownChunks(ctx)
	if !ok || len(known) != len(ids) {
		t.Fatalf("KnownChunks = %d chunks, %v; want %d, true", len(known), ok, len(ids))
	}
	for _, id := range ids {
		if _, ok := known[id]; !ok {
			t.Errorf("chunk %s not listed", id)
		}
	}
	small := openStore(t, loc, storage.Options{ListBeforeWrite: 11})
	defer small.Close()
	if _, ok := small.KnownChunks(ctx); ok {
		t.Error("KnownChunks of 12 chunks with a bound of 11 is complete, want not")
	}
}
