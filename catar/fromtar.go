package catar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
)

// EncodeTar archives the entries of a tar stream (GNU, PAX or ustar, as
// archive/tar reads them) into w as a .catar stream.
//
// A tar lists entries in any order, while an archive needs them in strcmp
// order, so EncodeTar first reads the whole tar: the metadata into memory
// (one Entry per tar entry), the file contents spooled to a temporary file
// (removed before returning). Then it writes the archive from that tree.
//
// What a tar carries, and so what the archive gets: type, permission bits,
// uid/gid and user/group names (names only where valid, never for id 0),
// mtime (nanoseconds with PAX, seconds otherwise), symlink targets, device
// numbers, and PAX SCHILY.xattr.* records: user.* and trusted.* become
// XATTR records, security.capability FCAPS, security.selinux SELINUX and
// system.posix_acl_access/default the ACL records (without names). Chattr
// flags, quota project IDs and sockets do not exist in tar.
//
// Rules: leading "./" and "/"-free relative names only; a name that is
// absolute or has a ".." element is refused with an error naming it, and so
// is an entry below a non-directory. "." (or "./") is the archive root.
// A tar without a root entry ("." or "./") whose entries all lie below one
// top-level directory (tar -c dir) has that directory as the archive root,
// as the original desync makes it, unless TarAddRoot keeps it as a child.
// Directories the tar implies but does not list (and the root, when absent)
// get mode 0755, owner 0:0 and the newest mtime found in the tar. A later
// entry of the same name replaces an earlier one, as tar extraction does. A
// hard link becomes an independent entry with its target's metadata and
// contents (casync's representation of hard links). .caexclude files in the
// tar are honoured when the features have ExcludeFile, as EncodeTree does.
// Entry types other than those above (sparse and contiguous files are read
// as regular files by archive/tar) are left out and counted as skipped.
func EncodeTar(ctx context.Context, w io.Writer, r io.Reader, o EncodeOptions) (EncodeStats, error) {
	spool, err := os.CreateTemp("", "catar-fromtar-*")
	if err != nil {
		return EncodeStats{}, err
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	b := &tarBuilder{root: &tarNode{implied: true, e: Entry{Mode: ModeDir}}, spool: spool, log: o.logger()}
	if err := b.read(ctx, r); err != nil {
		return b.stats, err
	}
	if !o.TarAddRoot {
		b.root = b.root.soleTopDir()
	}
	f := o.features()
	enc := &tarEncoder{ctx: ctx, w: NewWriter(w, f), f: f, spool: spool, stats: b.stats}
	b.fixImplied(b.root)
	err = enc.node(b.root, "", nil)
	if err == nil {
		err = enc.w.Close()
	}
	enc.stats.Size = enc.w.Offset()
	return enc.stats, err
}

type tarNode struct {
	e        Entry
	implied  bool // not listed in the tar
	off      int64
	children map[string]*tarNode
}

// soleTopDir returns the one directory an implied root holds, the root of
// a tar made of one directory (tar -c dir); otherwise the root itself.
func (n *tarNode) soleTopDir() *tarNode {
	if !n.implied || len(n.children) != 1 {
		return n
	}
	for _, c := range n.children {
		if c.e.IsDir() {
			return c
		}
	}
	return n
}

type tarBuilder struct {
	root     *tarNode
	spool    *os.File
	spoolEnd int64
	maxMTime int64
	stats    EncodeStats
	log      *slog.Logger
}

// tarPath turns a tar entry name into an archive path ("" for the root), or
// refuses it.
func tarPath(name string) (string, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("catar: tar entry %q: empty name or NUL byte", name)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("catar: tar entry %q: absolute name refused", name)
	}
	for el := range strings.SplitSeq(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("catar: tar entry %q: \"..\" in name refused", name)
		}
	}
	p := path.Clean(name)
	if p == "." {
		return "", nil
	}
	return p, nil
}

func (b *tarBuilder) read(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("catar: reading tar: %w", err)
		}
		p, err := tarPath(h.Name)
		if err != nil {
			return err
		}
		e := Entry{
			Path:  p,
			Mode:  uint32(h.Mode) & ModePerm,
			UID:   uint32(h.Uid),
			GID:   uint32(h.Gid),
			MTime: h.ModTime.UnixNano(),
		}
		if ValidUserName(h.Uname) {
			e.User = h.Uname
		}
		if ValidUserName(h.Gname) {
			e.Group = h.Gname
		}
		if e.MTime > b.maxMTime {
			b.maxMTime = e.MTime
		}
		n := &tarNode{}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeSymlink, tar.TypeDir, tar.TypeLink, tar.TypeGNUSparse, tar.TypeCont:
		default:
			b.stats.Skipped++
			b.log.Debug("catar: tar entry type left out", "name", h.Name, "type", string(h.Typeflag))
			continue
		}
		if h.Typeflag == tar.TypeLink {
			tp, err := tarPath(h.Linkname)
			if err != nil {
				return fmt.Errorf("catar: hard link %q: target: %w", h.Name, err)
			}
			t := b.lookup(tp)
			if t == nil || !t.e.IsRegular() || tp == p {
				return fmt.Errorf("catar: tar entry %q: hard link to %q, which is not a regular file earlier in the tar", h.Name, h.Linkname)
			}
			n.e, n.off = t.e, t.off
			n.e.Path = p
			if err := b.insert(n, h.Name); err != nil {
				return err
			}
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Mode |= ModeDir
		case tar.TypeSymlink:
			e.Mode |= ModeSymlink
			e.Target = h.Linkname
		case tar.TypeChar, tar.TypeBlock:
			e.Mode |= ModeChar
			if h.Typeflag == tar.TypeBlock {
				e.Mode = e.Mode&^ModeType | ModeBlock
			}
			e.DevMajor, e.DevMinor = uint64(h.Devmajor), uint64(h.Devminor)
		case tar.TypeFifo:
			e.Mode |= ModeFIFO
		default:
			e.Mode |= ModeRegular
			n.off = b.spoolEnd
			c, err := io.CopyBuffer(b.spool, tr, buf)
			if err != nil {
				return fmt.Errorf("catar: tar entry %q: %w", h.Name, err)
			}
			b.spoolEnd += c
			e.Size = c
		}
		if err := tarXattrs(&e, h); err != nil {
			return fmt.Errorf("catar: tar entry %q: %w", h.Name, err)
		}
		n.e = e
		if err := b.insert(n, h.Name); err != nil {
			return err
		}
	}
}

