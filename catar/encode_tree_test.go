//go:build linux

package catar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/folbricht/desync/catar/catartest"
)

var (
	treeOnce sync.Once
	treeDir  string
)

// vectorTree builds the vectors' tree once per test binary.
func vectorTree(t *testing.T) string {
	t.Helper()
	treeOnce.Do(func() {
		d, err := os.MkdirTemp("", "catar-tree-")
		if err != nil {
			t.Fatal(err)
		}
		treeDir = filepath.Join(d, "tree")
	})
	if _, err := os.Stat(filepath.Join(treeDir, "sub")); err != nil {
		catartest.Build(t, treeDir)
	}
	return treeDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if treeDir != "" {
		os.RemoveAll(filepath.Dir(treeDir))
	}
	os.Exit(code)
}

func TestEncodeTreeVectors(t *testing.T) {
	dir := vectorTree(t)
	for _, tc := range []struct {
		vector string
		opts   FeatureOptions
	}{
		{"tree.catar", FeatureOptions{}},
		{"tree.unix.catar", FeatureOptions{With: []string{"unix"}}},
		{"tree.without-all.catar", FeatureOptions{Without: []string{"all"}}},
	} {
		t.Run(tc.vector, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", tc.vector))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			st, err := EncodeTree(context.Background(), &buf, dir, EncodeOptions{Features: mustFeatures(t, tc.opts)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("archive differs from casync's %s: %s", tc.vector, firstDiff(buf.Bytes(), want))
			}
			if st.Size != int64(len(want)) {
				t.Errorf("stats size %d, want %d", st.Size, len(want))
			}
		})
	}
}
