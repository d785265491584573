//go:build linux

package catar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Linux ioctls and inode flags (linux/fs.h).
const (
	fsIocGetFlags   = 0x80086601
	fsIocFSGetXattr = 0x801c581f
	fsNodumpFL      = 0x00000040
	oNoatime        = 0o1000000
)

// virtualFS are the statfs magics of API file systems casync does not
// descend into (their directory is archived empty).
var virtualFS = map[int64]bool{
	0x42494e4d: true, // binfmt_misc
	0x27e0eb:   true, // cgroup
	0x63677270: true, // cgroup2
	0x64626720: true, // debugfs
	0x1cd1:     true, // devpts
	0xde5e81e4: true, // efivarfs
	0x958458f6: true, // hugetlbfs
	0x19800202: true, // mqueue
	0x9fa0:     true, // proc
	0x6165676c: true, // pstore
	0xf97cff8c: true, // selinuxfs
	0x43415d53: true, // smackfs
	0x73636673: true, // securityfs
	0xcafe4a11: true, // bpf
	0x74726163: true, // tracefs
	0x62656572: true, // sysfs
	0x65735543: true, // fusectl
	0x62656570: true, // configfs
}

type treeEncoder struct {
	ctx    context.Context
	w      *Writer
	f      Features
	o      EncodeOptions
	log    *slog.Logger
	stats  EncodeStats
	users  map[uint32]string
	groups map[uint32]string
	xlist  []byte
	xval   []byte
	excl   []excludePattern
	mounts map[string]bool // mount points, with ExcludeSubmounts/OneFileSystem

	// onPayload, when set, is told where each file's payload is instead of
	// the payload being read and written (TreeImage).
	onPayload payloadFunc
}

func encodeTree(ctx context.Context, out io.Writer, root string, o EncodeOptions, onPayload payloadFunc) (EncodeStats, error) {
	f := o.features()
	e := &treeEncoder{
		ctx: ctx, w: NewWriter(out, f), f: f, o: o, log: o.logger(), onPayload: onPayload,
		users: map[uint32]string{}, groups: map[uint32]string{},
		xlist: make([]byte, 4096), xval: make([]byte, 4096),
	}
	// The root may be a symlink to the directory; the paths below are then
	// those of the directory itself (mount points are matched by path).
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		return e.stats, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return e.stats, err
	}
	if e.o.OneFileSystem || f&ExcludeSubmounts != 0 {
		e.mounts = mountPoints()
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(root, &st); err != nil {
		return e.stats, &os.PathError{Op: "lstat", Path: root, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return e.stats, fmt.Errorf("catar: %s is not a directory", root)
	}
	fd, err := openNoatime(root, syscall.O_DIRECTORY)
	if err != nil {
		return e.stats, &os.PathError{Op: "open", Path: root, Err: err}
	}
	err = e.dir(fd, "", root, &st, 0)
	if err == nil {
		err = e.w.Close()
	}
	e.stats.Size = e.w.Offset()
	return e.stats, err
}

// openNoatime opens p read-only without updating its atime where the
// caller may (owner or CAP_FOWNER), never following a final symlink.
func openNoatime(p string, flags int) (int, error) {
	return openatNoatime(atFDCWD, p, flags)
}

const atFDCWD = -100

// openatNoatime is openNoatime relative to the directory dirfd.
func openatNoatime(dirfd int, name string, flags int) (int, error) {
	flags |= syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NOFOLLOW
	for {
		fd, err := syscall.Openat(dirfd, name, flags|oNoatime, 0)
		if err == syscall.EPERM {
			fd, err = syscall.Openat(dirfd, name, flags, 0)
		}
		if err == syscall.EINTR {
			continue
		}
		return fd, err
	}
}

// sysType maps a directory entry's type to the S_IFMT bits.
func sysType(m fs.FileMode) uint32 {
	switch {
	case m&fs.ModeDir != 0:
		return syscall.S_IFDIR
	case m&fs.ModeSymlink != 0:
		return syscall.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		return syscall.S_IFIFO
	case m&fs.ModeSocket != 0:
		return syscall.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		return syscall.S_IFCHR
	case m&fs.ModeDevice != 0:
		return syscall.S_IFBLK
	}
	return syscall.S_IFREG
}

// dir archives the directory open as fd (which it closes) and its subtree.
// chattr are the directory's FS_*_FL flags (read by the caller to test
// nodump; 0 for the root, read here).
func (e *treeEncoder) dir(fd int, rel, full string, st *syscall.Stat_t, chattr uint32) error {
	f := os.NewFile(uintptr(fd), full)
	defer f.Close()
	if rel == "" {
		chattr = e.chattr(fd)
	}
	ent, err := e.metadata(fd, rel, full, st, chattr)
	if err != nil {
		return err
	}
	if err := e.w.WriteEntry(ent); err != nil {
		return err
	}
	e.stats.Entries++
	e.stats.Dirs++
	var sfs syscall.Statfs_t
	if err := syscall.Fstatfs(fd, &sfs); err == nil && virtualFS[int64(sfs.Type)] {
		e.log.Debug("catar: not descending into an API file system", "path", full)
		return nil
	}
	ents, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("catar: reading directory %s: %w", full, err)
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) }) // bytewise, as strcmp
	saved := e.excl
	defer func() { e.excl = saved }()
	if e.f&ExcludeFile != 0 {
		if _, ok := slices.BinarySearchFunc(ents, excludeFileName, func(d fs.DirEntry, n string) int { return strings.Compare(d.Name(), n) }); ok {
			data, err := os.ReadFile(full + "/" + excludeFileName)
			if err != nil {
				return fmt.Errorf("catar: %w", err)
			}
			e.excl = append(slices.Clip(e.excl), parseExclude(rel, data)...)
		}
	}
	for _, de := range ents {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		if err := e.child(fd, rel, full, de.Name(), sysType(de.Type()), uint64(st.Dev)); err != nil {
			return err
		}
	}
	return nil
}

