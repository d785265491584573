// Command release cuts per-module releases of the desync monorepo.
//
// Run it through scripts/release from the repository root:
//
//	scripts/release [--dry-run | --proxy DIR] [--all] [--allow-missing-changelog] vX.Y.Z
//
// It reads modules.txt (the modules in release order) and releases, at the
// one version given, every module that changed since its last <dir>/v* tag:
// its files differ from the commit that tag was cut from (the tag's commit
// names it in a Release-Source trailer), or a sibling it requires is released
// too. Each released module gets a go.mod that requires its siblings at their
// released versions (the new one, or the last tag's) with no replace
// directives — on main every sibling is v0.0.0 replaced by ../<dir>, and
// go.work ties them for development — and the go.sum `go mod tidy` makes for
// it, with the siblings resolved from the module proxy directory being built.
//
// The released versions are removed from the local module cache before the
// build and after it: the tidies read the siblings from the directory being
// built, never from a copy an earlier build of the same (test) version left,
// and a test version does not linger for the next consumer on the machine.
//
// Modes:
//
//   - --dry-run prints the plan (module, last version → new version, why,
//     sibling requirements) and changes nothing.
//   - --proxy DIR writes DIR as a GOPROXY=file://DIR directory holding exactly
//     what the release would publish (<module>/@v/list, .info, .mod, .zip)
//     and tags nothing.
//   - with neither, it builds the same in a temporary directory, then writes
//     one commit per released module on a side branch release-vX.Y.Z (HEAD
//     with that module's released go.mod and go.sum; never on the current
//     branch) and tags it <dir>/vX.Y.Z. Pushing the tags is left to the user.
//
// It refuses a dirty work tree (--dry-run only warns), a version that is not
// vX.Y.Z semver, of major version 2 or more, or not above a module's last
// tag, and a released module without a "### vX.Y.Z" entry under its
// "## <dir>" section of CHANGELOG.md (--dry-run warns; --proxy accepts
// --allow-missing-changelog, which the consumer proof in
// scripts/release-proof.sh uses for its test version; tagging never does).
//
// The files:
//
//	main.go       flags, mode selection
//	repo.go       git: HEAD, cleanliness, tags, tracked files, diffs
//	plan.go       which modules are released, at what, and why
//	gomod.go      the released go.mod of a module
//	changelog.go  CHANGELOG.md sections and entries
//	proxy.go      the module proxy directory: tidy, zip, .info, .mod, list
//	tag.go        release commits on the side branch, and the tags
//
// The tool lives in its own module (github.com/folbricht/desync/tools), not
// in modules.txt nor go.work: it is never released and pulls golang.org/x/mod,
// which no desync module needs. Run its tests with
// `cd tools && GOWORK=off go test ./...`.
package main
