package catar

import "github.com/dchest/siphash"

// Record types of the archive format (format description §5.1). Every
// record starts with le64 size (header included) and le64 type.
const (
	typeEntry           uint64 = 0x1396fabcea5bbb51
	typeUser            uint64 = 0xf453131aaeeaccb3
	typeGroup           uint64 = 0x25eb6ac969396a52
	typeXattr           uint64 = 0xb8157091f80bc486
	typeACLUser         uint64 = 0x297dc88b2ef12faf
	typeACLGroup        uint64 = 0x36f2acb56cb3dd0b
	typeACLGroupObj     uint64 = 0x23047110441f38f3
	typeACLDefault      uint64 = 0xfe3eeda6823c8cd0
	typeACLDefaultUser  uint64 = 0xbdf03df9bd010a91
	typeACLDefaultGroup uint64 = 0xa0cb1168782d1f51
	typeFCaps           uint64 = 0xf7267db0afed0629
	typeQuotaProjID     uint64 = 0x161baf2d8772a72b
	typeSELinux         uint64 = 0x46faf0602fd26c59
	typeSymlink         uint64 = 0x664a6fb6830e0d6c
	typeDevice          uint64 = 0xac3dace369dfe643
	typePayload         uint64 = 0x8b9e1d93d6dcffc9
	typeFilename        uint64 = 0x6dbb6ebcb3161f0b
	typeGoodbye         uint64 = 0xdfd35c5e8327c403

	// goodbyeTailMarker ends the last item of every goodbye table.
	goodbyeTailMarker uint64 = 0x57446fa533702943
)

// Fixed record sizes.
const (
	headerSize      = 16
	entrySize       = 64
	goodbyeItemSize = 24
)

// goodbyeKey is the SipHash-2-4 key of the goodbye-table name hashes, as
// two little-endian words (bytes b3 84 1d 0f 2b 44 74 85 c1 2e c2 d1 30 ed 36 27).
const (
	goodbyeK0 uint64 = 0x8574442b0f1d84b3
	goodbyeK1 uint64 = 0x2736ed30d1c22ec1
)

// nameHash is the goodbye-table hash of an entry name (without its NUL).
func nameHash(name string) uint64 {
	return siphash.Hash(goodbyeK0, goodbyeK1, []byte(name))
}
