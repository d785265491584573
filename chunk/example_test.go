package chunk_test

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/folbricht/desync/chunk"
)

func ExampleZstd() {
	z, err := chunk.NewZstd(chunk.ZstdOptions{MaxSize: 256 << 10})
	if err != nil {
		panic(err)
	}
	plain := []byte("hello world")
	id := chunk.SHA512_256.Sum(plain)
	stored, _ := chunk.New(id, plain).Stored(z) // what goes into <store>/0ac5/<id>.cacnk

	c := chunk.NewStored(id, stored, z) // as read back from a store
	fmt.Println(id)
	fmt.Println(c.Verify(chunk.SHA512_256))
	// Output:
	// 0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017
	// <nil>
}

// A pool of workers that hash chunks declares itself, so that on a machine
// with fewer cores than workers their SHA-512/256 sums are batched.
func ExampleHashWorkers() {
	const workers = 10
	defer chunk.HashWorkers(workers)()

	data := make([][]byte, 40)
	ids := make([]chunk.ID, len(data))
	for i := range data {
		data[i] = bytes.Repeat([]byte{byte(i)}, 64<<10)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(data); i += workers {
				ids[i] = chunk.SHA512_256.Sum(data[i])
			}
		}()
	}
	wg.Wait()
	fmt.Println(ids[0] == chunk.SHA512_256.Sum(data[0]), ids[39] == chunk.SHA512_256.Sum(data[39]))
	// Output: true true
}

// A goroutine with several chunks at hand names them together.
func ExampleDigest_SumEach() {
	chunks := [][]byte{[]byte("hello world"), bytes.Repeat([]byte{1}, 64<<10), bytes.Repeat([]byte{2}, 40<<10)}
	ids := make([]chunk.ID, len(chunks))
	chunk.SHA512_256.SumEach(ids, chunks)
	fmt.Println(ids[0])
	fmt.Println(ids[1] == chunk.SHA512_256.Sum(chunks[1]), ids[2] == chunk.SHA512_256.Sum(chunks[2]))
	// Output:
	// 0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017
	// true true
}
