//go:build linux

package catar

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEncodeTree archives a tree of 5000 small files (0–8 KiB in 50
// directories) with the default features; page cache warm.
//
//	go test -run '^$' -bench BenchmarkEncodeTree -benchtime 20x ./catar
func BenchmarkEncodeTree(b *testing.B) {
	dir := b.TempDir()
	var total int64
	const dirs, files = 50, 100
	data := make([]byte, 8192)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for d := range dirs {
		sub := filepath.Join(dir, fmt.Sprintf("dir%02d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range files {
			n := (d*files + f) * 37 % len(data)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file%03d.txt", f)), data[:n], 0o644); err != nil {
				b.Fatal(err)
			}
			total += int64(n)
		}
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if _, err := EncodeTree(context.Background(), io.Discard, dir, EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(dirs*files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
