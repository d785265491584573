package assemble

import (
	"fmt"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// planMax is the max chunk size of TestPlan's indexes: a chunk of that size
// named by the digest of zeros is the null chunk.
const planMax = 4096

// planIndex makes an index of chunks named by letters ('0' is the null
// chunk, of planMax bytes) with the given sizes (0: 1000 bytes), laid out
// from offset 0.
func planIndex(names string, sizes ...uint64) *caindex.Index {
	ix := caindex.New(chunk.SHA512_256, 64, 1024, planMax)
	null := chunk.SHA512_256.Sum(make([]byte, planMax))
	var off uint64
	for i, r := range names {
		c := caindex.Chunk{Start: off, Size: 1000}
		if i < len(sizes) && sizes[i] != 0 {
			c.Size = sizes[i]
		}
		if r == '0' {
			c.ID, c.Size = null, planMax
		} else {
			c.ID = chunk.ID{byte(r)}
		}
		ix.Chunks = append(ix.Chunks, c)
		off += c.Size
	}
	return ix
}

// TestPlan checks the steps the planner chooses for small indexes, seeds
// and in-place marks: holes, fetches once per distinct chunk with repeats,
// the longest seed run (aligned on a tie), skipped invalid seeds, chunks
// already in place, and windows.
func TestPlan(t *testing.T) {
	id := func(r byte) chunk.ID { return chunk.ID{r} }
	type want struct {
		kind           stepKind
		first, n       int
		target, length uint64
		source         uint64
		id             chunk.ID
		seed           int // index in seeds + 1 for fromSeed; 0 otherwise
		seedFirst, of  int
	}
	tests := []struct {
		name    string
		ix      *caindex.Index
		seeds   []*caindex.Index
		invalid []bool // per seed
		inPlace string // per chunk: 'x' in place
		lo, hi  int    // 0, 0: the whole index
		want    []want
	}{
		{
			name: "store, repeat and hole",
			ix:   planIndex("ABA0C"),
			want: []want{
				{kind: fromStore, first: 0, n: 1, target: 0, length: 1000, id: id('A')},
				{kind: fromStore, first: 1, n: 1, target: 1000, length: 1000, id: id('B')},
				{kind: fromRepeat, first: 2, n: 1, target: 2000, length: 1000, source: 0, id: id('A'), of: 0},
				{kind: zeroHole, first: 3, n: 1, target: 3000, length: planMax},
				{kind: fromStore, first: 4, n: 1, target: 3000 + planMax, length: 1000, id: id('C')},
			},
		},
		{
			name: "a run of holes is one step",
			ix:   planIndex("000A"),
			want: []want{
				{kind: zeroHole, first: 0, n: 3, target: 0, length: 3 * planMax},
				{kind: fromStore, first: 3, n: 1, target: 3 * planMax, length: 1000, id: id('A')},
			},
		},
		{
			name:  "seed run",
			ix:    planIndex("ABCDE"),
			seeds: []*caindex.Index{planIndex("XBCDY")},
			want: []want{
				{kind: fromStore, first: 0, n: 1, target: 0, length: 1000, id: id('A')},
				{kind: fromSeed, first: 1, n: 3, target: 1000, length: 3000, source: 1000, seed: 1, seedFirst: 1},
				{kind: fromStore, first: 4, n: 1, target: 4000, length: 1000, id: id('E')},
			},
		},
		{
			name:  "longest run wins",
			ix:    planIndex("ABCD"),
			seeds: []*caindex.Index{planIndex("AB"), planIndex("QABCD")},
			want: []want{
				{kind: fromSeed, first: 0, n: 4, target: 0, length: 4000, source: 1000, seed: 2, seedFirst: 1},
			},
		},
		{
			name: "aligned run wins a tie",
			ix:   planIndex("AB"),
			// Seed 1 holds AB at offset 1000, seed 2 at 4096: aligned
			// with the output's 0 on 4096-byte blocks.
			seeds: []*caindex.Index{planIndex("QAB"), planIndex("QAB", 4096)},
			want: []want{
				{kind: fromSeed, first: 0, n: 2, target: 0, length: 2000, source: 4096, seed: 2, seedFirst: 1},
			},
		},
		{
			name:    "invalid seed is not used",
			ix:      planIndex("AB"),
			seeds:   []*caindex.Index{planIndex("AB")},
			invalid: []bool{true},
			want: []want{
				{kind: fromStore, first: 0, n: 1, target: 0, length: 1000, id: id('A')},
				{kind: fromStore, first: 1, n: 1, target: 1000, length: 1000, id: id('B')},
			},
		},
		{
			name:    "in place",
			ix:      planIndex("AB00CDE"),
			seeds:   []*caindex.Index{planIndex("CDE")},
			inPlace: "xx-x-x-",
			want: []want{
				{kind: fromSelf, first: 0, n: 2, target: 0, length: 2000, source: 0},
				{kind: zeroHole, first: 2, n: 1, target: 2000, length: planMax},
				{kind: fromSelf, first: 3, n: 1, target: 2000 + planMax, length: planMax, source: 2000 + planMax},
				// The seed run stops at D, which is in place.
				{kind: fromSeed, first: 4, n: 1, target: 2000 + 2*planMax, length: 1000, source: 0, seed: 1, seedFirst: 0},
				{kind: fromSelf, first: 5, n: 1, target: 3000 + 2*planMax, length: 1000, source: 3000 + 2*planMax},
				{kind: fromSeed, first: 6, n: 1, target: 4000 + 2*planMax, length: 1000, source: 2000, seed: 1, seedFirst: 2},
			},
		},
		{
			name: "window: a repeat of an earlier window is fetched again",
			ix:   planIndex("ABAB"),
			lo:   2, hi: 4,
			want: []want{
				{kind: fromStore, first: 2, n: 1, target: 2000, length: 1000, id: id('A')},
				{kind: fromStore, first: 3, n: 1, target: 3000, length: 1000, id: id('B')},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seeds []*seedFile
			for i, six := range tc.seeds {
				s := &seedFile{ix: six, name: fmt.Sprintf("seed%d", i+1)}
				if i < len(tc.invalid) && tc.invalid[i] {
					s.invalid.Store(true)
				}
				seeds = append(seeds, s)
			}
			var inPlace []bool
			if tc.inPlace != "" {
				for _, r := range tc.inPlace {
					inPlace = append(inPlace, r == 'x')
				}
			}
			x := &extraction{ix: tc.ix, seeds: seeds, isNull: nullChunks(tc.ix), blockSize: 4096}
			lo, hi := tc.lo, tc.hi
			if hi == 0 {
				hi = len(tc.ix.Chunks)
			}
			steps := x.plan(x.seedLocs(), inPlace, lo, hi)
			var got []want
			for _, s := range steps {
				w := want{kind: s.kind, first: s.first, n: s.n, target: s.target, length: s.length,
					source: s.source, id: s.id, seedFirst: s.seedFirst, of: s.of}
				for i, sf := range seeds {
					if s.seed == sf {
						w.seed = i + 1
					}
				}
				got = append(got, w)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d steps, want %d:\n%v", len(got), len(tc.want), steps)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("step %d: got %s\n\twant %+v", i, steps[i], tc.want[i])
				}
			}
		})
	}
}
