package catar_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/folbricht/desync/catar"
)

// Read an archive entry by entry; Read gives the current file's payload.
func ExampleNewReader() {
	f, err := os.Open("testdata/desync.catar")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := catar.NewReader(f)
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *catar.FormatError naming offset and entry
		}
		if e.IsRegular() {
			n, _ := io.Copy(io.Discard, r)
			fmt.Printf("%q file of %d bytes\n", e.Path, n)
		} else {
			fmt.Printf("%q mode %o\n", e.Path, e.Mode)
		}
	}
	// Output:
	// "" mode 40755
	// "empty" mode 40755
	// "hello.txt" file of 6 bytes
	// "link" mode 120777
	// "null" mode 20644
	// "sub" mode 40755
	// "sub/big.txt" file of 1000 bytes
	// "sub/deeper" mode 40755
	// "sub/deeper/leaf" file of 5 bytes
}

// Extract an archive into a directory, confined to it.
func ExampleExtract() {
	f, err := os.Open("testdata/desync.catar")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "extract")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := catar.Extract(context.Background(), f, dir, catar.ExtractOptions{NoSameOwner: true, Workers: 4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Entries, "entries,", st.Files, "files,", st.Bytes, "bytes")
	// Output: 9 entries, 3 files, 1011 bytes
}
