package storagetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// RunUnreachable checks a store whose bucket or host does not exist (s, as
// its backend opens it, without a retry): GetChunk, HasChunk and (for a
// chunk.WriteStore) StoreChunk fail with an error that is permanent (not
// [storage.IsTransient]), is not a missing chunk (a router must not fall
// through to the next store as if the chunk were absent, nor a cache
// fill from it), and names the store; and through a [storage.Retry] of
// several attempts each reaches the backend exactly once, so the failure
// is as fast as one request.
func RunUnreachable(t *testing.T, s chunk.Store) {
	t.Helper()
	defer s.Close()
	ctx := context.Background()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("unreachable")), []byte("unreachable"))
	calls := map[string]func(chunk.Store) error{
		"GetChunk": func(s chunk.Store) error { _, err := s.GetChunk(ctx, c.ID()); return err },
		"HasChunk": func(s chunk.Store) error { _, err := s.HasChunk(ctx, c.ID()); return err },
	}
	if _, ok := s.(chunk.WriteStore); ok {
		calls["StoreChunk"] = func(s chunk.Store) error { return s.(chunk.WriteStore).StoreChunk(ctx, c) }
	}
	for name, call := range calls {
		err := call(s)
		switch {
		case err == nil:
			t.Errorf("%s on a store that does not exist: no error", name)
		case storage.IsTransient(err):
			t.Errorf("%s: %v is transient, want permanent", name, err)
		case errors.Is(err, chunk.ErrMissing):
			t.Errorf("%s: %v is a missing chunk, want the store's failure", name, err)
		case !strings.Contains(err.Error(), s.String()):
			t.Errorf("%s: %v does not name the store %s", name, err, s)
		}
		count := NewCounting(s)
		r := storage.NewRetry(count, storage.RetryOptions{Attempts: 5})
		call(r)
		if n := count.Total(); n.Get+n.Has+n.Store != 1 {
			t.Errorf("%s through a Retry of 5 attempts: %d calls, want 1", name, n.Get+n.Has+n.Store)
		}
	}
}
