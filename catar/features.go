package catar

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// Features is the feature-flag word of an archive (format description §6):
// which metadata an archive carries ("with" bits) and how it was made (the
// Exclude* and SHA512_256 bits). Every ENTRY record of an archive carries the
// same, normalized value; a .caidx header carries it too.
type Features uint64

// The "with" bits, named as casync's --with= names them.
const (
	With16BitUIDs       Features = 0x1
	With32BitUIDs       Features = 0x2
	WithUserNames       Features = 0x4
	WithSecTime         Features = 0x8
	WithUsecTime        Features = 0x10
	WithNsecTime        Features = 0x20
	With2SecTime        Features = 0x40
	WithReadOnly        Features = 0x80
	WithPermissions     Features = 0x100
	WithSymlinks        Features = 0x200
	WithDeviceNodes     Features = 0x400
	WithFIFOs           Features = 0x800
	WithSockets         Features = 0x1000
	WithFlagHidden      Features = 0x2000
	WithFlagSystem      Features = 0x4000
	WithFlagArchive     Features = 0x8000
	WithFlagAppend      Features = 0x10000
	WithFlagNoatime     Features = 0x20000
	WithFlagCompr       Features = 0x40000
	WithFlagNocow       Features = 0x80000
	WithFlagNodump      Features = 0x100000
	WithFlagDirsync     Features = 0x200000
	WithFlagImmutable   Features = 0x400000
	WithFlagSync        Features = 0x800000
	WithFlagNocomp      Features = 0x1000000
	WithFlagProjinherit Features = 0x2000000
	WithSubvolume       Features = 0x4000000
	WithSubvolumeRO     Features = 0x8000000
	WithXattrs          Features = 0x10000000
	WithACL             Features = 0x20000000
	WithSELinux         Features = 0x40000000
	WithFcaps           Features = 0x80000000
	WithQuotaProjID     Features = 0x100000000

	// The bits that describe how the archive was made rather than what it holds.
	ExcludeFile      Features = 0x1000000000000000 // .caexclude files honoured
	SHA512_256       Features = 0x2000000000000000 // chunk IDs are SHA-512/256 (else SHA-256)
	ExcludeSubmounts Features = 0x4000000000000000 // other mounts not descended
	ExcludeNodump    Features = 0x8000000000000000 // chattr +d entries left out

	// WithAll is every "with" bit (casync's --with=all).
	WithAll Features = 0x1ffffffff

	// Composite sets, as casync names them.
	WithTimes    = WithSecTime | WithUsecTime | WithNsecTime | With2SecTime
	WithFATAttrs = WithFlagHidden | WithFlagSystem | WithFlagArchive
	WithChattr   = WithFlagAppend | WithFlagNoatime | WithFlagCompr | WithFlagNocow | WithFlagNodump |
		WithFlagDirsync | WithFlagImmutable | WithFlagSync | WithFlagNocomp | WithFlagProjinherit
	WithBest = With32BitUIDs | WithUserNames | WithNsecTime | WithSymlinks | WithDeviceNodes |
		WithFIFOs | WithSockets | WithFATAttrs | WithChattr | WithSubvolume | WithSubvolumeRO |
		WithXattrs | WithACL | WithSELinux | WithFcaps | WithQuotaProjID
	WithUnix = With16BitUIDs | WithPermissions | WithSecTime | WithSymlinks | WithDeviceNodes |
		WithFIFOs | WithSockets
	WithFAT        = With2SecTime | WithReadOnly | WithFATAttrs
	WithPrivileged = With16BitUIDs | With32BitUIDs | WithUserNames | WithDeviceNodes |
		WithFlagSystem | WithFlagAppend | WithFlagImmutable | WithSubvolume | WithSubvolumeRO |
		WithACL | WithSELinux | WithFcaps | WithQuotaProjID
	WithFuse = With16BitUIDs | With32BitUIDs | WithTimes | WithReadOnly | WithPermissions |
		WithSymlinks | WithDeviceNodes | WithFIFOs | WithSockets | WithFATAttrs | WithChattr |
		WithXattrs

	// knownBits is every bit a valid archive may carry.
	knownBits = WithAll | ExcludeFile | SHA512_256 | ExcludeSubmounts | ExcludeNodump
)

// DefaultArchive is what casync make writes for a directory tree with no
// --with/--without and default exclusion and digest options: 0xb0000001ffeffe26.
var DefaultArchive = (WithAll | ExcludeNodump | ExcludeFile | SHA512_256).Normalize()