// tarXattrs maps the PAX SCHILY.xattr.* records of h onto e.
func tarXattrs(e *Entry, h *tar.Header) error {
	const prefix = "SCHILY.xattr."
	for k, v := range h.PAXRecords {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		var err error
		switch {
		case strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "trusted."):
			e.Xattrs = append(e.Xattrs, Xattr{Name: name, Value: []byte(v)})
		case name == xattrFCaps:
			e.FCaps = []byte(v)
		case name == xattrSELinux:
			e.SELinux = strings.TrimRight(v, "\x00")
		case name == xattrACLAccess:
			err = setAccessACL(&e.ACL, []byte(v), nil, nil)
		case name == xattrACLDefault:
			if e.IsDir() {
				err = setDefaultACL(&e.ACL, []byte(v), nil, nil)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	slices.SortFunc(e.Xattrs, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func (b *tarBuilder) lookup(p string) *tarNode {
	n := b.root
	if p == "" {
		return n
	}
	for el := range strings.SplitSeq(p, "/") {
		n = n.children[el]
		if n == nil {
			return nil
		}
	}
	return n
}

// insert places n at n.e.Path, creating implied parent directories.
func (b *tarBuilder) insert(n *tarNode, tarName string) error {
	if n.e.Path == "" {
		if !n.e.IsDir() {
			return fmt.Errorf("catar: tar entry %q: the archive root must be a directory", tarName)
		}
		n.children = b.root.children
		b.root = n
		return nil
	}
	parent := b.root
	els := strings.Split(n.e.Path, "/")
	for i, el := range els[:len(els)-1] {
		c := parent.children[el]
		if c == nil {
			c = &tarNode{implied: true, e: Entry{Path: strings.Join(els[:i+1], "/"), Mode: ModeDir}}
			if parent.children == nil {
				parent.children = map[string]*tarNode{}
			}
			parent.children[el] = c
		} else if !c.e.IsDir() {
			return fmt.Errorf("catar: tar entry %q: %q is not a directory", tarName, c.e.Path)
		}
		parent = c
	}
	name := els[len(els)-1]
	if parent.children == nil {
		parent.children = map[string]*tarNode{}
	}
	if old := parent.children[name]; old != nil && old.e.IsDir() && n.e.IsDir() {
		n.children = old.children
	}
	parent.children[name] = n
	return nil
}

// fixImplied gives implied directories their default metadata.
func (b *tarBuilder) fixImplied(n *tarNode) {
	if n.implied {
		n.e.Mode, n.e.MTime = ModeDir|0o755, b.maxMTime
	}
	for _, c := range n.children {
		if c.e.IsDir() {
			b.fixImplied(c)
		}
	}
}

type tarEncoder struct {
	ctx   context.Context
	w     *Writer
	f     Features
	spool *os.File
	stats EncodeStats
}

func (t *tarEncoder) node(n *tarNode, p string, excl []excludePattern) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	n.e.Path = p
	if err := t.w.WriteEntry(&n.e); err != nil {
		return err
	}
	t.stats.Entries++
	switch n.e.Type() {
	case ModeRegular:
		c, err := t.w.ReadFrom(io.NewSectionReader(t.spool, n.off, n.e.Size))
		t.stats.Bytes += c
		t.stats.Files++
		if err != nil {
			return err
		}
		return nil
	case ModeDir:
		t.stats.Dirs++
	case ModeSymlink:
		t.stats.Symlinks++
		return nil
	default:
		t.stats.Others++
		return nil
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	slices.Sort(names)
	if t.f&ExcludeFile != 0 {
		if c := n.children[excludeFileName]; c != nil && c.e.IsRegular() {
			data := make([]byte, c.e.Size)
			if _, err := t.spool.ReadAt(data, c.off); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			excl = append(slices.Clip(excl), parseExclude(p, data)...)
		}
	}
	for _, name := range names {
		c := n.children[name]
		cp := join(p, name)
		if !t.f.CarriesType(c.e.Type()) || (len(excl) > 0 && excluded(excl, cp, c.e.IsDir())) {
			t.stats.Skipped++
			continue
		}
		if err := t.node(c, cp, excl); err != nil {
			return err
		}
	}
	return nil
}
