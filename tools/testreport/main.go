package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// event is one line of "go test -json" (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string
}

func main() {
	os.Exit(report(os.Stdin, os.Stdout))
}

// key names a test, or a package when test is empty.
type key struct{ pkg, test string }

// skip is a skipped test and why.
type skip struct {
	key
	reason string
}

// report reads events from r, writes the report to w, and returns the
// exit status.
func report(r io.Reader, w io.Writer) int {
	output := map[key]*strings.Builder{}
	builds := map[string]*strings.Builder{}
	open := map[string]bool{} // packages started and not finished
	var skips []skip
	failedTests, failedPkgs := 0, 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event (go vet's or the go command's own words):
			// pass it on.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			if builds[e.ImportPath] == nil {
				builds[e.ImportPath] = &strings.Builder{}
			}
			builds[e.ImportPath].WriteString(e.Output)
		case "build-fail":
			failedPkgs++
			fmt.Fprintf(w, "FAIL\t%s [build failed]\n", e.ImportPath)
			if b := builds[e.ImportPath]; b != nil {
				fmt.Fprint(w, indent(b.String()))
			}
		case "start":
			open[e.Package] = true
		case "output":
			if output[k] == nil {
				output[k] = &strings.Builder{}
			}
			output[k].WriteString(e.Output)
		case "skip":
			if e.Test != "" {
				skips = append(skips, skip{k, reason(output[k])})
			} else {
				delete(open, e.Package)
				fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
			}
		case "fail":
			switch {
			case e.Test != "":
				failedTests++
				fmt.Fprintf(w, "--- FAIL: %s (%s)\n", e.Test, seconds(e.Elapsed))
				fmt.Fprint(w, indent(text(output[k])))
			case e.FailedBuild != "": // counted and shown at its build-fail
				delete(open, e.Package)
				fmt.Fprintf(w, "FAIL\t%s\t%s\n", e.Package, seconds(e.Elapsed))
			default:
				delete(open, e.Package)
				failedPkgs++
				fmt.Fprint(w, indent(packageWords(text(output[k])))) // a panic, a timeout, TestMain
				fmt.Fprintf(w, "FAIL\t%s\t%s\n", e.Package, seconds(e.Elapsed))
			}
		case "pass":
			if e.Test == "" {
				delete(open, e.Package)
				fmt.Fprintf(w, "ok  \t%s\t%s\n", e.Package, seconds(e.Elapsed))
			}
		}
		if e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			delete(output, k) // keep memory to the tests still running
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(w, "testreport: reading go test's output: %v\n", err)
		failedPkgs++
	}
	for _, pkg := range slices.Sorted(maps.Keys(open)) {
		fmt.Fprintf(w, "FAIL\t%s\t(no result: go test ended before it)\n", pkg)
		failedPkgs++
	}
	writeSkips(w, skips)
	if failedTests+failedPkgs > 0 {
		fmt.Fprintf(w, "\nFAILED: %d tests, %d packages\n", failedTests, failedPkgs)
		return 1
	}
	return 0
}

// writeSkips lists the skipped tests: each top-level test with its reason
// (a live-interop test whose server or tool is missing), and the skipped
// subtests of a test that ran (a conformance case a store cannot run by
// design) as one line per parent with their count and the first reason.
func writeSkips(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		return
	}
	slices.SortFunc(skips, func(a, b skip) int {
		return strings.Compare(a.pkg+" "+a.test, b.pkg+" "+b.test)
	})
	fmt.Fprintf(w, "\nSKIPPED (%d):\n", len(skips))
	for i := 0; i < len(skips); {
		s := skips[i]
		parent, sub, ok := strings.Cut(s.test, "/")
		if !ok {
			fmt.Fprintf(w, "  %s %s: %s\n", s.pkg, s.test, s.reason)
			i++
			continue
		}
		n := 1
		for i+n < len(skips) && skips[i+n].pkg == s.pkg && strings.HasPrefix(skips[i+n].test, parent+"/") {
			n++
		}
		if n == 1 {
			fmt.Fprintf(w, "  %s %s: %s\n", s.pkg, s.test, s.reason)
		} else {
			fmt.Fprintf(w, "  %s %s: %d subtests, such as %s: %s\n", s.pkg, parent, n, sub, s.reason)
		}
		i += n
	}
}

// reason is what a skipped test said: its output without go test's own
// "=== RUN" and "--- SKIP" lines and the file:line prefix of t.Skip.
func reason(b *strings.Builder) string {
	var parts []string
	for _, l := range strings.Split(text(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		if file, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(file, ".go:") {
			l = msg
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, "; ")
}

// packageWords drops go test's summary lines from a package's own output
// (the report has its own), keeping what else it said.
func packageWords(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if t := strings.TrimSpace(l); t == "FAIL" || t == "PASS" || strings.HasPrefix(l, "FAIL\t") || strings.HasPrefix(l, "ok  \t") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "")
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
