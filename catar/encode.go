package catar

import (
	"context"
	"io"
	"log/slog"
)

// EncodeOptions configure EncodeTree and EncodeTar.
type EncodeOptions struct {
	// Features are the archive's feature flags (normalized; see
	// FeatureOptions.Features). Zero means DefaultArchive, what casync make
	// writes without options.
	Features Features

	// OneFileSystem leaves out every entry on another mount than its
	// parent directory (desync's -x); the ExcludeSubmounts feature bit does
	// the same. An entry is on another mount when its st_dev differs or its
	// path is a mount point in /proc/self/mountinfo (bind mounts of the same
	// file system; casync compares mount IDs to the same effect).
	OneFileSystem bool

	// TarAddRoot (EncodeTar only, desync's --tar-add-root) keeps a tar
	// whose entries all lie below one top-level directory as it is: that
	// directory becomes a child of an implied archive root. Without it, as
	// the original desync does, that directory is the archive root.
	TarAddRoot bool

	// Logger receives a debug line per entry left out (excluded, vanished,
	// on another mount) and per directory not descended; nil logs nothing.
	Logger *slog.Logger
}

// EncodeStats count what an encoder archived.
type EncodeStats struct {
	Entries  int64 // entries written, the root included
	Files    int64 // regular files
	Dirs     int64 // directories, the root included
	Symlinks int64
	Others   int64 // devices, fifos, sockets
	Bytes    int64 // payload bytes (file contents)
	Skipped  int64 // entries left out (.caexclude, nodump, other mounts, features)
	Size     int64 // archive bytes written
}

func (o EncodeOptions) features() Features {
	if o.Features == 0 {
		return DefaultArchive
	}
	return o.Features
}

func (o EncodeOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// EncodeTree archives the directory tree at root into w as a .catar stream
// byte-identical with casync make's (format description §5.2): a depth-first
// walk, names of each directory read and sorted bytewise, entries filtered
// by the features (symlinks, devices, fifos, sockets), EXCLUDE_NODUMP (chattr
// +d), EXCLUDE_SUBMOUNTS/OneFileSystem, .caexclude files (with the
// ExcludeFile bit) and virtual API file systems (proc, sysfs, cgroup, … are
// archived as empty directories). Every file is read once. Memory is bounded
// by the open directories (their sorted names), not the size of the tree.
// Linux only; elsewhere it returns an error.
func EncodeTree(ctx context.Context, w io.Writer, root string, o EncodeOptions) (EncodeStats, error) {
	return encodeTree(ctx, w, root, o, nil)
}
