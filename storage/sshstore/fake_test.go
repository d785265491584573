package sshstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/casyncproto"
)

// The test binary doubles as CASYNC_SSH_PATH: with fakeEnv set it is a
// scripted pull server on stdin/stdout (ignoring the ssh arguments, which
// it writes to $SSHSTORE_ARGV if set), so that the client's handling of
// hostile or broken servers is tested without ssh or casync.
const fakeEnv = "SSHSTORE_FAKE_SERVER"

func TestMain(m *testing.M) {
	if scenario := os.Getenv(fakeEnv); scenario != "" {
		os.Exit(fakeServer(scenario))
	}
	os.Exit(m.Run())
}

// fakeServer plays one scenario:
//
//	serve        chunks from $SSHSTORE_DIR (<4hex>/<id>.cacnk), MISSING otherwise
//	plain        the same chunks, sent uncompressed
//	abort        ABORT at the first REQUEST
//	wrongdata    answers every ID with the first chunk of the store
//	unrequested  answers with a CHUNK of another ID
//	badframe     a message of size 8
//	badhello     offers only a readable index
//	denied       prints a login failure on stderr and exits
//	silent       never answers
func fakeServer(scenario string) int {
	if p := os.Getenv("SSHSTORE_ARGV"); p != "" {
		os.WriteFile(p, []byte(strings.Join(os.Args[1:], "\n")), 0o644)
	}
	switch scenario {
	case "denied":
		fmt.Fprintln(os.Stderr, "user@host: Permission denied (publickey).")
		return 255
	case "silent":
		select {}
	}
	r, w := casyncproto.NewReader(os.Stdin), casyncproto.NewWriter(os.Stdout)
	if _, err := r.ReadMessage(); err != nil {
		return 1
	}
	if scenario == "badhello" {
		w.Hello(casyncproto.ReadableIndex)
	} else {
		w.Hello(casyncproto.ReadableStore)
	}
	w.Flush()
	dir := os.Getenv("SSHSTORE_DIR")
	local, _ := storage.NewLocal(dir, storage.LocalOptions{})
	plainOf := func(id chunk.ID) []byte {
		c, err := local.GetChunk(context.Background(), id)
		if err != nil {
			return nil
		}
		b, _ := c.Plain()
		return b
	}
	stored := func(id chunk.ID) []byte {
		b, _ := os.ReadFile(filepath.Join(dir, id.String()[:4], id.String()+".cacnk"))
		return b
	}
	for {
		m, err := r.ReadMessage()
		if err != nil || m.Type == casyncproto.Goodbye {
			return 0
		}
		for _, id := range m.IDs {
			switch scenario {
			case "abort":
				w.Abort(2, "Failed to open store /srv/x: No such file or directory")
				w.Flush()
				return 1
			case "badframe":
				os.Stdout.Write(make([]byte, 16))
				return 1
			case "unrequested":
				other := id
				other[0] ^= 1
				w.Chunk(casyncproto.Compressed, other, []byte{1})
			case "wrongdata":
				var first []byte
				filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
					if first == nil && err == nil && strings.HasSuffix(p, ".cacnk") {
						first, _ = os.ReadFile(p)
					}
					return nil
				})
				w.Chunk(casyncproto.Compressed, id, first)
			case "plain":
				if b := plainOf(id); b != nil {
					w.Chunk(0, id, b)
				} else {
					w.Missing(id)
				}
			default:
				if b := stored(id); b != nil {
					w.Chunk(casyncproto.Compressed, id, b)
				} else {
					w.Missing(id)
				}
			}
		}
		w.Flush()
	}
}
