package catar

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
)

// Limits of random access, checked before allocating.
const (
	randBufferSize = 1024      // bufio buffer of one entry's records
	maxGoodbyeSize = 256 << 20 // a directory of about 11 million children
)

// Archive is random access to a .catar held by an io.ReaderAt (a file, or
// the stream of a .caidx read chunk by chunk): a directory's children are
// found from its goodbye table and read record by record, without reading
// any file's payload or anything else of the archive. It is what a FUSE
// tree mount needs.
//
// Each entry is decoded and checked by the streaming [Reader]'s record
// parsing (names, metadata records and their order, feature flags); each
// goodbye table is checked for consistency with the directory it ends
// (marker, sizes, entry offset, children inside the directory, name
// hashes), but, unlike the Reader, the archive as a whole is not: an
// Archive reads only what is asked. An Archive is safe for concurrent use
// when its ReaderAt is.
type Archive struct {
	r        io.ReaderAt
	size     int64
	features Features
	root     *Node
}

// Node is an entry of an [Archive] and where it is in the archive.
type Node struct {
	Entry
	// Offset is the archive offset of the entry's ENTRY record.
	Offset int64
	// PayloadOffset is, for a regular file, the archive offset of the
	// first byte of its contents (Entry.Size bytes).
	PayloadOffset int64

	start, end int64 // its serialization: [FILENAME, end) for a child, the archive for the root
}

// OpenArchive reads the root entry of the archive of size bytes that r
// holds, and the tail of its goodbye table.
func OpenArchive(r io.ReaderAt, size int64) (*Archive, error) {
	if size < entrySize+headerSize+goodbyeItemSize {
		return nil, formatErr(0, "", "archive of %d bytes is too short", size)
	}
	a := &Archive{r: r, size: size}
	root, err := a.readNode(0, size, "", false)
	if err != nil {
		return nil, err
	}
	if !root.IsDir() {
		return nil, formatErr(0, "", "the archive root is not a directory (mode %#o)", root.Mode)
	}
	a.root = root
	if _, _, err := a.goodbye(root); err != nil {
		return nil, err
	}
	return a, nil
}

// Features returns the archive's feature flags.
func (a *Archive) Features() Features { return a.features }

// Root returns the root directory.
func (a *Archive) Root() *Node { return a.root }

// Payload returns the contents of the regular file n.
func (a *Archive) Payload(n *Node) *io.SectionReader {
	if !n.IsRegular() {
		return io.NewSectionReader(a.r, 0, 0)
	}
	return io.NewSectionReader(a.r, n.PayloadOffset, n.Size)
}

// readNode decodes the entry serialized in [start, end): when child, its
// FILENAME record first, in the directory dirPath.
func (a *Archive) readNode(start, end int64, dirPath string, child bool) (*Node, error) {
	// An entry without a closing record of its own (directory, FIFO,
	// socket) ends where the next record starts: the section goes on for
	// that record's header, which the Reader reads and keeps pending.
	limit := min(end+headerSize, a.size)
	rd := &Reader{
		br:       bufio.NewReaderSize(io.NewSectionReader(a.r, start, limit-start), randBufferSize),
		off:      start,
		features: a.features,
		started:  true,
	}
	path := dirPath
	if child {
		h, err := rd.nextHeader(dirPath, "FILENAME")
		if err != nil {
			return nil, err
		}
		if h.typ != typeFilename {
			return nil, formatErr(h.off, dirPath, "unexpected %s record where a goodbye item points to a FILENAME", typeName(h.typ))
		}
		name, err := rd.readFilename(h, dirPath)
		if err != nil {
			return nil, err
		}
		path = joinPath(dirPath, name)
	}
	rd.path = []byte(path)
	e, err := rd.readEntry()
	if err != nil {
		return nil, err
	}
	if start == 0 {
		a.features = rd.features
	}
	if rd.pending && (rd.pendHdr.off > end || !e.IsDir() && rd.pendHdr.off != end) || !rd.pending && rd.off > end {
		return nil, formatErr(rd.curOff, path, "the entry's records run past its end at %d", end)
	}
	n := &Node{Entry: *e, Offset: rd.curOff, start: start, end: end}
	if e.IsRegular() {
		n.PayloadOffset = rd.off
		if n.PayloadOffset+e.Size > end {
			return nil, formatErr(n.Offset, path, "payload of %d bytes runs past the entry's end at %d", e.Size, end)
		}
	}
	return n, nil
}

// goodbyeItem is a child as a goodbye table lists it.
type goodbyeItem struct {
	start, size int64
	hash        uint64
}

