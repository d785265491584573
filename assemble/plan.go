package assemble

import (
	"context"

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

// plan decides where the chunks [lo, hi) of the output come from and returns
// the work, in output order. locs are the seeds' chunks (seedLocs); inPlace,
// if not nil, marks the chunks the output already holds.
func (x *extraction) plan(locs map[chunk.ID][]seedLoc, inPlace []bool, lo, hi int) []task {
	cs := x.ix.Chunks[:hi]
	usable := func(i int) bool { return !x.isNull(cs[i]) && (inPlace == nil || !inPlace[i]) }

	tasks := make([]task, 0, hi-lo)
	// Each distinct chunk the store provides is one task, made at its
	// first occurrence; repeats holds all the occurrences of the few that
	// occur again. Only the tasks and repeats outlive the planning.
	firstAt := map[chunk.ID]int{}
	repeats := map[int][]int{}
	for i := lo; i < len(cs); {
		c := cs[i]
		switch {
		case inPlace != nil && inPlace[i]:
			x.inPlaceN.Add(1)
			x.o.Progress.Add(int64(c.Size))
			i++
			continue
		case x.isNull(c):
			// A run of null chunks is one hole.
			j := i + 1
			for j < len(cs) && x.isNull(cs[j]) && (inPlace == nil || !inPlace[j]) {
				j++
			}
			x.zero.Add(int64(j - i))
			if inPlace == nil {
				x.o.Progress.Add(int64(cs[j-1].End() - c.Start))
				i = j
				continue
			}
			// In place, a long run is zeroed by several workers, in case
			// the device cannot punch holes and the zeros are written.
			for i < j {
				n := piece(cs[i:j], zeroPiece)
				tasks = append(tasks, x.zeroTask(cs[i].Start, cs[i+n-1].End()))
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
			if f, ok := firstAt[c.ID]; ok {
				if repeats[f] == nil {
					repeats[f] = []int{f}
				}
				repeats[f] = append(repeats[f], i)
			} else {
				firstAt[c.ID] = i
				first := i // repeats is complete before any task runs
				tasks = append(tasks, func(ctx context.Context) error {
					idx := repeats[first]
					if idx == nil {
						idx = []int{first}
					}
					return x.fillFromStore(ctx, idx)
				})
			}
			i++
			continue
		}
		for end := i + bestN; i < end; {
			n := piece(cs[i:end], pieceSize)
			tasks = append(tasks, x.seedTask(best.seed, i, best.chunk, n))
			best.chunk += n
			i += n
		}
	}
	return tasks
}