// child archives one directory entry, or leaves it out. typ is its type as
// the directory listing gave it; regular files and directories are opened
// relative to the directory (dirfd) and fstat'ed, others lstat'ed.
func (e *treeEncoder) child(dirfd int, parentRel, parentFull, name string, typ uint32, parentDev uint64) error {
	rel, full := join(parentRel, name), parentFull+"/"+name
	if !e.f.CarriesType(typ) {
		e.skip(full, "type not in the archive's features")
		return nil
	}
	if len(e.excl) > 0 && excluded(e.excl, rel, typ == syscall.S_IFDIR) {
		e.skip(full, ".caexclude")
		return nil
	}
	var st syscall.Stat_t
	fd := -1
	if typ == syscall.S_IFREG || typ == syscall.S_IFDIR {
		flags := 0
		if typ == syscall.S_IFDIR {
			flags = syscall.O_DIRECTORY
		}
		var err error
		fd, err = openatNoatime(dirfd, name, flags)
		switch err {
		case nil:
			if err := syscall.Fstat(fd, &st); err != nil {
				syscall.Close(fd)
				return &os.PathError{Op: "fstat", Path: full, Err: err}
			}
		case syscall.ENOENT:
			e.skip(full, "vanished")
			return nil
		case syscall.ELOOP, syscall.ENOTDIR, syscall.ENXIO:
			fd = -1 // replaced by another type since the listing
		default:
			return &os.PathError{Op: "open", Path: full, Err: err}
		}
	}
	if fd < 0 {
		if err := syscall.Lstat(full, &st); err != nil {
			if err == syscall.ENOENT {
				e.skip(full, "vanished")
				return nil
			}
			return &os.PathError{Op: "lstat", Path: full, Err: err}
		}
		if t := uint32(st.Mode) & syscall.S_IFMT; t != typ {
			if t == syscall.S_IFREG || t == syscall.S_IFDIR {
				return fmt.Errorf("catar: %s changed type while being archived", full)
			}
			typ = t
			if !e.f.CarriesType(typ) {
				e.skip(full, "type not in the archive's features")
				return nil
			}
		}
	}
	if (e.o.OneFileSystem || e.f&ExcludeSubmounts != 0) && (uint64(st.Dev) != parentDev || e.mounts[full]) {
		if fd >= 0 {
			syscall.Close(fd)
		}
		e.skip(full, "on another file system")
		return nil
	}
	switch typ {
	case syscall.S_IFDIR:
		chattr := e.chattr(fd)
		if e.nodump(chattr) {
			syscall.Close(fd)
			e.skip(full, "nodump")
			return nil
		}
		return e.dir(fd, rel, full, &st, chattr)
	case syscall.S_IFREG:
		defer syscall.Close(fd)
		return e.file(fd, rel, full, &st)
	default:
		ent, err := e.metadata(-1, rel, full, &st, 0)
		if err != nil {
			return err
		}
		if err := e.w.WriteEntry(ent); err != nil {
			return err
		}
		e.stats.Entries++
		if typ == syscall.S_IFLNK {
			e.stats.Symlinks++
		} else {
			e.stats.Others++
		}
		return nil
	}
}