// goodbye reads and checks the goodbye table that ends directory dir.
func (a *Archive) goodbye(dir *Node) ([]goodbyeItem, int64, error) {
	le := binary.LittleEndian
	var tail [goodbyeItemSize]byte
	tailOff := dir.end - goodbyeItemSize
	if err := a.readAt(tail[:], tailOff, dir.Path, "GOODBYE tail"); err != nil {
		return nil, 0, err
	}
	eo, size, marker := le.Uint64(tail[0:]), le.Uint64(tail[8:]), le.Uint64(tail[16:])
	if marker != goodbyeTailMarker {
		return nil, 0, formatErr(tailOff, dir.Path, "GOODBYE tail marker %#x, want %#x", marker, goodbyeTailMarker)
	}
	room := uint64(dir.end - dir.Offset - entrySize)
	if size < headerSize+goodbyeItemSize || (size-headerSize)%goodbyeItemSize != 0 || size > room || size > maxGoodbyeSize {
		return nil, 0, formatErr(tailOff, dir.Path, "GOODBYE tail size %d is not a table size within the directory", size)
	}
	gbOff := dir.end - int64(size)
	if eo != uint64(gbOff-dir.Offset) {
		return nil, 0, formatErr(gbOff, dir.Path, "GOODBYE tail entry offset %d, want %d", eo, gbOff-dir.Offset)
	}
	b := make([]byte, size)
	if err := a.readAt(b, gbOff, dir.Path, "GOODBYE"); err != nil {
		return nil, 0, err
	}
	if le.Uint64(b[0:]) != size || le.Uint64(b[8:]) != typeGoodbye {
		return nil, 0, formatErr(gbOff, dir.Path, "no GOODBYE record of %d bytes where the directory's tail points", size)
	}
	n := int((size-headerSize)/goodbyeItemSize) - 1
	items := make([]goodbyeItem, n)
	first := dir.Offset + entrySize // children follow the directory's metadata
	for i := range items {
		it := b[headerSize+i*goodbyeItemSize:]
		off, sz, hash := le.Uint64(it[0:]), le.Uint64(it[8:]), le.Uint64(it[16:])
		start := gbOff - int64(off)
		if off > uint64(gbOff-first) || sz > uint64(gbOff-start) || sz < headerSize+2+entrySize {
			return nil, 0, formatErr(gbOff, dir.Path, "GOODBYE item %d {offset %d, size %d} points outside the directory", i, off, sz)
		}
		items[i] = goodbyeItem{start: start, size: int64(sz), hash: hash}
	}
	return items, gbOff, nil
}

func (a *Archive) readAt(p []byte, off int64, path, what string) error {
	if off < 0 || off+int64(len(p)) > a.size {
		return formatErr(off, path, "%s at offset %d is outside the archive", what, off)
	}
	if _, err := a.r.ReadAt(p, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(len(p)) == a.size) {
		return readErr(err, off, path, what)
	}
	return nil
}

// ReadDir returns the children of directory dir in archive (strcmp)
// order, read from the directory's goodbye table and each child's
// FILENAME and metadata records.
func (a *Archive) ReadDir(dir *Node) ([]*Node, error) {
	if !dir.IsDir() {
		return nil, fmt.Errorf("archive: %q is not a directory", dir.Path)
	}
	items, _, err := a.goodbye(dir)
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].start < items[j].start })
	nodes := make([]*Node, 0, len(items))
	end := int64(-1)
	for _, it := range items {
		if it.start < end {
			return nil, formatErr(it.start, dir.Path, "goodbye items overlap")
		}
		end = it.start + it.size
		n, err := a.child(dir, it)
		if err != nil {
			return nil, err
		}
		if k := len(nodes); k > 0 && nodes[k-1].Path >= n.Path {
			return nil, formatErr(it.start, n.Path, "name out of order or duplicate after %q", nodes[k-1].Path)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// child reads the child of dir that goodbye item it points to.
func (a *Archive) child(dir *Node, it goodbyeItem) (*Node, error) {
	n, err := a.readNode(it.start, it.start+it.size, dir.Path, true)
	if err != nil {
		return nil, err
	}
	if nameHash(n.Name()) != it.hash {
		return nil, formatErr(it.start, n.Path, "goodbye item hash %#x is not the hash of the name", it.hash)
	}
	return n, nil
}

// Lookup returns the child of directory dir named name, reading only the
// children whose name hash matches; an error wrapping fs.ErrNotExist if
// there is none.
func (a *Archive) Lookup(dir *Node, name string) (*Node, error) {
	if !dir.IsDir() {
		return nil, fmt.Errorf("archive: %q is not a directory", dir.Path)
	}
	items, _, err := a.goodbye(dir)
	if err != nil {
		return nil, err
	}
	h := nameHash(name)
	for _, it := range items {
		if it.hash != h {
			continue
		}
		n, err := a.child(dir, it)
		if err != nil {
			return nil, err
		}
		if n.Name() == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("archive: %q: %w", joinPath(dir.Path, name), fs.ErrNotExist)
}

// Name returns the last element of the node's path ("" for the root).
func (n *Node) Name() string {
	for i := len(n.Path) - 1; i >= 0; i-- {
		if n.Path[i] == '/' {
			return n.Path[i+1:]
		}
	}
	return n.Path
}
