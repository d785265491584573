package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// options are the command line's.
type options struct {
	repo             string
	dryRun           bool
	proxy            string
	all              bool
	allowNoChangelog bool
	version          string
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.repo, "repo", ".", "repository root (holding modules.txt)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan, change nothing")
	fs.StringVar(&o.proxy, "proxy", "", "write the module proxy `DIR` of the release (GOPROXY=file://DIR), tag nothing")
	fs.BoolVar(&o.all, "all", false, "release every module, changed or not")
	fs.BoolVar(&o.allowNoChangelog, "allow-missing-changelog", false, "with --proxy: accept modules without a CHANGELOG.md entry for the version (test versions)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scripts/release [--dry-run | --proxy DIR] [--all] [--allow-missing-changelog] vX.Y.Z")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("want exactly one version")
	}
	o.version = fs.Arg(0)
	if o.dryRun && o.proxy != "" {
		return nil, errors.New("--dry-run and --proxy exclude each other")
	}
	if o.allowNoChangelog && o.proxy == "" && !o.dryRun {
		return nil, errors.New("--allow-missing-changelog is for --proxy only: a tagged release needs its CHANGELOG.md entries")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	r := &repo{dir: root}
	warn := func(format string, args ...any) { fmt.Fprintf(stderr, "release: warning: "+format+"\n", args...) }
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "release: "+format+"\n", args...) }

	if d, err := r.dirty(); err != nil {
		return err
	} else if d != "" {
		if !o.dryRun {
			return fmt.Errorf("the work tree is not clean (commit or remove first):\n%s", d)
		}
		warn("the work tree is not clean; the plan is of HEAD's history and these files:\n%s", d)
	}
	p, err := makePlan(r, o.version, o.all)
	if err != nil {
		return err
	}
	cl, err := readChangelog(root)
	if err != nil {
		return err
	}
	if missing := cl.missing(p); len(missing) > 0 {
		switch {
		case o.dryRun:
			warn("%v", missingError(p.version, missing))
		case o.proxy != "" && o.allowNoChangelog:
			logf("no CHANGELOG.md entry for %s in %s (accepted: --allow-missing-changelog)", p.version, strings.Join(missing, ", "))
		default:
			return missingError(p.version, missing)
		}
	}
	if o.dryRun {
		p.print(stdout)
		return nil
	}
	if len(p.released()) == 0 {
		fmt.Fprintln(stdout, "nothing changed since the last tags; nothing to release")
		return nil
	}

	work, err := os.MkdirTemp("", "desync-release-")
	if err != nil {
		return err
	}
	defer removeAll(work)
	b := &proxyBuilder{r: r, p: p, work: filepath.Join(work, "stage"), log: logf}
	if o.proxy != "" {
		if b.dir, err = emptyDir(o.proxy); err != nil {
			return err
		}
	} else {
		b.dir = filepath.Join(work, "proxy")
	}
	arts, err := b.build()
	if err != nil {
		return err
	}
	if o.proxy != "" {
		fmt.Fprintf(stdout, "wrote %d modules at %s to %s (GOPROXY=file://%s); nothing tagged\n", len(arts), p.version, b.dir, b.dir)
		return nil
	}
	tags, err := tagRelease(r, p, arts, work)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tagged on branch %s: %s\npublish with: git push origin %s\n",
		releaseBranch(p.version), strings.Join(tags, " "), strings.Join(tags, " "))
	return nil
}

// emptyDir makes dir if it does not exist and refuses one that holds
// anything: the proxy directory is exactly one release.
func emptyDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return "", err
	}
	if len(ents) > 0 {
		return "", fmt.Errorf("--proxy %s: the directory is not empty", dir)
	}
	return abs, nil
}
