package assemble

import (
	"fmt"

	"github.com/folbricht/desync/chunk"
)

// seedLoc is a chunk of a seed's index.
type seedLoc struct {
	seed  *seedFile
	chunk int
}

// maxSeedLocs bounds the places a chunk is looked for in the seeds; a chunk
// that occurs more often than that (not the zero chunk, which is a hole)
// only shortens some runs.
const maxSeedLocs = 8

// planWindow is the number of index chunks planned at once: 16384, about
// 1 GiB of output at casync's default chunk sizes. A chunk that repeats
// within a window is fetched once; one that comes again in a later window
// is fetched again.
const planWindow = 1 << 14

// seedLocs maps the chunk IDs of the seeds to where the seeds hold them.
func (x *extraction) seedLocs() map[chunk.ID][]seedLoc {
	locs := map[chunk.ID][]seedLoc{}
	for _, s := range x.seeds {
		if s.invalid.Load() {
			continue
		}
		for k, c := range s.ix.Chunks {
			if l := locs[c.ID]; len(l) < maxSeedLocs {
				locs[c.ID] = append(l, seedLoc{s, k})
			}
		}
	}
	return locs
}

// stepKind is where the bytes of a step of the plan come from.
type stepKind uint8

const (
	// fromStore: the chunk is fetched from the store once and written at
	// the step's target and at those of the repeat steps that name it.
	fromStore stepKind = iota
	// fromRepeat: the chunk of an earlier fromStore step (of), written
	// here too from the same fetch.
	fromRepeat
	// fromSeed: a run of chunks a seed holds in the same order, copied or
	// cloned from the seed's source offset.
	fromSeed
	// fromSelf: chunks the output already holds at their offsets (in
	// place); nothing is written.
	fromSelf
	// zeroHole: a run of the index's null chunks: a hole, punched (or, in
	// place where that fails, written as zeros).
	zeroHole
)

func (k stepKind) String() string {
	switch k {
	case fromStore:
		return "store"
	case fromRepeat:
		return "repeat"
	case fromSeed:
		return "seed"
	case fromSelf:
		return "self"
	case zeroHole:
		return "zero"
	}
	return fmt.Sprintf("stepKind(%d)", uint8(k))
}

// step is one entry of a plan: the n output chunks from first on, bytes
// [target, target+length) of the output, come from one source.
type step struct {
	kind     stepKind
	first, n int    // output chunks
	target   uint64 // output offset of chunk first
	length   uint64 // bytes of the n chunks
	// source is the offset the bytes are read from: in the seed
	// (fromSeed), in the output (fromSelf, the target itself), of the
	// first occurrence (fromRepeat); 0 for the others.
	source    uint64
	id        chunk.ID  // fromStore, fromRepeat: the chunk
	seed      *seedFile // fromSeed
	seedFirst int       // fromSeed: the seed's chunk that first matches
	of        int       // fromRepeat: the index in the plan of its fromStore step
}

func (s step) String() string {
	b := fmt.Sprintf("%s chunks [%d,%d) at %d+%d", s.kind, s.first, s.first+s.n, s.target, s.length)
	switch s.kind {
	case fromSeed:
		b += fmt.Sprintf(" from seed %s chunk %d offset %d", s.seed.name, s.seedFirst, s.source)
	case fromStore:
		b += fmt.Sprintf(" id %s", s.id)
	case fromRepeat:
		b += fmt.Sprintf(" id %s as step %d (offset %d)", s.id, s.of, s.source)
	}
	return b
}

// plan decides where the chunks [lo, hi) of the output come from and returns
// the steps, in output order; it only decides (execute counts and reports
// progress). locs are the seeds' chunks (seedLocs); inPlace, if not nil,
// marks the chunks the output already holds.
func (x *extraction) plan(locs map[chunk.ID][]seedLoc, inPlace []bool, lo, hi int) []step {
	cs := x.ix.Chunks[:hi]
	usable := func(i int) bool { return !x.isNull(cs[i]) && (inPlace == nil || !inPlace[i]) }
	run := func(kind stepKind, i, n int) step {
		return step{kind: kind, first: i, n: n, target: cs[i].Start, length: cs[i+n-1].End() - cs[i].Start}
	}

	steps := make([]step, 0, hi-lo)
	// Each distinct chunk the store provides is one fromStore step, at its
	// first occurrence; the later ones are fromRepeat steps naming it.
	firstAt := map[chunk.ID]int{}
	for i := lo; i < len(cs); {
		c := cs[i]
		switch {
		case inPlace != nil && inPlace[i]:
			j := i + 1
			for j < len(cs) && inPlace[j] {
				j++
			}
			s := run(fromSelf, i, j-i)
			s.source = s.target
			steps = append(steps, s)
			i = j
			continue
		case x.isNull(c):
			// A run of null chunks is one hole.
			j := i + 1
			for j < len(cs) && x.isNull(cs[j]) && (inPlace == nil || !inPlace[j]) {
				j++
			}
			if inPlace == nil {
				steps = append(steps, run(zeroHole, i, j-i))
				i = j
				continue
			}
			// In place, a long run is zeroed by several workers, in case
			// the device cannot punch holes and the zeros are written.
			for i < j {
				n := piece(cs[i:j], zeroPiece)
				steps = append(steps, run(zeroHole, i, n))
				i += n
			}
			continue
		}
		// The longest run of chunks from i on that a seed holds in order.
		var best seedLoc
		bestN, bestAligned := 0, false
		for _, l := range locs[c.ID] {
			if l.seed.invalid.Load() {
				continue
			}
			sc := l.seed.ix.Chunks
			n := 0
			for i+n < len(cs) && l.chunk+n < len(sc) && usable(i+n) &&
				sc[l.chunk+n].ID == cs[i+n].ID && sc[l.chunk+n].Size == cs[i+n].Size {
				n++
			}
			aligned := sc[l.chunk].Start%x.blockSize == c.Start%x.blockSize
			if n > bestN || (n == bestN && n > 0 && aligned && !bestAligned) {
				best, bestN, bestAligned = l, n, aligned
			}
		}
		if bestN == 0 {
			s := run(fromStore, i, 1)
			s.id = c.ID
			if f, ok := firstAt[c.ID]; ok {
				s.kind, s.of, s.source = fromRepeat, f, steps[f].target
			} else {
				firstAt[c.ID] = len(steps)
			}
			steps = append(steps, s)
			i++
			continue
		}
		for end := i + bestN; i < end; {
			n := piece(cs[i:end], pieceSize)
			s := run(fromSeed, i, n)
			s.seed, s.seedFirst = best.seed, best.chunk
			s.source = best.seed.ix.Chunks[best.chunk].Start
			steps = append(steps, s)
			best.chunk += n
			i += n
		}
	}
	return steps
}
