package fuse

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
)

// CORFile is a copy-on-read file: a sparse file as long as the stream of
// an index, into which a [Blob] writes every chunk it fetches, at the
// chunk's offset, and from which it reads those chunks later. Which chunks
// it holds is a bitmap, one bit per chunk of the index, that SaveState
// writes and LoadState reads in the original desync's state file format:
// bit i (byte i/8, value 1<<(i%8)) set when chunk i is in the file.
//
// A state file is only valid for the one file and index it was written
// with; unlike the original desync, LoadState checks every chunk it marks
// against its ID, so a stale or foreign state costs fetches, not
// corrupted reads.
type CORFile struct {
	f    *os.File
	ix   *caindex.Index
	bits []atomic.Uint64
	mu   sync.Mutex // serializes SaveState
}

// OpenCOR opens (creating it if needed) the copy-on-read file path for the
// stream of ix, and sets its length to the stream's. No chunk is marked
// as held until LoadState says so.
func OpenCOR(path string, ix *caindex.Index) (*CORFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("copy-on-read file: %w", err)
	}
	if err := f.Truncate(int64(ix.Size())); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy-on-read file: %w", err)
	}
	return &CORFile{f: f, ix: ix, bits: make([]atomic.Uint64, (len(ix.Chunks)+63)/64)}, nil
}

// Close closes the file.
func (c *CORFile) Close() error { return c.f.Close() }

func (c *CORFile) has(i int) bool {
	return c.bits[i/64].Load()&(1<<(i%64)) != 0
}

func (c *CORFile) mark(i int) {
	c.bits[i/64].Or(1 << (i % 64))
}

// Count returns the number of chunks the file holds.
func (c *CORFile) Count() int {
	n := 0
	for i := range c.ix.Chunks {
		if c.has(i) {
			n++
		}
	}
	return n
}

// read reads len(p) bytes of the file at off.
func (c *CORFile) read(p []byte, off int64) error {
	_, err := c.f.ReadAt(p, off)
	return err
}

// write stores chunk i's content at off and marks it held.
func (c *CORFile) write(i int, data []byte, off int64) error {
	if _, err := c.f.WriteAt(data, off); err != nil {
		return err
	}
	c.mark(i)
	return nil
}

// state returns the bitmap in the state file's format.
func (c *CORFile) state() []byte {
	b := make([]byte, (len(c.ix.Chunks)+7)/8)
	for i := range c.ix.Chunks {
		if c.has(i) {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

// SaveState writes which chunks the file holds to path, replacing it
// atomically (a temporary file renamed into place).
func (c *CORFile) SaveState(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("copy-on-read state: %w", err)
	}
	_, err = tmp.Write(c.state())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("copy-on-read state %s: %w", path, err)
	}
	return nil
}

// LoadState reads a state file written by SaveState (or the original
// desync's --cor-state-save) and marks the chunks it lists as held, after
// checking each against its ID with n goroutines (0: DefaultConcurrency).
// It returns the number of chunks marked and of those that did not match
// (left to be fetched again).
func (c *CORFile) LoadState(r io.Reader, n int) (marked, mismatched int, err error) {
	want := (len(c.ix.Chunks) + 7) / 8
	b, err := io.ReadAll(io.LimitReader(r, int64(want)+1))
	if err != nil {
		return 0, 0, fmt.Errorf("copy-on-read state: %w", err)
	}
	if len(b) != want {
		return 0, 0, fmt.Errorf("copy-on-read state: %d bytes, an index of %d chunks needs %d (a state of another index?)", len(b), len(c.ix.Chunks), want)
	}
	if n <= 0 {
		n = DefaultConcurrency
	}
	todo := make(chan int)
	var wg sync.WaitGroup
	var good, bad atomic.Int64
	var firstErr error
	var errOnce sync.Once
	d := c.ix.Digest()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range todo {
				ch := c.ix.Chunks[i]
				buf = append(buf[:0], make([]byte, ch.Size)...)
				if _, err := c.f.ReadAt(buf, int64(ch.Start)); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("copy-on-read file: %w", err) })
					continue
				}
				if d.Sum(buf) != ch.ID {
					bad.Add(1)
					continue
				}
				c.mark(i)
				good.Add(1)
			}
		}()
	}
	for i := range c.ix.Chunks {
		if b[i/8]&(1<<(i%8)) != 0 {
			todo <- i
		}
	}
	close(todo)
	wg.Wait()
	return int(good.Load()), int(bad.Load()), firstErr
}
