package chunk

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"

	"github.com/folbricht/desync/chunk/internal/sha512x4"
)

// Digest is the hash function that names chunks. It is a plain value: pass it
// where it is needed; there is no package-wide default to change.
type Digest uint8

const (
	// SHA512_256 is casync's and desync's default (FIPS 180-4 SHA-512/256).
	SHA512_256 Digest = iota
	// SHA256 is selected with --digest=sha256.
	SHA256
)

// ParseDigest reads the names casync and desync use: "sha512-256" (also
// "sha512/256") and "sha256".
func ParseDigest(s string) (Digest, error) {
	switch s {
	case "sha512-256", "sha512/256", "sha512_256":
		return SHA512_256, nil
	case "sha256", "sha-256":
		return SHA256, nil
	}
	return 0, fmt.Errorf("unknown digest %q: want sha512-256 or sha256", s)
}

// Sum returns the ID of plain chunk data. While declared hashing workers
// outnumber the cores (HashWorkers), SHA-512/256 sums computed at the same
// time are batched four at a time into AVX2 registers where the CPU has
// them (see internal/sha512x4).
func (d Digest) Sum(plain []byte) ID {
	if d == SHA256 {
		return sha256.Sum256(plain)
	}
	return sha512x4.Sum(plain)
}

// SumEach sets ids[i] to the ID of plain[i] for every i; ids must be at
// least as long as plain. It is for a caller with several chunks at hand,
// such as a make worker that takes a group of chunks: their SHA-512/256 sums
// share AVX2 registers where the CPU has them, about twice as fast as
// one by one, with no other goroutine involved.
func (d Digest) SumEach(ids []ID, plain [][]byte) {
	ids = ids[:len(plain)]
	if d == SHA256 {
		for i, p := range plain {
			ids[i] = sha256.Sum256(p)
		}
		return
	}
	sha512x4.SumEach(plain, func(i int, sum [sha512x4.Size]byte) { ids[i] = sum })
}

// HashWorkers declares that n goroutines will compute digests at the same
// time until the returned function is called, as the workers of an extract
// do. When such workers outnumber the cores, waiting for a batch costs no
// throughput (another worker uses the core), and batched SHA-512/256 needs
// about half the CPU; otherwise Sum hashes each call on its own, so a
// caller that declares nothing is never slowed. (Make does not declare its
// workers: they mostly compress, so too few hash at once to fill batches;
// each takes a group of chunks and uses SumEach.) The goroutine that
// batches runs only while some are declared: it ends, once idle, after the
// last done is called.
func HashWorkers(n int) (done func()) {
	sha512x4.AddWorkers(n)
	var once sync.Once
	return func() { once.Do(func() { sha512x4.AddWorkers(-n) }) }
}

// New returns a streaming hash that produces IDs.
func (d Digest) New() hash.Hash {
	if d == SHA256 {
		return sha256.New()
	}
	return sha512.New512_256()
}

// String returns the name ParseDigest accepts.
func (d Digest) String() string {
	if d == SHA256 {
		return "sha256"
	}
	return "sha512-256"
}
