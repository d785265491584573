package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to the file named by
// DESYNC_CPUPROFILE, and a heap profile (what the run allocated, and what
// is live at its end) to the file named by DESYNC_MEMPROFILE, for
// developers measuring desync; it returns the function that ends the
// profiles.
func startProfile() func() {
	stopCPU := func() {}
	if path := os.Getenv("DESYNC_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "desync: DESYNC_CPUPROFILE:", err)
		} else {
			stopCPU = func() {
				pprof.StopCPUProfile()
				f.Close()
			}
		}
	}
	return func() {
		stopCPU()
		if path := os.Getenv("DESYNC_MEMPROFILE"); path != "" {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(os.Stderr, "desync: DESYNC_MEMPROFILE:", err)
			}
		}
	}
}

func writeHeapProfile(path string) error {
	runtime.GC() // the in-use figures are those of the last collection
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
