package catar

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Limits the Reader enforces before allocating anything for a record, so a
// hostile stream cannot make it allocate absurd amounts.
const (
	maxNameLen     = 255       // FILENAME, xattr names, user and group names
	maxTargetLen   = 4095      // SYMLINK target (PATH_MAX - 1)
	maxXattrValue  = 64 << 10  // XATTR value (the Linux limit)
	maxFCapsLen    = 1024      // FCAPS (a vfs_cap_data is 20 or 24 bytes)
	maxSELinuxLen  = 4096      // SELINUX label
	maxDepth       = 4096      // nested directories
	maxPathLen     = 64 << 10  // full path of an entry below the root
	readBufferSize = 256 << 10 // bufio buffer of the Reader
)

// Reader decodes a .catar stream into entries, in one sequential pass. It
// validates the stream as casync's decoder does (format description §5.4):
// ENTRY records, names and their order, every goodbye table in full, and the
// end of the stream after the root directory's GOODBYE. Memory is bounded by
// the depth of the tree and the width of the open directories (for each
// child of an open directory it keeps the offset, size and name hash its
// goodbye table must list).
//
// Every error it returns, io.EOF at the end aside, is a *FormatError naming
// the offset and entry; a stream that ends early gives one wrapping
// io.ErrUnexpectedEOF. Errors are sticky.
type Reader struct {
	br  *bufio.Reader
	off int64 // stream offset of the next unread byte

	features Features
	started  bool
	err      error // sticky: returned by every later Next

	stack []dirFrame
	path  []byte // path of the current entry; frames keep prefix lengths

	cur       *Entry
	curOff    int64
	remaining int64 // payload bytes of the current regular file not yet read
	payOff    int64 // stream offset of the current regular file's payload

	pending    bool // pendHdr was read but belongs to the next step
	pendHdr    recHeader
	buf        [64]byte
	childOrder []gbChild // scratch for the goodbye check
}

// dirFrame is an open directory: what its goodbye table must list.
type dirFrame struct {
	pathLen  int   // length of the directory's path in Reader.path
	entryOff int64 // offset of the directory's ENTRY record
	children []gbChild
	lastName string
	seen     map[uint64]struct{} // child name hashes, once the names are out of strcmp order
}

// duplicate reports whether name (whose goodbye hash is hash) is already a
// child of the directory. casync and we write children in strcmp order,
// where a duplicate can only follow its twin; the original desync writes a
// tar's entries in the tar's order, which casync reads too. Once the order
// breaks, the hashes of the children seen are kept in a set: an equal hash
// is a duplicate (or a SipHash collision, refused as well).
func (d *dirFrame) duplicate(name string, hash uint64) bool {
	if d.seen == nil && name > d.lastName {
		return false
	}
	if d.seen == nil {
		if name == d.lastName {
			return true
		}
		d.seen = make(map[uint64]struct{}, len(d.children))
		for _, c := range d.children {
			d.seen[c.hash] = struct{}{}
		}
	}
	if _, ok := d.seen[hash]; ok {
		return true
	}
	d.seen[hash] = struct{}{}
	return false
}

// gbChild is one expected goodbye item: where the child's FILENAME starts,
// how long its serialization is and the hash of its name.
type gbChild struct {
	start int64
	size  int64
	hash  uint64
}

// recHeader is the size and type of a record, and its offset.
type recHeader struct {
	off  int64
	size uint64
	typ  uint64
}

// NewReader returns a Reader decoding the archive stream r from its start.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize)}
}

// Features returns the archive's feature flags, known after the first Next.
func (r *Reader) Features() Features { return r.features }

// Offset returns the stream offset of the current entry's ENTRY record.
func (r *Reader) Offset() int64 { return r.curOff }

// PayloadOffset returns the stream offset of the current regular file's
// payload (its first byte, after the PAYLOAD record's header).
func (r *Reader) PayloadOffset() int64 { return r.payOff }

