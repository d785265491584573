//go:build !amd64

package sha512x4

const haveAVX2 = false

func block4(*[32]uint64, *[4]*byte, int, *[80]uint64) { panic("sha512x4: no vector kernel") }