// featureNames maps casync's --with= names (single bits and composites) to bits.
var featureNames = map[string]Features{
	"16bit-uids": With16BitUIDs, "32bit-uids": With32BitUIDs, "user-names": WithUserNames,
	"sec-time": WithSecTime, "usec-time": WithUsecTime, "nsec-time": WithNsecTime,
	"2sec-time": With2SecTime, "read-only": WithReadOnly, "permissions": WithPermissions,
	"symlinks": WithSymlinks, "device-nodes": WithDeviceNodes, "fifos": WithFIFOs,
	"sockets": WithSockets, "flag-hidden": WithFlagHidden, "flag-system": WithFlagSystem,
	"flag-archive": WithFlagArchive, "flag-append": WithFlagAppend,
	"flag-noatime": WithFlagNoatime, "flag-compr": WithFlagCompr, "flag-nocow": WithFlagNocow,
	"flag-nodump": WithFlagNodump, "flag-dirsync": WithFlagDirsync,
	"flag-immutable": WithFlagImmutable, "flag-sync": WithFlagSync,
	"flag-nocomp": WithFlagNocomp, "flag-projinherit": WithFlagProjinherit,
	"subvolume": WithSubvolume, "subvolume-ro": WithSubvolumeRO, "xattrs": WithXattrs,
	"acl": WithACL, "selinux": WithSELinux, "fcaps": WithFcaps,
	"quota-projid": WithQuotaProjID,

	"best": WithBest, "unix": WithUnix, "fat": WithFAT, "chattr": WithChattr,
	"fat-attrs": WithFATAttrs, "privileged": WithPrivileged, "fuse": WithFuse, "all": WithAll,
}

// ParseFeature returns the bits of one casync --with=/--without= name, such
// as "symlinks" or the composite "unix".
func ParseFeature(name string) (Features, error) {
	f, ok := featureNames[name]
	if !ok {
		return 0, fmt.Errorf("unknown archive feature %q (known: %s)", name, strings.Join(FeatureNames(), ", "))
	}
	return f, nil
}

// FeatureNames lists the names ParseFeature accepts, sorted.
func FeatureNames() []string {
	names := make([]string, 0, len(featureNames))
	for n := range featureNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FeatureOptions are the choices casync make offers for an archive (§6.2).
type FeatureOptions struct {
	With    []string // --with= names; when empty, every "with" bit
	Without []string // --without= names, removed after With

	NoExcludeNodump  bool // --exclude-nodump=no: archive chattr +d entries too
	ExcludeSubmounts bool // --exclude-submounts=yes: do not descend into other mounts
	NoExcludeFile    bool // --exclude-file=no: ignore .caexclude files
	SHA256           bool // --digest=sha256
}

// Features computes the normalized feature flags of an archive as casync
// make does: the --with set (or all), minus --without, plus the exclusion and
// digest bits.
func (o FeatureOptions) Features() (Features, error) {
	with := WithAll
	if len(o.With) > 0 {
		with = 0
		for _, n := range o.With {
			f, err := ParseFeature(n)
			if err != nil {
				return 0, err
			}
			with |= f
		}
	}
	for _, n := range o.Without {
		f, err := ParseFeature(n)
		if err != nil {
			return 0, err
		}
		with &^= f
	}
	if !o.NoExcludeNodump {
		with |= ExcludeNodump
	}
	if o.ExcludeSubmounts {
		with |= ExcludeSubmounts
	}
	if !o.NoExcludeFile {
		with |= ExcludeFile
	}
	if !o.SHA256 {
		with |= SHA512_256
	}
	return with.Normalize(), nil
}

// Normalize applies casync's normalization (§6.3): implied bits are added and
// bits made redundant by stronger ones dropped. Archives carry only normalized
// flags; a reader refuses others.
func (f Features) Normalize() Features {
	if f&WithACL != 0 && f&(With16BitUIDs|With32BitUIDs|WithUserNames) == 0 {
		f |= With32BitUIDs | WithUserNames
	}
	if f&With32BitUIDs != 0 {
		f &^= With16BitUIDs
	}
	switch {
	case f&WithNsecTime != 0:
		f &^= WithUsecTime | WithSecTime | With2SecTime
	case f&WithUsecTime != 0:
		f &^= WithSecTime | With2SecTime
	case f&WithSecTime != 0:
		f &^= With2SecTime
	}
	switch {
	case f&WithACL != 0:
		f &^= WithPermissions | WithReadOnly
	case f&WithPermissions != 0:
		f &^= WithReadOnly
	}
	if f&ExcludeNodump != 0 {
		f &^= WithFlagNodump
	}
	if f&WithSubvolumeRO != 0 {
		f |= WithSubvolume
	}
	return f
}

// Valid reports whether f is a flag word a reader accepts: only known bits,
// and already normalized.
func (f Features) Valid() bool {
	return f&^knownBits == 0 && f.Normalize() == f
}

// TimeGranularity is the resolution of the archive's mtimes in nanoseconds,
// or 0 when the archive carries no times.
func (f Features) TimeGranularity() int64 {
	switch {
	case f&WithNsecTime != 0:
		return 1
	case f&WithUsecTime != 0:
		return 1000
	case f&WithSecTime != 0:
		return 1e9
	case f&With2SecTime != 0:
		return 2e9
	}
	return 0
}

// String lists the single-bit names of f joined by "|", with any unnamed
// bits in hex: "32bit-uids|user-names|…|sha512-256".
func (f Features) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for rest := uint64(f); rest != 0; rest &= rest - 1 {
		bit := Features(1) << bits.TrailingZeros64(rest)
		parts = append(parts, bitName(bit))
	}
	return strings.Join(parts, "|")
}

func bitName(bit Features) string {
	switch bit {
	case ExcludeFile:
		return "exclude-file"
	case SHA512_256:
		return "sha512-256"
	case ExcludeSubmounts:
		return "exclude-submounts"
	case ExcludeNodump:
		return "exclude-nodump"
	}
	for n, b := range featureNames {
		if b == bit {
			return n
		}
	}
	return fmt.Sprintf("%#x", uint64(bit))
}
