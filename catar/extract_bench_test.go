package catar

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// manySmallFiles is an archive of 20 directories of 200 files of 1–8 KiB.
func manySmallFiles() ([]byte, int64) {
	var total int64
	root := dirNode()
	for d := range 20 {
		dir := &tn{name: fmt.Sprintf("d%02d", d), mode: ModeDir | 0o755}
		for i := range 200 {
			data := bytes.Repeat([]byte{byte(i)}, 1024*(1+i%8))
			total += int64(len(data))
			dir.kids = append(dir.kids, &tn{name: fmt.Sprintf("f%03d", i), mode: ModeRegular | 0o644, payload: data, mtime: 1600000000000000000})
		}
		root.kids = append(root.kids, dir)
	}
	return buildArchive(testFeat, root), total
}

// BenchmarkExtract extracts 4000 small files (b.SetBytes: their payload).
//
//	go test -run XXX -bench Extract -benchtime 20x ./catar
func BenchmarkExtract(b *testing.B) {
	data, total := manySmallFiles()
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			base := b.TempDir()
			b.SetBytes(total)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				dir := filepath.Join(base, fmt.Sprint(i))
				if _, err := Extract(context.Background(), bytes.NewReader(data), dir, ExtractOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(4000*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
