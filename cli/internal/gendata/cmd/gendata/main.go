// Command gendata writes a deterministic test or benchmark input file.
//
//	gendata -kind random|text|mixed -size 1G -seed N -o OUT
//	gendata -kind edit -base FILE -seed N -o OUT
//
// -size accepts a plain byte count or a K, M, G or T suffix (powers of 1024).
// -o - writes to standard output. A file output is written to a temporary
// name next to OUT and renamed into place when complete, so an interrupted
// run never leaves a short file under OUT.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/folbricht/desync/cli/internal/gendata"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	kind := fs.String("kind", "random", "kind of data: random, text, mixed or edit")
	sizeStr := fs.String("size", "", "output size in bytes, with optional K/M/G/T suffix (not for -kind edit)")
	seed := fs.Uint64("seed", 1, "seed")
	base := fs.String("base", "", "file to edit (-kind edit)")
	out := fs.String("o", "", "output file, or - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("-o is required")
	}

	var gen func(io.Writer) error
	switch *kind {
	case "random", "text", "mixed":
		if *base != "" {
			return fmt.Errorf("-base is only for -kind edit")
		}
		size, err := parseSize(*sizeStr)
		if err != nil {
			return err
		}
		f := map[string]func(io.Writer, int64, uint64) error{
			"random": gendata.Random, "text": gendata.Text, "mixed": gendata.Mixed,
		}[*kind]
		gen = func(w io.Writer) error { return f(w, size, *seed) }
	case "edit":
		if *base == "" {
			return errors.New("-kind edit needs -base FILE")
		}
		if *sizeStr != "" {
			return errors.New("-size does not apply to -kind edit (the output size follows from the base)")
		}
		bf, err := os.Open(*base)
		if err != nil {
			return err
		}
		defer bf.Close()
		st, err := bf.Stat()
		if err != nil {
			return err
		}
		gen = func(w io.Writer) error { return gendata.Edit(w, bf, st.Size(), *seed) }
	default:
		return fmt.Errorf("unknown -kind %q (want random, text, mixed or edit)", *kind)
	}

	if *out == "-" {
		bw := bufio.NewWriterSize(os.Stdout, 1<<20)
		if err := gen(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	return writeFile(*out, gen)
}

// writeFile runs gen into a temporary file next to name, then renames it
// into place.
func writeFile(name string, gen func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600; give it a regular file's mode.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := gen(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// parseSize parses a byte count with an optional K, M, G or T suffix
// (binary multiples; a trailing "B" or "iB" is accepted too: 64M, 64MB, 64MiB).
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("-size is required")
	}
	num := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	shift := 0
	if n := len(num); n > 0 {
		switch num[n-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift > 0 {
			num = num[:n-1]
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if v > (1<<63-1)>>shift {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return v << shift, nil
}