// Next advances to the next entry of the archive, in the archive's order
// (pre-order, children in strcmp order as casync writes them, or in the
// order of the tar they came from for the original desync's tar), skipping what remains of the
// previous regular file's payload. The first entry is the root directory,
// with Path "". Next returns io.EOF after the root directory's GOODBYE when
// nothing follows it.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.next()
	if err != nil {
		r.err = err
		r.cur = nil
		return nil, err
	}
	r.cur = e
	return e, nil
}

// Read reads the payload of the current entry when it is a regular file;
// io.EOF at its end (and for other entries).
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	if r.cur == nil || r.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.br.Read(p)
	r.off += int64(n)
	r.remaining -= int64(n)
	if err != nil && r.remaining > 0 {
		err = readErr(err, r.off, r.cur.Path, "PAYLOAD")
		r.err = err
		return n, err
	}
	return n, nil
}

func (r *Reader) next() (*Entry, error) {
	if r.remaining > 0 {
		path := ""
		if r.cur != nil {
			path = r.cur.Path
		}
		n, err := r.br.Discard(int(min(r.remaining, math.MaxInt)))
		r.off += int64(n)
		r.remaining -= int64(n)
		for err == nil && r.remaining > 0 {
			n, err = r.br.Discard(int(min(r.remaining, math.MaxInt)))
			r.off += int64(n)
			r.remaining -= int64(n)
		}
		if err != nil {
			return nil, readErr(err, r.off, path, "PAYLOAD")
		}
	}
	if !r.started {
		r.started = true
		e, err := r.readEntry()
		if err != nil {
			return nil, err
		}
		if !e.IsDir() {
			return nil, formatErr(0, "", "the archive root is not a directory (mode %#o)", e.Mode)
		}
		return e, nil
	}
	for len(r.stack) > 0 {
		top := &r.stack[len(r.stack)-1]
		dirPath := string(r.path[:top.pathLen])
		h, err := r.nextHeader(dirPath, "FILENAME or GOODBYE")
		if err != nil {
			return nil, err
		}
		switch h.typ {
		case typeFilename:
			name, err := r.readFilename(h, dirPath)
			if err != nil {
				return nil, err
			}
			hash := nameHash(name)
			if n := len(top.children); n > 0 {
				if top.duplicate(name, hash) {
					return nil, formatErr(h.off, joinPath(dirPath, name), "duplicate name in directory")
				}
				top.children[n-1].size = h.off - top.children[n-1].start
			}
			top.children = append(top.children, gbChild{start: h.off, hash: hash})
			top.lastName = name
			r.path = r.path[:top.pathLen]
			if top.pathLen > 0 {
				r.path = append(r.path, '/')
			}
			r.path = append(r.path, name...)
			if len(r.path) > maxPathLen {
				return nil, formatErr(h.off, dirPath, "path longer than %d bytes", maxPathLen)
			}
			return r.readEntry()
		case typeGoodbye:
			if err := r.checkGoodbye(h, top, dirPath); err != nil {
				return nil, err
			}
			r.stack = r.stack[:len(r.stack)-1]
		default:
			return nil, formatErr(h.off, dirPath, "unexpected %s record where a FILENAME or GOODBYE must follow", typeName(h.typ))
		}
	}
	// The root's GOODBYE was the last record: nothing may follow.
	if _, err := r.br.ReadByte(); err == nil {
		return nil, formatErr(r.off, "", "trailing data after the root directory's GOODBYE")
	} else if err != io.EOF {
		return nil, readErr(err, r.off, "", "end of archive")
	}
	return nil, io.EOF
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// readFull reads exactly len(p) bytes of the record being decoded.
func (r *Reader) readFull(p []byte, path, what string) error {
	n, err := io.ReadFull(r.br, p)
	r.off += int64(n)
	if err != nil {
		return readErr(err, r.off, path, what)
	}
	return nil
}

// nextHeader returns the pending header or reads the next one.
func (r *Reader) nextHeader(path, what string) (recHeader, error) {
	if r.pending {
		r.pending = false
		return r.pendHdr, nil
	}
	h := recHeader{off: r.off}
	if err := r.readFull(r.buf[:headerSize], path, what); err != nil {
		return h, err
	}
	h.size = binary.LittleEndian.Uint64(r.buf[0:])
	h.typ = binary.LittleEndian.Uint64(r.buf[8:])
	if h.size < headerSize {
		return h, formatErr(h.off, path, "%s record size %d is smaller than its header", typeName(h.typ), h.size)
	}
	return h, nil
}

// readBody reads the body of h into a buffer after checking its size
// against [minBody, maxBody].
func (r *Reader) readBody(h recHeader, path string, minBody, maxBody uint64) ([]byte, error) {
	body := h.size - headerSize
	if body < minBody || body > maxBody {
		if minBody == maxBody {
			return nil, formatErr(h.off, path, "%s record size %d, want %d", typeName(h.typ), h.size, minBody+headerSize)
		}
		return nil, formatErr(h.off, path, "%s record size %d out of range [%d, %d]", typeName(h.typ), h.size, minBody+headerSize, maxBody+headerSize)
	}
	var b []byte
	if body <= uint64(len(r.buf)) {
		b = r.buf[:body]
	} else {
		b = make([]byte, body)
	}
	if err := r.readFull(b, path, typeName(h.typ)); err != nil {
		return nil, err
	}
	return b, nil
}

// cString returns the NUL-terminated string filling b, refusing an interior
// NUL or a missing terminator.
func cString(b []byte) (string, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return "", false
	}
	s := b[:len(b)-1]
	for _, c := range s {
		if c == 0 {
			return "", false
		}
	}
	return string(s), true
}

