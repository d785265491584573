package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// releaseBranch is the side branch the release commits of version go on.
func releaseBranch(version string) string { return "release-" + version }

// tagRelease writes one commit per released module, each the previous one
// (HEAD first) with that module's released go.mod and go.sum, on the side
// branch release-<version>, and tags each <dir>/<version>. HEAD, the index
// and the work tree are left alone: the commits are made with a temporary
// index.
func tagRelease(r *repo, p *plan, arts []*artifact, work string) ([]string, error) {
	branch := "refs/heads/" + releaseBranch(p.version)
	if _, err := r.git("rev-parse", "--verify", "--quiet", branch); err == nil {
		return nil, fmt.Errorf("branch %s exists already", releaseBranch(p.version))
	}
	for _, a := range arts {
		tag := a.m.dir + "/" + a.m.next
		if _, err := r.git("rev-parse", "--verify", "--quiet", "refs/tags/"+tag); err == nil {
			return nil, fmt.Errorf("tag %s exists already", tag)
		}
	}
	idx := &repo{dir: r.dir, env: []string{"GIT_INDEX_FILE=" + filepath.Join(work, "release.index")}}
	if _, err := idx.git("read-tree", p.source); err != nil {
		return nil, err
	}
	parent := p.source
	type made struct{ tag, commit string }
	var commits []made
	for _, a := range arts {
		if err := stageFile(idx, a.m.dir+"/go.mod", a.gomod); err != nil {
			return nil, err
		}
		if err := stageFile(idx, a.m.dir+"/go.sum", a.gosum); err != nil {
			return nil, err
		}
		tree, err := idx.git("write-tree")
		if err != nil {
			return nil, err
		}
		msg := releaseMessage(p, a.m)
		commit, err := r.gitIn([]byte(msg), "commit-tree", tree, "-p", parent)
		if err != nil {
			return nil, err
		}
		commits = append(commits, made{a.m.dir + "/" + a.m.next, commit})
		parent = commit
	}
	if _, err := r.git("update-ref", branch, parent, ""); err != nil {
		return nil, err
	}
	var tags []string
	for _, c := range commits {
		if _, err := r.git("tag", "-a", "-m", strings.Replace(c.tag, "/", " ", 1), c.tag, c.commit); err != nil {
			return tags, err
		}
		tags = append(tags, c.tag)
	}
	return tags, nil
}

// stageFile puts data at path in idx's index; empty data removes the path.
func stageFile(idx *repo, path string, data []byte) error {
	if len(data) == 0 {
		_, err := idx.git("update-index", "--force-remove", "--", path)
		return err
	}
	sha, err := idx.gitIn(data, "hash-object", "-w", "--stdin")
	if err != nil {
		return err
	}
	_, err = idx.git("update-index", "--add", "--cacheinfo", "100644,"+sha+","+path)
	return err
}

// releaseMessage is the commit message of m's release commit; its trailer
// names the commit released, which the next release compares with.
func releaseMessage(p *plan, m *modState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: release %s\n\n", m.dir, m.next)
	fmt.Fprintf(&b, "go.mod requires its siblings at released versions, with no replace directives:\n")
	for _, s := range m.siblings {
		fmt.Fprintf(&b, "  %s%s %s\n", modulePrefix, s, p.byDir(s).version())
	}
	if len(m.siblings) == 0 {
		fmt.Fprintf(&b, "  (no sibling)\n")
	}
	fmt.Fprintf(&b, "\n%s: %s\n", sourceTrailer, p.source)
	return b.String()
}

// removeAll removes a temporary directory, module cache copies included
// (read-only directories made writable first).
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err == nil {
		return
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}
