package chunk_test

import (
	"fmt"

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
