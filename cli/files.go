package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/folbricht/desync/storage"
)

// listingBufferSize is the buffer of the commands that print a line per
// chunk (chunk, list-chunks): lines go out in large writes, not one by one.
const listingBufferSize = 64 << 10

// openInput opens a file argument; "-" is stdin. Reads from stdin end with
// the context's error when ctx is cancelled, even while blocked on a pipe or
// terminal that sends nothing.
func openInput(ctx context.Context, name string, stdin io.Reader) (io.ReadCloser, error) {
	if name != "-" {
		return os.Open(name)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, stdin)
		pw.CloseWithError(err)
	}()
	stop := context.AfterFunc(ctx, func() { pw.CloseWithError(context.Cause(ctx)) })
	return readCloser{pr, func() error { stop(); return pr.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// samePath reports whether two path arguments name the same file.
func samePath(a, b string) bool {
	if a == "-" || b == "-" {
		return false
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	pa, _ := filepath.Abs(a)
	pb, _ := filepath.Abs(b)
	return pa == pb
}

// printStats writes v as indented JSON.
func printStats(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeOutput runs write on the file args[i] (replaced atomically only when
// write succeeds) or on stdout when there is no such argument or it is "-".
func writeOutput(args []string, i int, write func(io.Writer) error, stdout io.Writer) error {
	if len(args) <= i || args[i] == "-" {
		return write(stdout)
	}
	return storage.WriteFileAtomic(args[i], 0o644, nil, func(f *os.File) error { return write(f) })
}