func (r *Reader) readFilename(h recHeader, dirPath string) (string, error) {
	b, err := r.readBody(h, dirPath, 2, maxNameLen+1)
	if err != nil {
		return "", err
	}
	name, ok := cString(b)
	if !ok {
		return "", formatErr(h.off, dirPath, "FILENAME is not a NUL-terminated name")
	}
	if name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return "", formatErr(h.off, joinPath(dirPath, name), "invalid file name %q", name)
	}
	return name, nil
}

// Metadata records, in the order they must appear after an ENTRY.
var metaRank = map[uint64]int{
	typeUser: 1, typeGroup: 2, typeXattr: 3, typeACLUser: 4, typeACLGroup: 5,
	typeACLGroupObj: 6, typeACLDefault: 7, typeACLDefaultUser: 8, typeACLDefaultGroup: 9,
	typeSELinux: 10, typeFCaps: 11, typeQuotaProjID: 12,
}

// metaRepeats are the metadata records that may appear more than once.
func metaRepeats(t uint64) bool {
	switch t {
	case typeXattr, typeACLUser, typeACLGroup, typeACLDefaultUser, typeACLDefaultGroup:
		return true
	}
	return false
}

// metaFeature is the feature an archive must have to carry a metadata record.
func metaFeature(t uint64) Features {
	switch t {
	case typeUser, typeGroup:
		return WithUserNames
	case typeXattr:
		return WithXattrs
	case typeSELinux:
		return WithSELinux
	case typeFCaps:
		return WithFcaps
	case typeQuotaProjID:
		return WithQuotaProjID
	}
	return WithACL
}

