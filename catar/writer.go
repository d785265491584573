package catar

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"io"
	"slices"
	"sort"
	"strings"
)

// Writer serializes entries into a .catar stream (format description §5).
//
// Entries come in archive order: the root directory (Path "") first, then a
// pre-order walk in which the children of a directory follow it in strcmp
// (bytewise) order of their names. A directory is closed, its GOODBYE table
// written, when the next entry is not below it, or at Close. After a regular
// file's entry its payload follows through Write, exactly Size bytes.
//
// The Writer is the one place that applies the archive's feature flags to
// the metadata (§5.2 "Numbers in ENTRY"): callers pass raw metadata (the
// lstat mode, all chattr flags, the real uid/gid, the ns mtime, every
// record they have) and the Writer derives the mode (read-only or fixed
// 0666/0777 modes without permissions), masks the flags, zeroes ids and
// times the features lack, rounds the mtime down to the granularity, and
// leaves out the USER/GROUP, XATTR, ACL, SELINUX, FCAPS and QUOTA_PROJID
// records the features do not carry. Entries whose type the features
// exclude (a symlink without WithSymlinks, …) are refused: callers filter
// them (CarriesType) before.
//
// Memory is bounded by the open directories: for each, one 16-byte item per
// child written so far. Output is buffered; Close flushes it.
type Writer struct {
	w     *bufio.Writer
	f     Features
	valid bool  // f.Valid()
	off   int64 // bytes emitted so far
	err   error // sticky
	root  bool  // root written
	dirs  []*openDir

	// payload state of the last regular entry
	path    string
	payload int64 // bytes still expected

	buf     []byte // scratch for records
	scratch []item // goodbye sort scratch
}

type item struct {
	hash uint64
	off  int64 // FILENAME offset
}

type openDir struct {
	path     string
	entryOff int64
	last     string // name of the last child
	items    []item
}

// NewWriter returns a Writer of an archive with the feature flags f (which
// must be normalized, see Features.Normalize and FeatureOptions) to w.
func NewWriter(w io.Writer, f Features) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 256<<10), f: f, valid: f.Valid(), buf: make([]byte, 0, 4096)}
}

// Features returns the archive's feature flags.
func (w *Writer) Features() Features { return w.f }

// Offset returns the number of bytes of archive written so far (buffered
// bytes included).
func (w *Writer) Offset() int64 { return w.off }

func (w *Writer) fail(path, format string, a ...any) error {
	err := formatErr(w.off, path, format, a...)
	if w.err == nil {
		w.err = err
	}
	return err
}

// CarriesType reports whether an archive with features f holds entries of
// the file type t (ModeType bits): symlinks, devices, fifos and sockets need
// their With* bit; regular files and directories are always archived.
func (f Features) CarriesType(t uint32) bool {
	switch t & ModeType {
	case ModeRegular, ModeDir:
		return true
	case ModeSymlink:
		return f&WithSymlinks != 0
	case ModeChar, ModeBlock:
		return f&WithDeviceNodes != 0
	case ModeFIFO:
		return f&WithFIFOs != 0
	case ModeSocket:
		return f&WithSockets != 0
	}
	return false
}

