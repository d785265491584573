package httpserver

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
)

// FuzzChunkPath: whatever the request path, an accepted one is exactly
// the canonical path of the ID it yields.
func FuzzChunkPath(f *testing.F) {
	h := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{"/" + h[:4] + "/" + h + ".cacnk", "/" + h[:4] + "/" + h, "/../" + h, "/" + h[:4] + "%2F" + h, ""} {
		f.Add(s, "", ".cacnk")
		f.Add(s, s, "")
	}
	f.Fuzz(func(t *testing.T, p, raw, suffix string) {
		id, ok := parseChunkPath(p, raw, storage.ChunkLayout{Suffix: suffix})
		if !ok {
			return
		}
		s := id.String()
		if want := "/" + s[:4] + "/" + s + suffix; p != want || raw != "" {
			t.Fatalf("accepted %q (raw %q) as %s; canonical path %q", p, raw, s, want)
		}
	})
}

// FuzzIndexName: an accepted index name is one local path element that is
// not hidden and holds no separator or control character.
func FuzzIndexName(f *testing.F) {
	for _, s := range []string{"/a.caibx", "/../x", "/..%2fx", "/.hidden", "/a/b", "/a\\b", "/", "/a%00"} {
		f.Add(s, "")
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, p, raw string) {
		name, ok := indexName(p, raw)
		if !ok {
			return
		}
		if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") || !filepath.IsLocal(name) || "/"+name != p {
			t.Fatalf("accepted %q (raw %q) as name %q", p, raw, name)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted a control character in %q", name)
			}
		}
		if l := strings.ToLower(raw); strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
			t.Fatalf("accepted an encoded separator in %q", raw)
		}
	})
}