// readEntry reads an ENTRY record at the current position and everything
// that belongs to the object up to its children (directories) or its end.
func (r *Reader) readEntry() (*Entry, error) {
	path := string(r.path)
	h, err := r.nextHeader(path, "ENTRY")
	if err != nil {
		return nil, err
	}
	if h.typ != typeEntry {
		return nil, formatErr(h.off, path, "unexpected %s record where an ENTRY must follow", typeName(h.typ))
	}
	if h.size != entrySize {
		return nil, formatErr(h.off, path, "ENTRY record size %d, want %d", h.size, entrySize)
	}
	b := r.buf[:entrySize-headerSize]
	if err := r.readFull(b, path, "ENTRY"); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	feat := Features(le.Uint64(b[0:]))
	mode, flags := le.Uint64(b[8:]), le.Uint64(b[16:])
	uid, gid, mtime := le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	if h.off == 0 {
		if !feat.Valid() {
			return nil, formatErr(h.off, path, "invalid feature flags %#x (unknown bits or not normalized)", uint64(feat))
		}
		r.features = feat
	} else if feat != r.features {
		return nil, formatErr(h.off, path, "feature flags %#x differ from the archive's %#x", uint64(feat), uint64(r.features))
	}
	if err := r.checkEntry(h.off, path, mode, flags, uid, gid, mtime); err != nil {
		return nil, err
	}
	e := &Entry{Path: path, Mode: uint32(mode), Flags: flags, UID: uint32(uid), GID: uint32(gid), MTime: int64(mtime)}
	r.curOff = h.off
	rank := 0
	var lastRec uint64
	for {
		h, err := r.nextHeader(path, "record after ENTRY")
		if err != nil {
			return nil, err
		}
		if mr, ok := metaRank[h.typ]; ok {
			if mr < rank || (mr == rank && !metaRepeats(h.typ)) {
				return nil, formatErr(h.off, path, "%s record out of place after %s", typeName(h.typ), typeName(lastRec))
			}
			if need := metaFeature(h.typ); r.features&need == 0 {
				return nil, formatErr(h.off, path, "%s record in an archive without the %v feature", typeName(h.typ), need)
			}
			rank, lastRec = mr, h.typ
			if err := r.readMeta(h, e); err != nil {
				return nil, err
			}
			continue
		}
		switch h.typ {
		case typePayload:
			if !e.IsRegular() {
				return nil, formatErr(h.off, path, "PAYLOAD record for a non-regular entry (mode %#o)", e.Mode)
			}
			if h.size-headerSize > math.MaxInt64 {
				return nil, formatErr(h.off, path, "PAYLOAD size %d too large", h.size)
			}
			e.Size = int64(h.size - headerSize)
			r.remaining, r.payOff = e.Size, r.off
			return e, nil
		case typeSymlink:
			if e.Type() != ModeSymlink {
				return nil, formatErr(h.off, path, "SYMLINK record for a non-symlink entry (mode %#o)", e.Mode)
			}
			b, err := r.readBody(h, path, 2, maxTargetLen+1)
			if err != nil {
				return nil, err
			}
			t, ok := cString(b)
			if !ok {
				return nil, formatErr(h.off, path, "SYMLINK target is not NUL-terminated or holds a NUL")
			}
			e.Target = t
			return e, nil
		case typeDevice:
			if t := e.Type(); t != ModeChar && t != ModeBlock {
				return nil, formatErr(h.off, path, "DEVICE record for a non-device entry (mode %#o)", e.Mode)
			}
			b, err := r.readBody(h, path, 16, 16)
			if err != nil {
				return nil, err
			}
			e.DevMajor, e.DevMinor = le.Uint64(b[0:]), le.Uint64(b[8:])
			if e.DevMajor >= 1<<12 || e.DevMinor >= 1<<20 {
				return nil, formatErr(h.off, path, "device number %d:%d out of range", e.DevMajor, e.DevMinor)
			}
			return e, nil
		}
		switch e.Type() {
		case ModeDir:
			if len(r.stack) >= maxDepth {
				return nil, formatErr(h.off, path, "directories nested deeper than %d", maxDepth)
			}
			r.stack = append(r.stack, dirFrame{pathLen: len(r.path), entryOff: r.curOff})
		case ModeFIFO, ModeSocket:
		case ModeRegular:
			return nil, formatErr(h.off, path, "regular file without a PAYLOAD record (found %s)", typeName(h.typ))
		case ModeSymlink:
			return nil, formatErr(h.off, path, "symlink without a SYMLINK record (found %s)", typeName(h.typ))
		default:
			return nil, formatErr(h.off, path, "device without a DEVICE record (found %s)", typeName(h.typ))
		}
		r.pending, r.pendHdr = true, h
		return e, nil
	}
}

