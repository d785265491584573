package catar

import (
	"bufio"
	"bytes"
	"path"
	"strings"
)

// excludeFileName is the per-directory exclusion file casync honours.
const excludeFileName = ".caexclude"

// excludePattern is one line of a .caexclude file, gitignore-like:
//
//	*.tmp     a name anywhere below the file's directory
//	/top      anchored: relative to the file's directory only, as is any
//	          pattern with a slash (sub/*.txt, and cache/ too)
//	cache/    a trailing slash: directories only (and anchored, as above;
//	          checked against casync 2)
//	!keep     re-includes what an earlier pattern excluded
//	# …       comment; blank lines are ignored
//
// Patterns use path.Match syntax (*, ?, [..], \ escapes; * does not match /).
// The last matching pattern decides.
type excludePattern struct {
	base     string // archive path of the directory holding the .caexclude ("" root)
	pat      string
	anchored bool
	dirOnly  bool
	negate   bool
}

// parseExclude parses a .caexclude file of the directory base.
func parseExclude(base string, data []byte) []excludePattern {
	var ps []excludePattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || line[0] == '#' {
			continue
		}
		p := excludePattern{base: base}
		if line[0] == '!' {
			p.negate, line = true, line[1:]
		}
		// Any slash anchors the pattern, a trailing one too (unlike
		// gitignore: casync excludes "cache/" only at the top).
		p.anchored = strings.Contains(line, "/")
		if strings.HasSuffix(line, "/") {
			p.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		line = strings.TrimLeft(line, "/")
		if line == "" {
			continue
		}
		p.pat = line
		ps = append(ps, p)
	}
	return ps
}

// excluded reports whether the entry at archive path rel is excluded by ps.
func excluded(ps []excludePattern, rel string, isDir bool) bool {
	ex := false
	for _, p := range ps {
		if p.dirOnly && !isDir {
			continue
		}
		r := rel
		if p.base != "" {
			if !strings.HasPrefix(rel, p.base+"/") {
				continue
			}
			r = rel[len(p.base)+1:]
		}
		var ok bool
		if p.anchored {
			ok, _ = path.Match(p.pat, r)
		} else {
			ok, _ = path.Match(p.pat, path.Base(r))
		}
		if ok {
			ex = !p.negate
		}
	}
	return ex
}
