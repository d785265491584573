//go:build linux

package catartest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBuildMatchesCasync proves the Go-built tree is the vectors' tree: the
// real casync archives it to the same bytes as testdata/tree.catar.
func TestBuildMatchesCasync(t *testing.T) {
	casync, err := exec.LookPath("casync")
	if err != nil {
		Unavailable(t, "casync not installed")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "tree")
	Build(t, dir)
	for _, v := range []struct{ vector, args string }{
		{"tree.catar", ""},
		{"tree.unix.catar", "--with=unix"},
		{"tree.without-all.catar", "--without=all"},
	} {
		out := filepath.Join(tmp, v.vector)
		args := []string{"make"}
		if v.args != "" {
			args = append(args, v.args)
		}
		args = append(args, out, dir)
		if b, err := exec.Command(casync, args...).CombinedOutput(); err != nil {
			t.Fatalf("casync %v: %v\n%s", args, err, b)
		}
		got, _ := os.ReadFile(out)
		want, err := os.ReadFile(filepath.Join("..", "testdata", v.vector))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: casync make of the Go-built tree differs from the vector (%d vs %d bytes)", v.vector, len(got), len(want))
		}
	}
}

func TestAESData(t *testing.T) {
	// First block of AES-128(key 00..0f) over a zero counter block (FIPS-197-style check value).
	got := AESData(16)
	want := []byte{0xc6, 0xa1, 0x3b, 0x37, 0x87, 0x8f, 0x5b, 0x82, 0x6f, 0x4f, 0x81, 0x62, 0xa1, 0xc8, 0xd8, 0x79}
	if !bytes.Equal(got, want) {
		t.Fatalf("AESData(16) = %x, want %x", got, want)
	}
}
