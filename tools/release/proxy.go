package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// artifact is one released module state: the files that differ from the
// source commit, and where the module's files were staged.
type artifact struct {
	m     *modState
	gomod []byte // released go.mod (after tidy)
	gosum []byte // released go.sum; empty when the module requires nothing
	stage string // directory holding the module as released
}

// goEnv is `go env NAME`.
func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// forgetCached removes path@version from the module cache, so a go command
// resolving it reads the proxy directory being built, not a copy an earlier
// build of the same version left (a test version is built again and again).
func forgetCached(modcache, path, version string) error {
	ep, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return err
	}
	dl := filepath.Join(modcache, "cache", "download", ep, "@v")
	for _, ext := range []string{".info", ".mod", ".zip", ".ziphash", ".lock", ".partial"} {
		if err := os.Remove(filepath.Join(dl, ev+ext)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if err := unlist(filepath.Join(dl, "list"), version); err != nil {
		return err
	}
	src := filepath.Join(modcache, ep+"@"+ev)
	if _, err := os.Lstat(src); os.IsNotExist(err) {
		return nil
	}
	// The module cache is read-only; make it writable to remove it.
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(src)
}

// unlist removes version from a module cache's @v/list, the versions the
// cache has seen; the file goes when none is left.
func unlist(list, version string) error {
	data, err := os.ReadFile(list)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	for _, v := range strings.Fields(string(data)) {
		if v != version {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		return os.Remove(list)
	}
	return os.WriteFile(list, []byte(strings.Join(keep, "\n")+"\n"), 0o644)
}

// proxyBuilder writes the proxy directory of a plan.
type proxyBuilder struct {
	r        *repo
	p        *plan
	dir      string // the proxy directory (absolute)
	work     string // temporary directory for staged modules
	upstream string // GOPROXY after the proxy directory
	time     time.Time
	log      func(format string, args ...any)
}

// build stages, tidies and publishes every released module into b.dir, in
// release order, so that each module's tidy resolves its siblings there.
func (b *proxyBuilder) build() (_ []*artifact, err error) {
	modcache, err := goEnv("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	if b.upstream == "" {
		if b.upstream, err = goEnv("GOPROXY"); err != nil {
			return nil, err
		}
	}
	if b.time, err = b.r.commitTime(b.p.source); err != nil {
		return nil, err
	}
	if err := b.forget(modcache); err != nil {
		return nil, err
	}
	// What the tidies of later modules copied into the module cache goes
	// too: a test version must not linger there for the next consumer.
	defer func() {
		if ferr := b.forget(modcache); ferr != nil && err == nil {
			err = ferr
		}
	}()
	var arts []*artifact
	for _, m := range b.p.released() {
		start := time.Now()
		a, err := b.stage(m)
		if err != nil {
			return nil, err
		}
		if err := b.publish(a); err != nil {
			return nil, err
		}
		b.log("%s@%s: staged, tidied, zipped (%.1fs)", m.dir, m.next, time.Since(start).Seconds())
		arts = append(arts, a)
	}
	return arts, nil
}

// forget removes every module b releases, at its new version, from the
// module cache.
func (b *proxyBuilder) forget(modcache string) error {
	for _, m := range b.p.released() {
		if err := forgetCached(modcache, m.path, m.next); err != nil {
			return fmt.Errorf("%s@%s: removing a cached copy: %v", m.path, m.next, err)
		}
	}
	return nil
}

// stage copies m's tracked files into a temporary directory, writes its
// released go.mod and runs `go mod tidy` there for the go.sum.
func (b *proxyBuilder) stage(m *modState) (*artifact, error) {
	gomod, err := releasedGoMod(b.p, m)
	if err != nil {
		return nil, err
	}
	stage := filepath.Join(b.work, m.dir)
	files, err := b.r.trackedFiles(m.dir)
	if err != nil {
		return nil, err
	}
	hasLicense := false
	for _, f := range files {
		rel := strings.TrimPrefix(f, m.dir+"/")
		if rel == "go.mod" || rel == "go.sum" {
			continue
		}
		if rel == "LICENSE" {
			hasLicense = true
		}
		if err := copyRegular(filepath.Join(b.r.dir, f), filepath.Join(stage, rel)); err != nil {
			return nil, err
		}
	}
	// As the go command does for a module in a subdirectory of its
	// repository: without a LICENSE of its own, the repository's goes in.
	if !hasLicense {
		if err := copyRegular(filepath.Join(b.r.dir, "LICENSE"), filepath.Join(stage, "LICENSE")); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "go.mod"), gomod, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = stage
	cmd.Env = append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod",
		"GOPROXY=file://"+filepath.ToSlash(b.dir)+","+b.upstream,
		"GONOSUMDB="+joinList(os.Getenv("GONOSUMDB"), strings.TrimSuffix(modulePrefix, "/")),
		// The go command keeps an index of each module cache directory
		// (in GOCACHE), trusting the cache to be immutable; a version made
		// again (a test version, a re-run) would be read through the index
		// of its earlier contents.
		"GODEBUG="+joinList(os.Getenv("GODEBUG"), "goindex=0"),
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: go mod tidy of the released go.mod: %v\n%s", m.dir, err, out)
	}
	a := &artifact{m: m, stage: stage}
	if a.gomod, err = os.ReadFile(filepath.Join(stage, "go.mod")); err != nil {
		return nil, err
	}
	if a.gosum, err = os.ReadFile(filepath.Join(stage, "go.sum")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := checkTidied(b.p, m, a.gomod); err != nil {
		return nil, err
	}
	return a, nil
}

// checkTidied makes sure tidy kept the promise of the released go.mod: no
// replace, every sibling at its released version.
func checkTidied(p *plan, m *modState, gomod []byte) error {
	f, err := modfile.Parse(m.dir+"/go.mod", gomod, nil)
	if err != nil {
		return err
	}
	if len(f.Replace) > 0 {
		return fmt.Errorf("%s: released go.mod has a replace directive for %s", m.dir, f.Replace[0].Old.Path)
	}
	for _, req := range f.Require {
		if dir, ok := strings.CutPrefix(req.Mod.Path, modulePrefix); ok {
			if sib := p.byDir(dir); sib == nil || sib.version() != req.Mod.Version {
				return fmt.Errorf("%s: released go.mod requires %s@%s, not the planned version", m.dir, req.Mod.Path, req.Mod.Version)
			}
		}
	}
	return nil
}

// publish writes a's module into the proxy directory: the zip of its staged
// files, its go.mod, its .info and the version in @v/list.
func (b *proxyBuilder) publish(a *artifact) error {
	mv := module.Version{Path: a.m.path, Version: a.m.next}
	ep, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return err
	}
	vdir := filepath.Join(b.dir, ep, "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	var zb bytes.Buffer
	if err := modzip.CreateFromDir(&zb, mv, a.stage); err != nil {
		return fmt.Errorf("%s: zip: %v", a.m.dir, err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    string
	}{mv.Version, b.time.Format(time.RFC3339)})
	if err != nil {
		return err
	}
	for ext, data := range map[string][]byte{".zip": zb.Bytes(), ".mod": a.gomod, ".info": append(info, '\n')} {
		if err := os.WriteFile(filepath.Join(vdir, ev+ext), data, 0o644); err != nil {
			return err
		}
	}
	list := filepath.Join(vdir, "list")
	old, err := os.ReadFile(list)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, v := range strings.Fields(string(old)) {
		if v == mv.Version {
			return nil
		}
	}
	return os.WriteFile(list, append(old, mv.Version+"\n"...), 0o644)
}

// copyRegular copies a regular file, making its directory; anything else
// (a symlink) is skipped, as module zips hold regular files only.
func copyRegular(from, to string) error {
	fi, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// joinList appends item to a comma-separated list.
func joinList(list, item string) string {
	if list == "" {
		return item
	}
	return list + "," + item
}