// file archives the regular file open as fd.
func (e *treeEncoder) file(fd int, rel, full string, st *syscall.Stat_t) error {
	chattr := e.chattr(fd)
	if e.nodump(chattr) {
		e.skip(full, "nodump")
		return nil
	}
	ent, err := e.metadata(fd, rel, full, st, chattr)
	if err != nil {
		return err
	}
	if err := e.w.WriteEntry(ent); err != nil {
		return err
	}
	if e.onPayload != nil {
		off := e.w.Offset()
		if err := e.w.skipPayload(); err != nil {
			return err
		}
		e.onPayload(full, off, ent.Size)
		e.stats.Entries++
		e.stats.Files++
		return nil
	}
	n, err := e.w.ReadFrom(io.LimitReader(fdReader(fd), ent.Size))
	e.stats.Bytes += n
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return fmt.Errorf("catar: %s shrank while being archived: %w", full, err)
		}
		return fmt.Errorf("catar: reading %s: %w", full, err)
	}
	e.stats.Entries++
	e.stats.Files++
	return nil
}

// fdReader reads a file descriptor with plain read(2) calls (no os.File:
// no poller registration, no finalizer).
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(r), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (e *treeEncoder) skip(full, why string) {
	e.stats.Skipped++
	e.log.Debug("catar: left out", "path", full, "reason", why)
}

func (e *treeEncoder) nodump(chattr uint32) bool {
	return e.f&ExcludeNodump != 0 && chattr&fsNodumpFL != 0
}

// chattr returns the FS_*_FL flags of fd, 0 where the file system has none.
func (e *treeEncoder) chattr(fd int) uint32 {
	if e.f&(WithChattr|ExcludeNodump) == 0 {
		return 0
	}
	var fl uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), fsIocGetFlags, uintptr(unsafe.Pointer(&fl))); errno != 0 {
		return 0
	}
	return fl
}

// metadata builds the raw Entry of an object (fd open for regular files and
// directories, -1 otherwise); the Writer applies the features.
func (e *treeEncoder) metadata(fd int, rel, full string, st *syscall.Stat_t, chattr uint32) (*Entry, error) {
	ent := &Entry{
		Path:  rel,
		Mode:  uint32(st.Mode) & (ModeType | ModePerm),
		UID:   st.Uid,
		GID:   st.Gid,
		MTime: int64(st.Mtim.Sec)*1e9 + int64(st.Mtim.Nsec),
	}
	if e.f&With16BitUIDs != 0 && (st.Uid > 0xffff || st.Gid > 0xffff) {
		return nil, fmt.Errorf("catar: %s: uid %d / gid %d does not fit the archive's 16-bit ids (use 32bit-uids)", full, st.Uid, st.Gid)
	}
	if e.f&WithUserNames != 0 {
		ent.User = e.userName(st.Uid)
		ent.Group = e.groupName(st.Gid)
	}
	ent.Flags = archiveFlags(chattr)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		ent.Size = st.Size
	case syscall.S_IFLNK:
		buf := make([]byte, 256)
		for {
			n, err := syscall.Readlink(full, buf)
			if err != nil {
				return nil, &os.PathError{Op: "readlink", Path: full, Err: err}
			}
			if n < len(buf) {
				ent.Target = string(buf[:n])
				break
			}
			buf = make([]byte, 2*len(buf))
		}
	case syscall.S_IFCHR, syscall.S_IFBLK:
		d := uint64(st.Rdev)
		ent.DevMajor = (d>>8)&0xfff | (d>>32)&^0xfff
		ent.DevMinor = d&0xff | (d>>12)&^0xff
	}
	if fd >= 0 {
		if err := e.xattrs(fd, full, ent); err != nil {
			return nil, err
		}
		if e.f&WithQuotaProjID != 0 {
			var fsx [28]byte
			if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), fsIocFSGetXattr, uintptr(unsafe.Pointer(&fsx[0]))); errno == 0 {
				ent.ProjectID = uint64(*(*uint32)(unsafe.Pointer(&fsx[12])))
			}
		}
	}
	return ent, nil
}

