package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

func TestCat(t *testing.T) {
	f := newFixture(t)
	size := int64(len(f.data))
	for _, tc := range []struct {
		name        string
		off, length int64
		args        []string
	}{
		{"whole", 0, size, nil},
		{"offset and length", 70000, 300000, []string{"-o", "70000", "-l", "300000"}},
		{"long names", 70000, 300000, []string{"--offset", "70000", "--length", "300000"}},
		{"offset to the end", size - 1000, 1000, []string{"-o", fmt.Sprint(size - 1000)}},
		{"up to the end", 5, size - 5, []string{"-o", "5", "-l", fmt.Sprint(size - 5)}},
		{"offset at the end", size, 0, []string{"-o", fmt.Sprint(size)}},
		{"within one chunk", int64(f.ix.Chunks[2].Start + 1), 10, []string{"-o", fmt.Sprint(f.ix.Chunks[2].Start + 1), "-l", "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, nil, append(append([]string{"cat", "-s", f.store}, tc.args...), f.index)...)
			if want := f.data[tc.off : tc.off+tc.length]; !bytes.Equal([]byte(r.stdout), want) {
				t.Errorf("got %d bytes, want %d (bytes %d+%d)", len(r.stdout), len(want), tc.off, tc.length)
			}
		})
	}
	t.Run("to a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		r := mustRun(t, nil, "cat", "-s", f.store, f.index, out)
		if r.stdout != "" || !bytes.Equal(mustRead(t, out), f.data) {
			t.Error("cat to a file: output differs or went to stdout")
		}
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"offset beyond the end", []string{"-o", fmt.Sprint(size + 1)}},
		{"length beyond the end", []string{"-o", "10", "-l", fmt.Sprint(size)}},
		{"negative offset", []string{"-o", "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := expect(t, 2, nil, nil, append(append([]string{"cat", "-s", f.store}, tc.args...), f.index)...)
			if r.stdout != "" {
				t.Errorf("wrote %d bytes", len(r.stdout))
			}
		})
	}
	t.Run("missing chunk", func(t *testing.T) {
		s := filepath.Join(f.dir, "partial")
		victim := f.ids[len(f.ids)/2]
		var rest []string
		for _, id := range f.ids {
			if id != victim {
				rest = append(rest, id)
			}
		}
		copyChunks(t, f.store, s, rest)
		expect(t, 1, nil, []string{victim, "missing", s}, "cat", "-s", s, f.index)
		// To a file: the existing file is left as it was.
		dir := t.TempDir()
		out := writeFile(t, filepath.Join(dir, "out"), []byte("precious"))
		expect(t, 1, nil, []string{victim}, "cat", "-s", s, f.index, out)
		if string(mustRead(t, out)) != "precious" {
			t.Error("a failed cat changed the existing output")
		}
		assertNoTemp(t, dir)
		// A range before the missing chunk needs only chunks that are there.
		r := mustRun(t, nil, "cat", "-s", s, "-l", "1000", f.index)
		if !bytes.Equal([]byte(r.stdout), f.data[:1000]) {
			t.Error("cat of the first bytes differs")
		}
	})
}
