// Command testreport reads the output of "go test -json" on stdin and
// prints what a person needs from a run of the whole workspace: a line per
// package (ok, FAIL, or no tests), the output of every failed test and of
// every package that failed to build, and at the end the tests that were
// skipped, each with the reason it gave (a live-interop test whose server,
// peer or tool is missing says so). A plain "go test" hides skips unless
// -v, and -v buries everything else.
//
// It exits 1 if any test or package failed, or if stdin ends before the
// packages it started reporting have finished (a killed go test), so that
//
//	go test -race -json -timeout 20m work | GOWORK=off go -C tools run ./testreport
//
// fails as go test would (with pipefail, go test's own status counts too).
package main
