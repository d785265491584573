package caindex

// Feature flags as casync defines them (format description §6). Only the bits
// an index reader needs are named here; the archive package names the rest.
const (
	FlagExcludeNodump    uint64 = 0x8000000000000000
	FlagExcludeSubmounts uint64 = 0x4000000000000000
	FlagSHA512_256       uint64 = 0x2000000000000000
	FlagExcludeFile      uint64 = 0x1000000000000000

	// withMask covers every archive "--with" bit (0x1 … 0x100000000).
	withMask  uint64 = 0x1ffffffff
	knownMask        = withMask | FlagExcludeNodump | FlagExcludeSubmounts | FlagSHA512_256 | FlagExcludeFile

	// BlobFlags is what casync make writes into a blob index by default.
	BlobFlags = FlagExcludeNodump | FlagSHA512_256 | FlagExcludeFile
)

// with-bits involved in normalization.
const (
	with16BitUIDs   uint64 = 0x1
	with32BitUIDs   uint64 = 0x2
	withUserNames   uint64 = 0x4
	withSecTime     uint64 = 0x8
	withUsecTime    uint64 = 0x10
	withNsecTime    uint64 = 0x20
	with2SecTime    uint64 = 0x40
	withReadOnly    uint64 = 0x80
	withPermissions uint64 = 0x100
	withFlagNodump  uint64 = 0x100000
	withSubvolume   uint64 = 0x4000000
	withSubvolumeRO uint64 = 0x8000000
	withACL         uint64 = 0x20000000
)

// Normalize applies casync's normalization rules (§6.3): implied bits are
// added and bits made redundant by stronger ones are dropped. Readers accept
// only flags that are already normalized.
func Normalize(f uint64) uint64 {
	if f&withACL != 0 && f&(with16BitUIDs|with32BitUIDs|withUserNames) == 0 {
		f |= with32BitUIDs | withUserNames
	}
	if f&with32BitUIDs != 0 {
		f &^= with16BitUIDs
	}
	switch {
	case f&withNsecTime != 0:
		f &^= withUsecTime | withSecTime | with2SecTime
	case f&withUsecTime != 0:
		f &^= withSecTime | with2SecTime
	case f&withSecTime != 0:
		f &^= with2SecTime
	}
	switch {
	case f&withACL != 0:
		f &^= withPermissions | withReadOnly
	case f&withPermissions != 0:
		f &^= withReadOnly
	}
	if f&FlagExcludeNodump != 0 {
		f &^= withFlagNodump
	}
	if f&withSubvolumeRO != 0 {
		f |= withSubvolume
	}
	return f
}