// WriteEntry writes e's records: ENTRY and its metadata, then SYMLINK or
// DEVICE, or the PAYLOAD header (the contents follow through Write), or
// nothing yet for a directory (its children follow; its GOODBYE is written
// when it is closed). It returns a *FormatError when e is out of order, has
// an invalid name, a type or id the archive cannot hold, or the previous
// payload is incomplete.
func (w *Writer) WriteEntry(e *Entry) error {
	if w.err != nil {
		return w.err
	}
	if w.payload != 0 {
		return w.fail(w.path, "payload short by %d bytes before the next entry %q", w.payload, e.Path)
	}
	if !w.valid {
		return w.fail(e.Path, "feature flags %#x are not valid (unknown bits or not normalized)", uint64(w.f))
	}
	if !w.f.CarriesType(e.Type()) {
		return w.fail(e.Path, "file type %#o not carried by the archive's features (or unknown)", e.Type())
	}
	if !w.root {
		if e.Path != "" {
			return w.fail(e.Path, "first entry must be the root directory (path \"\")")
		}
		if !e.IsDir() {
			return w.fail(e.Path, "archive root must be a directory")
		}
		w.root = true
	} else {
		if e.Path == "" {
			return w.fail(e.Path, "root directory written twice")
		}
		if e.Path[0] == '/' {
			return w.fail(e.Path, "absolute path")
		}
		parent, name := splitPath(e.Path)
		if err := validName(name); err != "" {
			return w.fail(e.Path, "invalid name: %s", err)
		}
		// Close the directories e is not below.
		for len(w.dirs) > 0 {
			d := w.dirs[len(w.dirs)-1]
			if d.path == "" || strings.HasPrefix(e.Path, d.path+"/") {
				break
			}
			if err := w.closeDir(); err != nil {
				return err
			}
		}
		if len(w.dirs) == 0 {
			return w.fail(e.Path, "entry after the archive root was closed")
		}
		d := w.dirs[len(w.dirs)-1]
		if d.path != parent {
			return w.fail(e.Path, "parent directory %q not written (or closed) before this entry", parent)
		}
		if len(d.items) > 0 && name <= d.last {
			return w.fail(e.Path, "name not after its previous sibling %q in strcmp order", d.last)
		}
		d.last = name
		d.items = append(d.items, item{hash: nameHash(name), off: w.off})
		w.buf = appendHeader(w.buf[:0], uint64(headerSize+len(name)+1), typeFilename)
		w.buf = append(append(w.buf, name...), 0)
	}
	entryOff := w.off + int64(len(w.buf))
	if err := w.appendMetadata(e); err != nil {
		return err
	}
	switch e.Type() {
	case ModeRegular:
		if e.Size < 0 {
			return w.fail(e.Path, "negative size %d", e.Size)
		}
		w.buf = appendHeader(w.buf, uint64(headerSize)+uint64(e.Size), typePayload)
		w.payload = e.Size
		w.path = e.Path
	case ModeSymlink:
		if e.Target == "" || len(e.Target) > 4095 || strings.IndexByte(e.Target, 0) >= 0 {
			return w.fail(e.Path, "invalid symlink target (empty, longer than 4095 bytes or with a NUL)")
		}
		w.buf = appendHeader(w.buf, uint64(headerSize+len(e.Target)+1), typeSymlink)
		w.buf = append(append(w.buf, e.Target...), 0)
	case ModeChar, ModeBlock:
		if e.DevMajor >= 1<<12 || e.DevMinor >= 1<<20 {
			return w.fail(e.Path, "device number %d:%d out of range", e.DevMajor, e.DevMinor)
		}
		w.buf = appendHeader(w.buf, 32, typeDevice)
		w.buf = le64(le64(w.buf, e.DevMajor), e.DevMinor)
	case ModeDir:
		w.dirs = append(w.dirs, &openDir{path: e.Path, entryOff: entryOff})
	}
	return w.emit(w.buf)
}

