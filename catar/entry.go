package catar

// File type bits of Entry.Mode (the S_IFMT values of Linux, as the archive
// stores them).
const (
	ModeType    uint32 = 0o170000
	ModeSocket  uint32 = 0o140000
	ModeSymlink uint32 = 0o120000
	ModeRegular uint32 = 0o100000
	ModeBlock   uint32 = 0o060000
	ModeDir     uint32 = 0o040000
	ModeChar    uint32 = 0o020000
	ModeFIFO    uint32 = 0o010000

	// ModePerm is the permission part of Mode: rwx bits, setuid, setgid, sticky.
	ModePerm uint32 = 0o7777
)

// Entry is one filesystem object of an archive, with the metadata the
// archive holds for it. The Writer takes entries, the Reader returns them;
// which fields are meaningful depends on the archive's Features (a field the
// archive does not carry is zero).
type Entry struct {
	// Path is the slash-separated path below the archive root, without a
	// leading "./"; "" is the root directory itself. Each element is a name
	// casync allows: not empty, not "." or "..", no "/" and no NUL; any other
	// bytes (backslashes, newlines, invalid UTF-8) are allowed.
	Path string

	Mode  uint32 // type (ModeType bits) and permissions (ModePerm), as archived
	Flags uint64 // chattr, FAT and subvolume flags, in the With* bit positions
	UID   uint32
	GID   uint32
	User  string // USER record; "" when absent
	Group string // GROUP record; "" when absent
	MTime int64  // nanoseconds since the Unix epoch, rounded down to the archive's granularity

	Xattrs    []Xattr // user.* and trusted.* attributes, sorted by name (bytewise)
	ACL       ACL
	FCaps     []byte // security.capability value (regular files); nil when absent
	SELinux   string // security label; "" when absent
	ProjectID uint64 // quota project ID; 0 when absent

	Target   string // symlink target
	DevMajor uint64 // device nodes
	DevMinor uint64
	Size     int64 // payload length of a regular file
}

// Type returns the file type bits of the entry's mode.
func (e *Entry) Type() uint32 { return e.Mode & ModeType }

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Type() == ModeDir }

// IsRegular reports whether the entry is a regular file (it has a payload).
func (e *Entry) IsRegular() bool { return e.Type() == ModeRegular }

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// ACLPermNone marks an absent permission set in a DefaultACL (casync writes
// UINT64_MAX for a default ACL without a mask).
const ACLPermNone = ^uint64(0)

// ACL permission bits.
const (
	ACLRead    uint64 = 4
	ACLWrite   uint64 = 2
	ACLExecute uint64 = 1
)

// ACLEntry is a named entry of an ACL: a user or group ID, its name when the
// archive has user names and the ID resolved, and its permission bits.
type ACLEntry struct {
	ID   uint32
	Name string
	Perm uint64
}

// ACL is the POSIX ACL of an entry beyond its plain mode. The zero ACL means
// none: a file whose permissions are just its mode carries no ACL records.
type ACL struct {
	User  []ACLEntry // named users of the access ACL (ACL_USER), in archive order
	Group []ACLEntry // named groups of the access ACL (ACL_GROUP)

	// GroupObj is the owning group's permissions when the access ACL has a
	// mask (the mode's group bits then hold the mask); HasGroupObj says
	// whether the ACL_GROUP_OBJ record is present.
	GroupObj    uint64
	HasGroupObj bool

	// Default is a directory's default ACL; nil when it has none.
	Default *DefaultACL
}

// IsZero reports whether the ACL is absent.
func (a *ACL) IsZero() bool {
	return len(a.User) == 0 && len(a.Group) == 0 && !a.HasGroupObj && a.Default == nil
}

// DefaultACL is the default ACL of a directory (ACL_DEFAULT and the
// ACL_DEFAULT_USER/ACL_DEFAULT_GROUP records).
type DefaultACL struct {
	UserObj, GroupObj, Other, Mask uint64 // ACLPermNone when absent
	User                           []ACLEntry
	Group                          []ACLEntry
}
