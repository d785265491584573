package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestMakeMatchesCasync makes casync's vectors through the command line, with
// each spelling of the chunk size, and compares the index bytes.
func TestMakeMatchesCasync(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"blob1.caibx", []string{"testdata/blob1.bin"}},
		{"blob1.caibx", []string{"-m", "16:64:256", "testdata/blob1.bin"}},
		{"blob1.cs16k.caibx", []string{"-m", "4:16:64", "testdata/blob1.bin"}},
		{"blob1.cs16k.caibx", []string{"--chunk-size", "4096B:16384B:65536B", "testdata/blob1.bin"}},
		{"blob1.cs16k.caibx", []string{"--chunk-size=16K", "testdata/blob1.bin"}},
		{"text.fixed8k.caibx", []string{"-m", "8K:8K:8K", "testdata/text.bin"}},
		{"text.sha256.caibx", []string{"--digest", "sha256", "testdata/text.bin"}},
		// Flags after the positional arguments, as desync allows.
		{"blob1.cs16k.caibx", []string{"testdata/blob1.bin", "-m", "4:16:64", "-n", "3"}},
	} {
		out := filepath.Join(dir, "out.caibx")
		args := append([]string{"make", out}, tc.args...)
		if r := run(t, nil, args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if !bytes.Equal(mustRead(t, out), mustRead(t, filepath.Join("testdata", tc.want))) {
			t.Errorf("%v: index differs from casync's %s", args, tc.want)
		}
	}
}

func TestConcurrentMakes(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	base := genRandom(t, 2<<20, 7)
	type job struct {
		input, index string
		data         []byte
	}
	var jobs []job
	for i := range 4 {
		// Each input shares its first MiB with the others, then differs,
		// then shares the tail of base again.
		d := slices.Clone(base)
		copy(d[1<<20:], genRandom(t, 256<<10, uint64(100+i)))
		in := writeFile(t, filepath.Join(dir, fmt.Sprintf("in%d", i)), d)
		jobs = append(jobs, job{in, filepath.Join(dir, fmt.Sprintf("in%d.caibx", i)), d})
	}
	var wg sync.WaitGroup
	results := make([]result, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"make", "-s", store, "-n", "2", j.index, j.input}, Stdio{In: bytes.NewReader(nil), Out: &out, Err: &errb})
			results[i] = result{code, out.String(), errb.String()}
		}()
	}
	wg.Wait()
	var all []string
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("make %d: exit %d: %s", i, r.code, r.stderr)
		}
		all = append(all, uniqueIDs(readIndex(t, jobs[i].index))...)
	}
	assertNoTemp(t, store)
	assertSameIDs(t, "store", storeChunks(t, store), all)
	for _, j := range jobs {
		extractOK(t, j.data, j.index, "-s", store)
	}
	mustRun(t, nil, "verify", "-s", store)
}
