package catar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
)

// payloadFunc is told, for each regular file of a tree, the archive offset
// and size of its payload and the file it comes from.
type payloadFunc func(file string, off, size int64)

// TreeImage is the archive a directory tree encodes to, as random-access
// bytes, without the archive being written anywhere: the records other than
// payloads are made by EncodeTree and kept in memory (a few hundred bytes
// per entry), file contents are read from the files when asked for. Untar
// uses it to take the chunks of an earlier archive index from the tree that
// was extracted from it: what still matches the index is found there, what
// changed fails the chunk's verification and is fetched instead.
//
// A file that changed size, vanished or cannot be read reads as zeros from
// then on: TreeImage never fails a read, its bytes just stop matching.
type TreeImage struct {
	meta []byte       // the archive without its payloads
	pay  []imagePayld // payloads in archive order
	size int64
}

type imagePayld struct {
	off, size int64 // in the archive
	metaOff   int64 // bytes of meta before it
	file      string
}

// NewTreeImage encodes the metadata of the tree at root with the features
// f (normalized; those of the archive index the tree was extracted from).
// It reads the whole tree's metadata, but no file contents.
func NewTreeImage(ctx context.Context, root string, f Features) (*TreeImage, error) {
	var meta bytes.Buffer
	img := &TreeImage{}
	var payloadBytes int64
	stats, err := encodeTree(ctx, &meta, root, EncodeOptions{Features: f}, func(file string, off, size int64) {
		img.pay = append(img.pay, imagePayld{off: off, size: size, metaOff: off - payloadBytes, file: file})
		payloadBytes += size
	})
	if err != nil {
		return nil, fmt.Errorf("catar: image of %s: %w", root, err)
	}
	img.meta, img.size = meta.Bytes(), stats.Size
	if int64(len(img.meta))+payloadBytes != img.size {
		return nil, fmt.Errorf("catar: image of %s: %d metadata and %d payload bytes, archive of %d", root, len(img.meta), payloadBytes, img.size)
	}
	return img, nil
}

// FileAt returns the file whose payload starts at the archive offset off,
// and the payload's length (the file's size when the image was made).
func (t *TreeImage) FileAt(off int64) (file string, size int64, ok bool) {
	i := sort.Search(len(t.pay), func(i int) bool { return t.pay[i].off >= off })
	if i == len(t.pay) || t.pay[i].off != off {
		return "", 0, false
	}
	return t.pay[i].file, t.pay[i].size, true
}

// Size returns the length of the archive.
func (t *TreeImage) Size() int64 { return t.size }

// ReadAt reads the archive bytes at off. It returns io.EOF only past the
// end of the archive.
func (t *TreeImage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("catar: tree image: negative offset %d", off)
	}
	if off >= t.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := t.size - off; int64(want) > rest {
		p = p[:rest]
	}
	// The first payload that ends after off.
	i := sort.Search(len(t.pay), func(i int) bool { return t.pay[i].off+t.pay[i].size > off })
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if i < len(t.pay) && pos >= t.pay[i].off {
			pl := t.pay[i]
			k := int(min(int64(len(p)-n), pl.off+pl.size-pos))
			readFile(pl.file, p[n:n+k], pos-pl.off)
			n += k
			i++
			continue
		}
		// Metadata up to the next payload (or the end).
		end := t.size
		if i < len(t.pay) {
			end = t.pay[i].off
		}
		var metaPos int64 = pos // no payload before pos
		if i > 0 {
			prev := t.pay[i-1]
			metaPos = prev.metaOff + (pos - prev.off - prev.size)
		}
		k := int(min(int64(len(p)-n), end-pos))
		copy(p[n:n+k], t.meta[metaPos:metaPos+int64(k)])
		n += k
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// readFile fills b with the bytes of file at off; what cannot be read
// stays zero.
func readFile(file string, b []byte, off int64) {
	clear(b)
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	f.ReadAt(b, off)
}