// appendMetadata appends ENTRY and the metadata records of e to w.buf,
// applying the archive's features.
func (w *Writer) appendMetadata(e *Entry) error {
	f := w.f
	typ := e.Type()
	var mode uint64
	switch {
	case typ == ModeSymlink:
		mode = uint64(ModeSymlink | 0o777)
	case f&(WithPermissions|WithACL) != 0:
		mode = uint64(e.Mode & (ModeType | ModePerm))
	case f&WithReadOnly != 0:
		full := uint32(0o666)
		if typ == ModeDir {
			full = 0o777
		}
		if e.Mode&0o222 == 0 {
			full &^= 0o222
		}
		mode = uint64(typ | full)
	default:
		if typ == ModeDir {
			mode = uint64(typ | 0o777)
		} else {
			mode = uint64(typ | 0o666)
		}
	}
	var flags uint64
	if typ == ModeRegular || typ == ModeDir {
		flags = e.Flags & uint64(f&(WithFATAttrs|WithChattr|WithSubvolume|WithSubvolumeRO))
	}
	var uid, gid uint64
	if f&(With16BitUIDs|With32BitUIDs) != 0 {
		uid, gid = uint64(e.UID), uint64(e.GID)
		if f&With16BitUIDs != 0 && (uid > 0xffff || gid > 0xffff) {
			return w.fail(e.Path, "uid %d or gid %d does not fit the archive's 16-bit ids", uid, gid)
		}
	}
	var mtime uint64
	if g := f.TimeGranularity(); g > 0 {
		t := e.MTime
		r := t % g
		if r < 0 {
			r += g
		}
		mtime = uint64(t - r)
	}
	b := appendHeader(w.buf, entrySize, typeEntry)
	b = le64(b, uint64(f))
	b = le64(b, mode)
	b = le64(b, flags)
	b = le64(b, uid)
	b = le64(b, gid)
	b = le64(b, mtime)

	if f&WithUserNames != 0 {
		if e.User != "" && e.UID != 0 {
			if !ValidUserName(e.User) {
				return w.fail(e.Path, "invalid user name %q", e.User)
			}
			b = appendString(b, typeUser, e.User)
		}
		if e.Group != "" && e.GID != 0 {
			if !ValidUserName(e.Group) {
				return w.fail(e.Path, "invalid group name %q", e.Group)
			}
			b = appendString(b, typeGroup, e.Group)
		}
	}
	if f&WithXattrs != 0 && len(e.Xattrs) > 0 {
		xs := e.Xattrs
		if !slices.IsSortedFunc(xs, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) }) {
			xs = slices.Clone(xs)
			slices.SortStableFunc(xs, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
		}
		for i, x := range xs {
			if x.Name == "" || len(x.Name) > 255 || strings.IndexByte(x.Name, 0) >= 0 || strings.IndexByte(x.Name, '.') < 0 {
				return w.fail(e.Path, "invalid xattr name %q", x.Name)
			}
			if i > 0 && xs[i-1].Name == x.Name {
				return w.fail(e.Path, "duplicate xattr %q", x.Name)
			}
			b = appendHeader(b, uint64(headerSize+len(x.Name)+1+len(x.Value)), typeXattr)
			b = append(append(append(b, x.Name...), 0), x.Value...)
		}
	}
	if f&WithACL != 0 {
		names := f&WithUserNames != 0
		a := &e.ACL
		b = appendACLEntries(b, typeACLUser, a.User, names)
		b = appendACLEntries(b, typeACLGroup, a.Group, names)
		if a.HasGroupObj {
			b = le64(appendHeader(b, 24, typeACLGroupObj), a.GroupObj)
		}
		if d := a.Default; d != nil && typ == ModeDir {
			b = appendHeader(b, 48, typeACLDefault)
			b = le64(le64(le64(le64(b, d.UserObj), d.GroupObj), d.Other), d.Mask)
			b = appendACLEntries(b, typeACLDefaultUser, d.User, names)
			b = appendACLEntries(b, typeACLDefaultGroup, d.Group, names)
		}
	}
	if f&WithSELinux != 0 && e.SELinux != "" {
		b = appendString(b, typeSELinux, e.SELinux)
	}
	if f&WithFcaps != 0 && len(e.FCaps) > 0 && typ == ModeRegular {
		b = appendHeader(b, uint64(headerSize+len(e.FCaps)), typeFCaps)
		b = append(b, e.FCaps...)
	}
	if f&WithQuotaProjID != 0 && e.ProjectID != 0 && (typ == ModeRegular || typ == ModeDir) {
		b = le64(appendHeader(b, 24, typeQuotaProjID), e.ProjectID)
	}
	w.buf = b
	return nil
}

// appendACLEntries appends the named ACL entries in casync's order: by id,
// entries without a name first, then name, then permissions.
func appendACLEntries(b []byte, typ uint64, es []ACLEntry, names bool) []byte {
	if len(es) == 0 {
		return b
	}
	es = slices.Clone(es)
	if !names {
		for i := range es {
			es[i].Name = ""
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, c := es[i], es[j]
		if a.ID != c.ID {
			return a.ID < c.ID
		}
		if (a.Name != "") != (c.Name != "") {
			return a.Name == ""
		}
		if a.Name != c.Name {
			return a.Name < c.Name
		}
		return a.Perm < c.Perm
	})
	for _, x := range es {
		size := 32
		if x.Name != "" {
			size += len(x.Name) + 1
		}
		b = le64(le64(appendHeader(b, uint64(size), typ), uint64(x.ID)), x.Perm)
		if x.Name != "" {
			b = append(append(b, x.Name...), 0)
		}
	}
	return b
}

// Write writes payload bytes of the last regular entry; more than its Size
// is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if int64(len(p)) > w.payload {
		return 0, w.fail(w.path, "payload longer than the entry's size (%d bytes more than expected)", int64(len(p))-w.payload)
	}
	n, err := w.w.Write(p)
	w.off += int64(n)
	w.payload -= int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// ReadFrom copies a regular entry's payload from r: exactly the remaining
