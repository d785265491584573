package catar_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/folbricht/desync/catar"
)

// Archive a directory as casync make --with=unix would.
func ExampleEncodeTree() {
	f, err := catar.FeatureOptions{With: []string{"unix"}}.Features()
	if err != nil {
		log.Fatal(err)
	}
	out, err := os.Create("/tmp/etc.catar")
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	st, err := catar.EncodeTree(context.Background(), out, "/etc", catar.EncodeOptions{Features: f})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d entries, %d bytes of contents, archive %d bytes\n", st.Entries, st.Bytes, st.Size)
}

// Write a tiny archive entry by entry: the root, then children in strcmp order.
func ExampleWriter() {
	w := catar.NewWriter(os.Stdout, catar.DefaultArchive)
	entries := []catar.Entry{
		{Path: "", Mode: catar.ModeDir | 0o755},
		{Path: "README", Mode: catar.ModeRegular | 0o644, Size: 6},
		{Path: "src", Mode: catar.ModeDir | 0o755},
		{Path: "src/link", Mode: catar.ModeSymlink | 0o777, Target: "../README"},
	}
	for i := range entries {
		if err := w.WriteEntry(&entries[i]); err != nil {
			log.Fatal(err)
		}
		if entries[i].Path == "README" {
			w.Write([]byte("hello\n"))
		}
	}
	if err := w.Close(); err != nil { // writes the open directories' GOODBYE tables
		log.Fatal(err)
	}
}