// xattrs reads the extended attributes of fd into ent: user.* and
// trusted.* as Xattrs, the POSIX ACLs, file capabilities and SELinux label
// as their records (each only when the features carry it).
func (e *treeEncoder) xattrs(fd int, full string, ent *Entry) error {
	if e.f&(WithXattrs|WithACL|WithFcaps|WithSELinux) == 0 {
		return nil
	}
	var n int
	for {
		r, _, errno := syscall.Syscall(syscall.SYS_FLISTXATTR, uintptr(fd), uintptr(unsafe.Pointer(&e.xlist[0])), uintptr(len(e.xlist)))
		if errno == syscall.ERANGE {
			e.xlist = make([]byte, 2*len(e.xlist))
			continue
		}
		if errno == syscall.ENOTSUP || errno == syscall.ENOSYS {
			return nil
		}
		if errno != 0 {
			return &os.PathError{Op: "flistxattr", Path: full, Err: errno}
		}
		n = int(r)
		break
	}
	if n == 0 {
		return nil
	}
	list := string(e.xlist[:n])
	for name := range strings.SplitSeq(strings.TrimSuffix(list, "\x00"), "\x00") {
		want := false
		switch {
		case strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "trusted."):
			want = e.f&WithXattrs != 0 && len(name) <= 255
		case name == xattrACLAccess || name == xattrACLDefault:
			want = e.f&WithACL != 0
		case name == xattrFCaps:
			want = e.f&WithFcaps != 0 && ent.IsRegular()
		case name == xattrSELinux:
			want = e.f&WithSELinux != 0
		}
		if !want {
			continue
		}
		val, err := e.getxattr(fd, full, name)
		if err != nil {
			if err == syscall.ENODATA {
				continue
			}
			return &os.PathError{Op: "fgetxattr " + name, Path: full, Err: err}
		}
		switch name {
		case xattrACLAccess:
			err = setAccessACL(&ent.ACL, val, e.aclUser, e.aclGroup)
		case xattrACLDefault:
			if ent.IsDir() {
				err = setDefaultACL(&ent.ACL, val, e.aclUser, e.aclGroup)
			}
		case xattrFCaps:
			ent.FCaps = slices.Clone(val)
		case xattrSELinux:
			ent.SELinux = strings.TrimRight(string(val), "\x00")
		default:
			ent.Xattrs = append(ent.Xattrs, Xattr{Name: name, Value: slices.Clone(val)})
		}
		if err != nil {
			return fmt.Errorf("catar: %s: %s: %w", full, name, err)
		}
	}
	slices.SortFunc(ent.Xattrs, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// getxattr returns the value of xattr name of fd in a reused buffer.
func (e *treeEncoder) getxattr(fd int, full, name string) ([]byte, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		r, _, errno := syscall.Syscall6(syscall.SYS_FGETXATTR, uintptr(fd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&e.xval[0])), uintptr(len(e.xval)), 0, 0)
		if errno == syscall.ERANGE {
			e.xval = make([]byte, 2*len(e.xval))
			continue
		}
		if errno != 0 {
			return nil, errno
		}
		return e.xval[:r], nil
	}
}

func (e *treeEncoder) aclUser(id uint32) string {
	if e.f&WithUserNames == 0 {
		return ""
	}
	return e.userName(id)
}

func (e *treeEncoder) aclGroup(id uint32) string {
	if e.f&WithUserNames == 0 {
		return ""
	}
	return e.groupName(id)
}

// userName resolves a uid through the system's user database, cached; ""
// for 0 and for ids without a (valid) name.
func (e *treeEncoder) userName(id uint32) string {
	if id == 0 {
		return ""
	}
	if n, ok := e.users[id]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(id), 10)); err == nil && ValidUserName(u.Username) {
		n = u.Username
	}
	e.users[id] = n
	return n
}

func (e *treeEncoder) groupName(id uint32) string {
	if id == 0 {
		return ""
	}
	if n, ok := e.groups[id]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10)); err == nil && ValidUserName(g.Name) {
		n = g.Name
	}
	e.groups[id] = n
	return n
}
