package catar

import (
	"bufio"
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"
)

// dumpRecord is one line of testdata/tree.catar.dump.txt.
type dumpRecord struct {
	off    int64
	typ    string
	size   int64
	fields map[string]string
	quoted string // FILENAME, SYMLINK, USER, GROUP argument
}

// readDump parses the record dump of one archive of tree.catar.dump.txt.
func readDump(t *testing.T, archive string) []dumpRecord {
	t.Helper()
	f, err := os.Open("testdata/tree.catar.dump.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []dumpRecord
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "### ") {
			in = line == "### "+archive
			continue
		}
		fs := strings.Fields(line)
		if !in || len(fs) < 3 || strings.HasPrefix(fs[0], "item[") {
			continue
		}
		off, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			t.Fatalf("dump line %q: %v", line, err)
		}
		rec := dumpRecord{off: off, typ: fs[1], fields: map[string]string{}}
		rec.size, _ = strconv.ParseInt(strings.TrimPrefix(fs[2], "size="), 10, 64)
		if i := strings.IndexByte(line, '\''); i >= 0 && rec.typ != "XATTR" {
			rec.quoted = strings.TrimSuffix(line[i+1:], "'")
		}
		if len(fs) > 3 {
			rec.fields["first"] = fs[3]
		}
		for _, kv := range fs[3:] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				rec.fields[k] = v
			}
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		t.Fatalf("no records for %s in the dump", archive)
	}
	return recs
}

func atoi(t *testing.T, s string) uint64 {
	t.Helper()
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		s, base = s[2:], 16
	case strings.HasPrefix(s, "0") && len(s) > 1:
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// TestReaderVectors decodes casync's archives and checks every entry against
// the record dump: offsets, numbers, names, payload digests, targets, devices.
func TestReaderVectors(t *testing.T) {
	for _, name := range []string{"tree.catar", "tree.unix.catar", "tree.without-all.catar"} {
		t.Run(name, func(t *testing.T) {
			recs := readDump(t, name)
			f, err := os.Open("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := NewReader(f)
			lastName := ""
			n := 0
			for i := 0; i < len(recs); i++ {
				rec := recs[i]
				switch rec.typ {
				case "FILENAME":
					lastName = rec.quoted
					continue
				case "ENTRY":
				default:
					continue
				}
				e, err := r.Next()
				if err != nil {
					t.Fatalf("entry at %d: %v", rec.off, err)
				}
				n++
				if r.Offset() != rec.off {
					t.Fatalf("%q: offset %d, dump says %d", e.Path, r.Offset(), rec.off)
				}
				if uint64(r.Features()) != atoi(t, rec.fields["feature_flags"]) {
					t.Fatalf("features %#x", uint64(r.Features()))
				}
				if rec.off == 0 {
					if e.Path != "" {
						t.Fatalf("root path %q", e.Path)
					}
				} else if path.Base(e.Path) != lastName {
					t.Fatalf("entry at %d: path %q, dump's FILENAME %q", rec.off, e.Path, lastName)
				}
				if uint64(e.Mode) != atoi(t, rec.fields["mode"]) || e.Flags != atoi(t, rec.fields["flags"]) ||
					uint64(e.UID) != atoi(t, rec.fields["uid"]) || uint64(e.GID) != atoi(t, rec.fields["gid"]) ||
					uint64(e.MTime) != atoi(t, rec.fields["mtime"]) {
					t.Fatalf("%q: entry %+v differs from dump %v", e.Path, e, rec.fields)
				}
				// The records of the object up to the next FILENAME/GOODBYE/ENTRY.
				var xattrs []string
				for j := i + 1; j < len(recs) && recs[j].typ != "FILENAME" && recs[j].typ != "GOODBYE" && recs[j].typ != "ENTRY"; j++ {
					o := recs[j]
					switch o.typ {
					case "USER":
						if e.User != o.quoted {
							t.Fatalf("%q: user %q, want %q", e.Path, e.User, o.quoted)
						}
					case "GROUP":
						if e.Group != o.quoted {
							t.Fatalf("%q: group %q, want %q", e.Path, e.Group, o.quoted)
						}
					case "XATTR":
						xattrs = append(xattrs, strings.SplitN(o.fields["first"], "=", 2)[0])
					case "SYMLINK":
						if e.Target != o.quoted {
							t.Fatalf("%q: target %q, want %q", e.Path, e.Target, o.quoted)
						}
					case "DEVICE":
						if e.DevMajor != atoi(t, o.fields["major"]) || e.DevMinor != atoi(t, o.fields["minor"]) {
							t.Fatalf("%q: device %d:%d", e.Path, e.DevMajor, e.DevMinor)
						}
					case "PAYLOAD":
						h := sha512.New512_256()
						if _, err := io.Copy(h, r); err != nil {
							t.Fatal(err)
						}
						if e.Size != int64(atoi(t, o.fields["payload_size"])) || hex.EncodeToString(h.Sum(nil)) != o.fields["sha512_256"] {
							t.Fatalf("%q: payload size %d or digest differs", e.Path, e.Size)
						}
					}
				}
				if len(xattrs) != len(e.Xattrs) {
					t.Fatalf("%q: %d xattrs, dump has %d", e.Path, len(e.Xattrs), len(xattrs))
				}
				for k := range xattrs {
					if e.Xattrs[k].Name != xattrs[k] {
						t.Fatalf("%q: xattr %q, want %q", e.Path, e.Xattrs[k].Name, xattrs[k])
					}
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the last entry: %v, want io.EOF", err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after EOF: %v", err)
			}
			if n < 10 {
				t.Fatalf("only %d entries", n)
			}
		})
	}
}

// TestReaderDesyncArchive reads an archive the original desync wrote.
func TestReaderDesyncArchive(t *testing.T) {
	f, err := os.Open("testdata/desync.catar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	var paths []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, e.Path)
		if e.Path == "hello.txt" {
			if len(e.Xattrs) != 1 || e.Xattrs[0].Name != "user.comment" || e.Mode != ModeRegular|0o4755 {
				t.Fatalf("hello.txt: %+v", e)
			}
			b, _ := io.ReadAll(r)
			if string(b) != "hello\n" {
				t.Fatalf("hello.txt payload %q", b)
			}
		}
	}
	want := ",empty,hello.txt,link,null,sub,sub/big.txt,sub/deeper,sub/deeper/leaf"
	if got := strings.Join(paths, ","); got != want {
		t.Fatalf("paths %s, want %s", got, want)
	}
	if r.Features() != 0xb000000010001f22 {
		t.Fatalf("features %#x", uint64(r.Features()))
	}
}

// TestReaderTruncated cuts tree.catar at every record boundary (and inside
// records): each prefix must give a *FormatError wrapping io.ErrUnexpectedEOF.
func TestReaderTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/tree.catar")
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 1, 15, 16, 63}
	for _, rec := range readDump(t, "tree.catar") {
		cuts = append(cuts, int(rec.off), int(rec.off)+8, int(rec.off+rec.size)-1)
	}
	for _, cut := range cuts {
		if cut >= len(data) {
			continue
		}
		err := readAll(strings.NewReader(string(data[:cut])))
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v, want a FormatError wrapping io.ErrUnexpectedEOF", cut, err)
		}
	}
	if err := readAll(strings.NewReader(string(data) + "x")); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Fatalf("trailing byte: %v", err)
	}
	if err := readAll(strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
}