// checkEntry validates the numbers of an ENTRY against the archive's features.
func (r *Reader) checkEntry(off int64, path string, mode, flags, uid, gid, mtime uint64) error {
	f := r.features
	if mode&^uint64(ModeType|ModePerm) != 0 {
		return formatErr(off, path, "mode %#o has bits outside the file type and permissions", mode)
	}
	typ := uint32(mode) & ModeType
	var need Features
	switch typ {
	case ModeDir, ModeRegular:
	case ModeSymlink:
		need = WithSymlinks
		if uint32(mode)&ModePerm != 0o777 {
			return formatErr(off, path, "symlink mode %#o, want 0777", mode&uint64(ModePerm))
		}
	case ModeChar, ModeBlock:
		need = WithDeviceNodes
	case ModeFIFO:
		need = WithFIFOs
	case ModeSocket:
		need = WithSockets
	default:
		return formatErr(off, path, "mode %#o has an invalid file type", mode)
	}
	if need != 0 && f&need == 0 {
		return formatErr(off, path, "mode %#o: file type not allowed without the %v feature", mode, need)
	}
	allowed := uint64(f & (WithFATAttrs | WithChattr | WithSubvolume | WithSubvolumeRO))
	if typ != ModeDir && typ != ModeRegular {
		allowed = 0
	}
	if flags&^allowed != 0 {
		return formatErr(off, path, "flags %#x outside what the archive's features allow (%#x)", flags, allowed)
	}
	for _, id := range []uint64{uid, gid} {
		if !validID(id, f) {
			return formatErr(off, path, "uid/gid %d not valid with the archive's features", id)
		}
	}
	g := f.TimeGranularity()
	switch {
	case mtime > math.MaxInt64:
		return formatErr(off, path, "mtime %d out of range", mtime)
	case g == 0 && mtime != 0:
		return formatErr(off, path, "mtime %d in an archive without times", mtime)
	case g > 0 && mtime%uint64(g) != 0:
		return formatErr(off, path, "mtime %d is not a multiple of the archive's granularity %d ns", mtime, g)
	}
	return nil
}

func validID(id uint64, f Features) bool {
	switch {
	case f&With32BitUIDs != 0:
		return id < 1<<32-1 && id != 65535
	case f&With16BitUIDs != 0:
		return id < 65535
	}
	return id == 0
}

