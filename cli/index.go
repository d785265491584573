package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/storage"
)

// readIndex reads an index argument: a file, "-" for stdin, or the
// location of an index in an index store (https://host/dir/x.caibx).
func (a *app) readIndex(ctx context.Context, name string) (*caindex.Index, error) {
	var ix *caindex.Index
	var err error
	if name == "-" {
		if ix, err = caindex.Read(a.io.In); err != nil {
			return nil, fmt.Errorf("index from stdin: %w", err)
		}
	} else {
		_, _, o, err := a.indexLocation(name)
		if err != nil {
			return nil, err
		}
		if ix, err = storage.ReadIndex(ctx, name, o); err != nil {
			return nil, err
		}
	}
	if err := a.checkDigest(name, ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// checkDigest refuses an index whose digest is not the one --digest names,
// when it was given: its chunks could not be found or verified.
func (a *app) checkDigest(name string, ix *caindex.Index) error {
	if !a.digest.set || ix.Digest() == a.digest.d {
		return nil
	}
	if name == "-" {
		name = "from stdin"
	}
	return usageErr("index %s uses the digest %s, but --digest %s was given", name, ix.Digest(), a.digest.d)
}

// writeIndex stores the index that write writes at location: a file
// (atomically, as it is written) or an index store location
// (https://host/dir/x.caibx).
func (a *app) writeIndex(ctx context.Context, location string, write func(io.Writer) error) error {
	dir, name, o, err := a.indexLocation(location)
	if err != nil {
		return err
	}
	s, err := storage.OpenIndexStore(ctx, dir, o)
	if err != nil {
		return err
	}
	defer s.Close()
	return storage.WriteIndex(ctx, s, name, write)
}

// indexLocation splits the location of an index into its index store and
// name, and returns the store's options from the config file.
func (a *app) indexLocation(location string) (dir, name string, o storage.Options, err error) {
	cfg, err := a.config()
	if err != nil {
		return "", "", o, err
	}
	if dir, name, err = storage.SplitIndexLocation(location); err != nil {
		return "", "", o, err
	}
	if o, err = cfg.storeOptions(dir); err != nil {
		return "", "", o, err
	}
	if err := storage.CheckIndexOptions(location, o); err != nil {
		return "", "", o, err
	}
	o.Logger = a.log
	return dir, name, o, nil
}

// streamIndex opens the index at location to be read a chunk at a time,
// where it can be: a regular local file as it is; a remote index
// downloaded first to a temporary file in tmpDir, removed by done. For a
// pipe or stdin it returns a nil reader: read the index whole. A pipe is read whole because
// the progress total is read from the file's end. name is what errors
// call the index.
func (a *app) streamIndex(ctx context.Context, location, tmpDir string) (r *caindex.Reader, name string, done func(), err error) {
	if location == "-" {
		return nil, "", nil, nil
	}
	if p, local := storage.LocalPath(location); local {
		if _, _, _, err := a.indexLocation(location); err != nil {
			return nil, "", nil, err // encryption configured for its directory
		}
		if !isRegular(p) {
			return nil, "", nil, nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, "", nil, err
		}
		if r, err = caindex.NewReader(f); err != nil {
			f.Close()
			return nil, "", nil, indexFileErr(p, err)
		}
		if err := a.checkDigest(location, r.Header()); err != nil {
			f.Close()
			return nil, "", nil, err
		}
		return r, p, func() { f.Close() }, nil
	}
	dir, name, o, err := a.indexLocation(location)
	if err != nil {
		return nil, "", nil, err
	}
	s, err := storage.OpenIndexStore(ctx, dir, o)
	if err != nil {
		return nil, "", nil, err
	}
	defer s.Close()
	f, err := os.CreateTemp(tmpDir, ".desync-index.*.tmp")
	if err != nil {
		return nil, "", nil, err
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if err = storage.CopyIndex(ctx, s, name, f); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err == nil {
		r, err = caindex.NewReader(f)
	}
	if err != nil {
		done()
		return nil, "", nil, indexFileErr(name, err)
	}
	if err := a.checkDigest(location, r.Header()); err != nil {
		done()
		return nil, "", nil, err
	}
	return r, name, done, nil
}

// indexFileErr names the index file in a format error of an index read as
// a stream, as caindex.ReadFile does.
func indexFileErr(path string, err error) error {
	var fe *caindex.FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = path
	}
	return err
}

// isRegular reports whether path is a regular file.
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
