package sha512x4

//go:generate go run gen.go

// block4 applies SHA-512's compression function to the four lanes of h
// (h[4*w+l] is word w of lane l), n times, reading n blocks of 128 bytes
// from each of the four pointers.
//
//go:noescape
func block4(h *[32]uint64, p *[4]*byte, n int, k *[80]uint64)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax uint32)

// haveAVX2 reports whether the CPU has AVX2 and the OS saves the YMM
// registers.
var haveAVX2 = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 || xgetbv()&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}()
