package main

import (
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v0.1.0", "v1.2.3", "v1.0.0-rc.1"} {
		if err := checkVersion(v); err != nil {
			t.Errorf("checkVersion(%q): %v, want nil", v, err)
		}
	}
	for v, want := range map[string]string{
		"1.2.3":        "not semver",
		"v1.2":         "not semver",
		"v1.2.3+build": "not semver",
		"v01.2.3":      "not semver",
		"v2.0.0":       "major version v2",
	} {
		err := checkVersion(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkVersion(%q) = %v, want an error saying %q", v, err, want)
		}
	}
}

func TestParseChangelog(t *testing.T) {
	c := parseChangelog(`# Changelog

### v9.9.9 (before any section: ignored)

## chunker

### Unreleased
- things

### v0.2.0 — 2026-12-01
- more

## ` + "`cli`" + `

### v0.1.0
`)
	for _, tc := range []struct {
		dir, v string
		want   bool
	}{
		{"chunker", "v0.2.0", true},
		{"chunker", "Unreleased", true},
		{"chunker", "v0.1.0", false},
		{"cli", "v0.1.0", true},
		{"cli", "v0.2.0", false},
		{"chunk", "v0.2.0", false},
	} {
		if got := c[tc.dir][tc.v]; got != tc.want {
			t.Errorf("entry %s %s: %v, want %v", tc.dir, tc.v, got, tc.want)
		}
	}
}
