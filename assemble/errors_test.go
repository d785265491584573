package assemble

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/caindex"
)

// TestNoStore checks that a nil Store fails with ErrNoStore, naming the
// chunk, wherever a chunk is needed from it, and leaves an existing output
// as it was; an extraction that needs no chunk from the store succeeds
// without one.
func TestNoStore(t *testing.T) {
	ctx := context.Background()
	s := newStream(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	first := s.nonNull(0)

	check := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, ErrNoStore) {
			t.Fatalf("error %v, want ErrNoStore", err)
		}
	}
	t.Run("ExtractFile", func(t *testing.T) {
		if err := os.WriteFile(out, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ExtractFile(ctx, s.ix, out, ExtractOptions{})
		check(t, err)
		if got := mustRead(t, out); string(got) != "keep me" {
			t.Error("the existing output changed")
		}
	})
	t.Run("ExtractFile in place", func(t *testing.T) {
		p := filepath.Join(dir, "inplace")
		_, err := ExtractFile(ctx, s.ix, p, ExtractOptions{InPlace: true})
		check(t, err)
	})
	t.Run("ExtractStream", func(t *testing.T) {
		var b bytes.Buffer
		if _, err := s.ix.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		r, err := caindex.NewReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ExtractStream(ctx, r, out, ExtractOptions{})
		check(t, err)
	})
	t.Run("ExtractWriter", func(t *testing.T) {
		_, err := ExtractWriter(ctx, s.ix, io.Discard, ExtractOptions{})
		check(t, err)
	})
	t.Run("ExtractWriter with a seed", func(t *testing.T) {
		// The seed holds only the first half of the data.
		seed := filepath.Join(dir, "half")
		if err := os.WriteFile(seed, s.data[:len(s.data)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ExtractWriter(ctx, s.ix, io.Discard, ExtractOptions{Seeds: []Seed{{Path: seed}}})
		check(t, err)
	})
	t.Run("Reader", func(t *testing.T) {
		r := NewReader(ctx, s.ix, ReaderOptions{})
		defer r.Close()
		_, err := io.Copy(io.Discard, r)
		check(t, err)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(first.ID.String())) {
			t.Errorf("error %v does not name the first chunk %s", err, first.ID)
		}
	})
	t.Run("Chop", func(t *testing.T) {
		_, err := Chop(ctx, s.ix, bytes.NewReader(s.data), ChopOptions{})
		check(t, err)
	})
	t.Run("every chunk from a seed needs no store", func(t *testing.T) {
		seed := filepath.Join(dir, "seed")
		if err := os.WriteFile(seed, s.data, 0o600); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "fromseed")
		if _, err := ExtractFile(ctx, s.ix, p, ExtractOptions{Seeds: []Seed{{Path: seed}}}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustRead(t, p), s.data) {
			t.Error("output differs")
		}
	})
}

// TestNoIndex checks that a nil index (or input) is an error, not a panic.
func TestNoIndex(t *testing.T) {
	ctx := context.Background()
	s := newStream(t)
	out := filepath.Join(t.TempDir(), "out")
	errs := map[string]error{}
	_, errs["ExtractFile"] = ExtractFile(ctx, nil, out, ExtractOptions{Store: s.store})
	_, errs["ExtractStream"] = ExtractStream(ctx, nil, out, ExtractOptions{Store: s.store})
	_, errs["ExtractWriter"] = ExtractWriter(ctx, nil, io.Discard, ExtractOptions{Store: s.store})
	_, errs["Chop"] = Chop(ctx, nil, bytes.NewReader(s.data), ChopOptions{Store: s.store})
	errs["VerifyIndex"] = VerifyIndex(ctx, nil, bytes.NewReader(s.data), int64(len(s.data)), 0)
	_, errs["SeedIndex"] = SeedIndex(ctx, Seed{Path: out}, nil, 0)
	if _, _, err := Make(ctx, nil, MakeOptions{}); err == nil {
		t.Error("Make of a nil reader: no error")
	}
	for name, err := range errs {
		if !errors.Is(err, ErrNoIndex) {
			t.Errorf("%s: error %v, want ErrNoIndex", name, err)
		}
	}
}