// readMeta decodes one metadata record into e.
func (r *Reader) readMeta(h recHeader, e *Entry) error {
	path := e.Path
	le := binary.LittleEndian
	switch h.typ {
	case typeUser, typeGroup:
		b, err := r.readBody(h, path, 2, maxNameLen+1)
		if err != nil {
			return err
		}
		s, ok := cString(b)
		if !ok || !ValidUserName(s) {
			return formatErr(h.off, path, "invalid %s name %q", typeName(h.typ), strings.TrimRight(string(b), "\x00"))
		}
		if h.typ == typeUser {
			e.User = s
		} else {
			e.Group = s
		}
	case typeXattr:
		b, err := r.readBody(h, path, 2, maxNameLen+1+maxXattrValue)
		if err != nil {
			return err
		}
		i := indexNUL(b)
		if i <= 0 || i > maxNameLen || uint64(len(b)-i-1) > maxXattrValue {
			return formatErr(h.off, path, "XATTR record without a valid name")
		}
		name := string(b[:i])
		if strings.IndexByte(name, '.') < 0 {
			return formatErr(h.off, path, "xattr name %q has no namespace", name)
		}
		if n := len(e.Xattrs); n > 0 && name <= e.Xattrs[n-1].Name {
			return formatErr(h.off, path, "xattr %q duplicate or out of order after %q", name, e.Xattrs[n-1].Name)
		}
		e.Xattrs = append(e.Xattrs, Xattr{Name: name, Value: append([]byte{}, b[i+1:]...)})
	case typeACLUser, typeACLGroup, typeACLDefaultUser, typeACLDefaultGroup:
		b, err := r.readBody(h, path, 16, 16+maxNameLen+1)
		if err != nil {
			return err
		}
		id, perm := le.Uint64(b[0:]), le.Uint64(b[8:])
		if id >= 1<<32-1 || perm&^7 != 0 {
			return formatErr(h.off, path, "%s record with id %d permissions %#x out of range", typeName(h.typ), id, perm)
		}
		ae := ACLEntry{ID: uint32(id), Perm: perm}
		if len(b) > 16 {
			s, ok := cString(b[16:])
			if !ok || !ValidUserName(s) {
				return formatErr(h.off, path, "%s record with an invalid name", typeName(h.typ))
			}
			ae.Name = s
		}
		a := &e.ACL
		switch h.typ {
		case typeACLUser:
			a.User = append(a.User, ae)
		case typeACLGroup:
			a.Group = append(a.Group, ae)
		case typeACLDefaultUser:
			if a.Default == nil {
				return formatErr(h.off, path, "ACL_DEFAULT_USER without ACL_DEFAULT")
			}
			a.Default.User = append(a.Default.User, ae)
		default:
			if a.Default == nil {
				return formatErr(h.off, path, "ACL_DEFAULT_GROUP without ACL_DEFAULT")
			}
			a.Default.Group = append(a.Default.Group, ae)
		}
	case typeACLGroupObj:
		b, err := r.readBody(h, path, 8, 8)
		if err != nil {
			return err
		}
		perm := le.Uint64(b)
		if perm&^7 != 0 {
			return formatErr(h.off, path, "ACL_GROUP_OBJ permissions %#x out of range", perm)
		}
		e.ACL.GroupObj, e.ACL.HasGroupObj = perm, true
	case typeACLDefault:
		if !e.IsDir() {
			return formatErr(h.off, path, "ACL_DEFAULT record for a non-directory")
		}
		b, err := r.readBody(h, path, 32, 32)
		if err != nil {
			return err
		}
		d := &DefaultACL{UserObj: le.Uint64(b[0:]), GroupObj: le.Uint64(b[8:]), Other: le.Uint64(b[16:]), Mask: le.Uint64(b[24:])}
		for _, p := range []uint64{d.UserObj, d.GroupObj, d.Other, d.Mask} {
			if p != ACLPermNone && p&^7 != 0 {
				return formatErr(h.off, path, "ACL_DEFAULT permissions %#x out of range", p)
			}
		}
		e.ACL.Default = d
	case typeSELinux:
		b, err := r.readBody(h, path, 2, maxSELinuxLen+1)
		if err != nil {
			return err
		}
		s, ok := cString(b)
		if !ok {
			return formatErr(h.off, path, "SELINUX label is not NUL-terminated or holds a NUL")
		}
		e.SELinux = s
	case typeFCaps:
		b, err := r.readBody(h, path, 1, maxFCapsLen)
		if err != nil {
			return err
		}
		e.FCaps = append([]byte{}, b...)
	case typeQuotaProjID:
		b, err := r.readBody(h, path, 8, 8)
		if err != nil {
			return err
		}
		e.ProjectID = le.Uint64(b)
		if e.ProjectID == 0 || e.ProjectID >= 1<<32 {
			return formatErr(h.off, path, "QUOTA_PROJID %d out of range", e.ProjectID)
		}
	}
	return nil
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// checkGoodbye reads the GOODBYE record h of the directory top and checks
// it item by item against the table its children call for.
func (r *Reader) checkGoodbye(h recHeader, top *dirFrame, dirPath string) error {
	n := len(top.children)
	if n > 0 {
		top.children[n-1].size = h.off - top.children[n-1].start
	}
	want := headerSize + uint64(n+1)*goodbyeItemSize
	if h.size != want {
		if h.size < headerSize+goodbyeItemSize || (h.size-headerSize)%goodbyeItemSize != 0 {
			return formatErr(h.off, dirPath, "GOODBYE record size %d is not a table size (want %d for %d children)", h.size, want, n)
		}
		return formatErr(h.off, dirPath, "GOODBYE table has %d items, the directory has %d children", (h.size-headerSize)/goodbyeItemSize-1, n)
	}
	order := append(r.childOrder[:0], top.children...)
	sort.Slice(order, func(i, j int) bool {
		if order[i].hash != order[j].hash {
			return order[i].hash < order[j].hash
		}
		return order[i].start < order[j].start
	})
	table := make([]gbChild, n)
	k := 0
	eytzinger(order, table, 0, &k)
	r.childOrder = order[:0]
	le := binary.LittleEndian
	item := r.buf[:goodbyeItemSize]
	for i := 0; i < n; i++ {
		if err := r.readFull(item, dirPath, "GOODBYE"); err != nil {
			return err
		}
		off, size, hash := le.Uint64(item[0:]), le.Uint64(item[8:]), le.Uint64(item[16:])
		c := table[i]
		if off != uint64(h.off-c.start) || size != uint64(c.size) || hash != c.hash {
			return formatErr(h.off, dirPath, "GOODBYE item %d is {offset %d, size %d, hash %#x}, want {%d, %d, %#x}", i, off, size, hash, h.off-c.start, c.size, c.hash)
		}
	}
	if err := r.readFull(item, dirPath, "GOODBYE"); err != nil {
		return err
	}
	eo, size, marker := le.Uint64(item[0:]), le.Uint64(item[8:]), le.Uint64(item[16:])
	if marker != goodbyeTailMarker {
		return formatErr(h.off, dirPath, "GOODBYE tail marker %#x, want %#x", marker, goodbyeTailMarker)
	}
	if size != h.size {
		return formatErr(h.off, dirPath, "GOODBYE tail size %d, record size %d", size, h.size)
	}
	if eo != uint64(h.off-top.entryOff) {
		return formatErr(h.off, dirPath, "GOODBYE tail entry offset %d, want %d", eo, h.off-top.entryOff)
	}
	return nil
}

// eytzinger lays sorted out as a complete binary search tree in array form
// (children of i at 2i+1 and 2i+2): an in-order walk of the indexes visits
// the sorted items in order.
func eytzinger(sorted, table []gbChild, i int, k *int) {
	if i >= len(table) {
		return
	}
	eytzinger(sorted, table, 2*i+1, k)
	table[i] = sorted[*k]
	*k++
	eytzinger(sorted, table, 2*i+2, k)
}

// typeName names a record type for messages.
func typeName(t uint64) string {
	switch t {
	case typeEntry:
		return "ENTRY"
	case typeUser:
		return "USER"
	case typeGroup:
		return "GROUP"
	case typeXattr:
		return "XATTR"
	case typeACLUser:
		return "ACL_USER"
	case typeACLGroup:
		return "ACL_GROUP"
	case typeACLGroupObj:
		return "ACL_GROUP_OBJ"
	case typeACLDefault:
		return "ACL_DEFAULT"
	case typeACLDefaultUser:
		return "ACL_DEFAULT_USER"
	case typeACLDefaultGroup:
		return "ACL_DEFAULT_GROUP"
	case typeFCaps:
		return "FCAPS"
	case typeQuotaProjID:
		return "QUOTA_PROJID"
	case typeSELinux:
		return "SELINUX"
	case typeSymlink:
		return "SYMLINK"
	case typeDevice:
		return "DEVICE"
	case typePayload:
		return "PAYLOAD"
	case typeFilename:
		return "FILENAME"
	case typeGoodbye:
		return "GOODBYE"
	case 0:
		return "(none)"
	}
	return fmt.Sprintf("unknown (type %#x)", t)
}
