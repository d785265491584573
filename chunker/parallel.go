package chunker

import (
	"slices"
	"sync"
)

// SplitParallel returns the same end offsets as [Chunker.Split], computed by
// up to workers goroutines.
//
// The data is cut into segments; each segment is chunked as if a chunk began
// at its first byte. Because every chunk boundary depends only on the bytes
// since the previous boundary, the true chain of boundaries coming from the
// previous segment agrees with the speculative one from the first boundary the
// two share on; until that point the chain is continued serially. Content
// defined boundaries usually re-align within a chunk or two; on data where
// they do not (long zero runs cut at max) the result is still exact, only less
// parallel.
func (c *Chunker) SplitParallel(data []byte, workers int) []int {
	segLen := len(data) / max(workers, 1)
	if workers <= 1 || segLen < 16*c.max {
		return c.Split(data)
	}
	// lists[k] holds segment k's speculative start followed by its cuts, up to
	// and including the first cut at or past the start of segment k+1.
	lists := make([][]int, workers)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start, stop := k*segLen, (k+1)*segLen
			if k == workers-1 {
				stop = len(data)
			}
			l := make([]int, 1, (stop-start)/int(c.p.Avg)+2)
			l[0] = start
			for pos := start; pos < stop; {
				pos += c.Next(data[pos:], true)
				l = append(l, pos)
			}
			lists[k] = l
		}()
	}
	wg.Wait()

	ends := make([]int, 0, len(data)/int(c.p.Avg)+1)
	ends = append(ends, lists[0][1:]...)
	pos := ends[len(ends)-1]
	for _, l := range lists[1:] {
		last := l[len(l)-1]
		for pos < last {
			if j, found := slices.BinarySearch(l, pos); found {
				ends = append(ends, l[j+1:]...)
				pos = last
				break
			}
			pos += c.Next(data[pos:], true)
			ends = append(ends, pos)
		}
	}
	for pos < len(data) {
		pos += c.Next(data[pos:], true)
		ends = append(ends, pos)
	}
	return ends
}
