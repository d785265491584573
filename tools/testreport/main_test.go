package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events string
		code   int
		want   []string // in the report, in this order
		not    []string
	}{
		{
			name: "pass and a skip with its reason",
			events: `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}
{"Action":"run","Package":"p","Test":"TestCasync"}
{"Action":"output","Package":"p","Test":"TestCasync","Output":"=== RUN   TestCasync\n"}
{"Action":"output","Package":"p","Test":"TestCasync","Output":"    interop_test.go:30: casync is not installed\n"}
{"Action":"output","Package":"p","Test":"TestCasync","Output":"--- SKIP: TestCasync (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestCasync"}
{"Action":"pass","Package":"p","Elapsed":1.5}
`,
			code: 0,
			want: []string{"ok  \tp\t1.5s", "SKIPPED (1):", "p TestCasync: casync is not installed"},
			not:  []string{"FAIL", "=== RUN"},
		},
		{
			name: "a failed test shows its output",
			events: `{"Action":"start","Package":"q"}
{"Action":"output","Package":"q","Test":"TestB","Output":"    b_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"q","Test":"TestB","Elapsed":0.2}
{"Action":"output","Package":"q","Output":"FAIL\n"}
{"Action":"output","Package":"q","Output":"FAIL\tq\t0.300s\n"}
{"Action":"fail","Package":"q","Elapsed":0.3}
`,
			code: 1,
			want: []string{"--- FAIL: TestB (200ms)", "b_test.go:9: got 1, want 2", "FAIL\tq\t300ms", "FAILED: 1 tests, 1 packages"},
			not:  []string{"0.300s"},
		},
		{
			name: "a build failure shows the compiler's words",
			events: `{"ImportPath":"r [r.test]","Action":"build-output","Output":"./x.go:3:1: syntax error\n"}
{"ImportPath":"r [r.test]","Action":"build-fail"}
{"Action":"start","Package":"r"}
{"Action":"output","Package":"r","Output":"FAIL\tr [build failed]\n"}
{"Action":"fail","Package":"r","Elapsed":0,"FailedBuild":"r [r.test]"}
`,
			code: 1,
			want: []string{"FAIL\tr [r.test] [build failed]", "./x.go:3:1: syntax error", "FAILED: 0 tests, 1 packages"},
		},
		{
			name: "go test killed before the package ended",
			events: `{"Action":"start","Package":"s"}
{"Action":"run","Package":"s","Test":"TestLong"}
`,
			code: 1,
			want: []string{"FAIL\ts\t(no result", "FAILED: 0 tests, 1 packages"},
		},
		{
			name: "skipped subtests of a test that ran are one line",
			events: `{"Action":"start","Package":"u"}
{"Action":"output","Package":"u","Test":"TestConf/List","Output":"    c.go:1: store x is not a Lister\n"}
{"Action":"skip","Package":"u","Test":"TestConf/List"}
{"Action":"output","Package":"u","Test":"TestConf/Prune","Output":"    c.go:2: store x is not a PruneStore\n"}
{"Action":"skip","Package":"u","Test":"TestConf/Prune"}
{"Action":"pass","Package":"u","Test":"TestConf"}
{"Action":"output","Package":"u","Test":"TestOther/One","Output":"    c.go:3: only one\n"}
{"Action":"skip","Package":"u","Test":"TestOther/One"}
{"Action":"pass","Package":"u","Elapsed":1}
`,
			code: 0,
			want: []string{"SKIPPED (3):", "u TestConf: 2 subtests, such as List: store x is not a Lister", "u TestOther/One: only one"},
			not:  []string{"PruneStore"},
		},
		{
			name:   "lines that are not events pass through",
			events: "go: downloading example.com/m v1.0.0\n" + `{"Action":"skip","Package":"t"}` + "\n",
			code:   0,
			want:   []string{"go: downloading example.com/m v1.0.0", "?   \tt\t[no test files]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if code := report(strings.NewReader(tc.events), &out); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			got := out.String()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Errorf("report lacks %q (after offset %d):\n%s", w, at, got)
					continue
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("report has %q:\n%s", n, got)
				}
			}
		})
	}
}