// payload bytes, an error if r ends early.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	var total int64
	for w.payload > 0 {
		if w.w.Available() == 0 {
			if err := w.w.Flush(); err != nil {
				w.err = err
				return total, err
			}
		}
		buf := w.w.AvailableBuffer()
		buf = buf[:min(int64(cap(buf)), w.payload)]
		n, err := r.Read(buf)
		if n > 0 {
			w.w.Write(buf[:n]) // copies within its own buffer, cannot fail before a flush
			w.off += int64(n)
			w.payload -= int64(n)
			total += int64(n)
		}
		if err == io.EOF {
			if w.payload > 0 {
				return total, w.fail(w.path, "payload short by %d bytes", w.payload)
			}
			break
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// skipPayload counts the whole payload of the last regular entry as
// written without writing it: the output then holds only the metadata, for
// a TreeImage, which reads payloads from the files themselves.
func (w *Writer) skipPayload() error {
	if w.err != nil {
		return w.err
	}
	w.off += w.payload
	w.payload = 0
	return nil
}

// closeDir writes the GOODBYE of the innermost open directory.
func (w *Writer) closeDir() error {
	d := w.dirs[len(w.dirs)-1]
	w.dirs = w.dirs[:len(w.dirs)-1]
	n := len(d.items)
	size := uint64(headerSize + goodbyeItemSize*(n+1))
	gb := w.off
	// Item sizes follow from the FILENAME offsets (children are contiguous).
	sorted := append(w.scratch[:0], d.items...)
	w.scratch = sorted
	slices.SortFunc(sorted, func(a, b item) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return cmp.Compare(a.off, b.off)
	})
	b := appendHeader(w.buf[:0], size, typeGoodbye)
	start := len(b)
	b = append(b, make([]byte, goodbyeItemSize*n)...)
	k := 0
	var fill func(i int)
	fill = func(i int) {
		if i >= n {
			return
		}
		fill(2*i + 1)
		it := sorted[k]
		k++
		end := gb
		if j, ok := slices.BinarySearchFunc(d.items, it.off, func(x item, off int64) int { return cmp.Compare(x.off, off) }); ok && j+1 < len(d.items) {
			end = d.items[j+1].off
		}
		p := b[start+goodbyeItemSize*i:]
		binary.LittleEndian.PutUint64(p, uint64(gb-it.off))
		binary.LittleEndian.PutUint64(p[8:], uint64(end-it.off))
		binary.LittleEndian.PutUint64(p[16:], it.hash)
		fill(2*i + 2)
	}
	fill(0)
	b = le64(le64(le64(b, uint64(gb-d.entryOff)), size), goodbyeTailMarker)
	w.buf = b
	return w.emit(b)
}

// Close checks the last payload is complete, writes the GOODBYE of every
// open directory and flushes the buffered output. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.payload != 0 {
		return w.fail(w.path, "payload short by %d bytes at close", w.payload)
	}
	if !w.root {
		return w.fail("", "archive without a root directory")
	}
	for len(w.dirs) > 0 {
		if err := w.closeDir(); err != nil {
			return err
		}
	}
	if err := w.w.Flush(); err != nil {
		w.err = err
		return err
	}
	w.err = formatErr(w.off, "", "writer closed")
	return nil
}

func (w *Writer) emit(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = err
	}
	return err
}

// join returns the archive path of name below the directory rel.
func join(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

func splitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// validName returns why name cannot be an archive entry name, or "".
func validName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case name == "." || name == "..":
		return "\".\" or \"..\""
	case strings.IndexByte(name, 0) >= 0:
		return "NUL byte in name"
	}
	return ""
}

// ValidUserName reports whether s can be a USER/GROUP record: casync's
// [A-Za-z_][A-Za-z0-9_-]*, at most 255 bytes, not "root" and not "0".
func ValidUserName(s string) bool {
	if s == "" || len(s) > maxNameLen || s == "root" || s == "0" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func appendHeader(b []byte, size, typ uint64) []byte { return le64(le64(b, size), typ) }

func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func appendString(b []byte, typ uint64, s string) []byte {
	b = appendHeader(b, uint64(headerSize+len(s)+1), typ)
	return append(append(b, s...), 0)
}