// readAll decodes a whole archive, reading every payload.
func readAll(rd io.Reader) error {
	r := NewReader(rd)
	for {
		_, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
}

// TestReaderUnsorted: children out of strcmp order (the original desync's
// tar input keeps the tar's order; casync reads such archives) are read,
// each once, and their goodbye table still verified.
func TestReaderUnsorted(t *testing.T) {
	arch := buildArchive(DefaultArchive, dirNode(fileNode("g", "1"), &tn{name: "d", mode: ModeDir | 0o755, kids: []*tn{fileNode("f", "2")}}, fileNode("a", "3")))
	if s := archivePaths(t, bytes.NewReader(arch)); s != ",g,d,d/f,a" {
		t.Fatalf("entries %q", s)
	}
}

// TestReaderDesyncTarInput reads the original desync's archive of a tar
// stream, whose entries are in the tar's order.
func TestReaderDesyncTarInput(t *testing.T) {
	f, err := os.Open("testdata/desync-tar.catar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := archivePaths(t, f); s != ",g,d,d/f" {
		t.Fatalf("entries %q", s)
	}
}

// archivePaths decodes the archive r and returns its entries' paths joined
// by commas (the root is the empty first one).
func archivePaths(t *testing.T, r io.Reader) string {
	t.Helper()
	ar := NewReader(r)
	var paths []string
	for {
		e, err := ar.Next()
		if err == io.EOF {
			return strings.Join(paths, ",")
		}
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, e.Path)
	}
}
