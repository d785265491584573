package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// idSet is a set of chunk IDs from indexes and ID list files.
type idSet map[chunk.ID]bool

func (s idSet) addIndex(ix *caindex.Index) {
	for _, c := range ix.Chunks {
		s[c.ID] = true
	}
}

// addList reads a file of chunk IDs, one per line (blank lines and lines
// starting with # are skipped), as list-chunks writes them.
func (s idSet) addList(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := chunk.ParseID(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		s[id] = true
	}
	return sc.Err()
}

// readIgnores builds the set of chunks named by --ignore indexes and
// --ignore-chunks files.
func (a *app) readIgnores(ctx context.Context, indexes, lists []string) (idSet, error) {
	ids := idSet{}
	for _, name := range indexes {
		ix, err := a.readIndex(ctx, name)
		if err != nil {
			return nil, err
		}
		ids.addIndex(ix)
	}
	for _, name := range lists {
		if err := ids.addList(name); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
