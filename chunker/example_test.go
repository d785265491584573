package chunker_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/folbricht/desync/chunker"
)

func ExampleReader() {
	p, err := chunker.ParseParams("16:64:256") // KiB, as desync's -m flag
	if err != nil {
		panic(err)
	}
	c, err := chunker.New(p)
	if err != nil {
		panic(err)
	}
	r := chunker.NewReader(bytes.NewReader(make([]byte, 600000)), c)
	for {
		data, offset, err := r.Next()
		if err == io.EOF {
			break
		}
		fmt.Println(offset, len(data))
	}
	// Output:
	// 0 262144
	// 262144 262144
	// 524288 75712
}

func ExampleChunker_Next() {
	c, _ := chunker.New(chunker.Params{Min: 64, Avg: 64, Max: 64}) // fixed-size
	data := make([]byte, 150)
	for pos := 0; pos < len(data); {
		n := c.Next(data[pos:], true)
		fmt.Print(n, " ")
		pos += n
	}
	// Output: 64 64 22
}
