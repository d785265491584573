package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// repo runs git in one work tree.
type repo struct {
	dir string
	env []string // extra environment for every git call (GIT_INDEX_FILE)
}

// git runs git with args and returns its trimmed standard output.
func (r *repo) git(args ...string) (string, error) {
	return r.gitIn(nil, args...)
}

// gitIn is git with stdin.
func (r *repo) gitIn(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), r.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// head is the commit HEAD names.
func (r *repo) head() (string, error) { return r.git("rev-parse", "--verify", "HEAD^{commit}") }

// commitTime is the committer time of a commit, the .info time of what is
// released from it.
func (r *repo) commitTime(rev string) (time.Time, error) {
	s, err := r.git("show", "-s", "--format=%ct", rev)
	if err != nil {
		return time.Time{}, err
	}
	var sec int64
	if _, err := fmt.Sscan(s, &sec); err != nil {
		return time.Time{}, fmt.Errorf("commit time of %s: %q: %v", rev, s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// dirty lists what `git status --porcelain` reports (changed, staged and
// untracked files); empty for a clean tree.
func (r *repo) dirty() (string, error) { return r.git("status", "--porcelain") }

// lastTag is the highest semver tag <dir>/vX.Y.Z and the version it names;
// both empty when the module was never tagged.
func (r *repo) lastTag(dir string) (tag, version string, err error) {
	out, err := r.git("tag", "--list", dir+"/v*")
	if err != nil {
		return "", "", err
	}
	for _, t := range strings.Fields(out) {
		v := strings.TrimPrefix(t, dir+"/")
		if !semver.IsValid(v) {
			continue
		}
		if version == "" || semver.Compare(v, version) > 0 {
			tag, version = t, v
		}
	}
	return tag, version, nil
}

// sourceTrailer is the trailer of a release commit naming the commit whose
// files it released.
const sourceTrailer = "Release-Source"

// releaseSource is the commit a release tag was cut from: its commit's
// Release-Source trailer, "" when it has none (a tag made by hand).
func (r *repo) releaseSource(tag string) (string, error) {
	msg, err := r.git("show", "-s", "--format=%B", tag+"^{commit}")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(line, sourceTrailer+": "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", nil
}

// changedSince reports whether any file under dir/ differs between commit
// from and HEAD.
func (r *repo) changedSince(from, dir string) (bool, error) {
	out, err := r.git("diff", "--name-only", from, "HEAD", "--", dir+"/")
	if err != nil {
		return false, err
	}
	return out != "", nil
}

// trackedFiles lists the files git tracks under dir/, relative to the
// repository root.
func (r *repo) trackedFiles(dir string) ([]string, error) {
	out, err := r.git("ls-files", "-z", "--", dir+"/")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}
