package fuse

import (
	"errors"
	"log/slog"
)

// MountOptions configure a mount.
type MountOptions struct {
	// FsName is the source shown in /proc/mounts; "desync" if empty.
	FsName string
	// AllowOther lets other users than the one mounting read the file
	// system (FUSE's allow_other; needs user_allow_other in
	// /etc/fuse.conf unless root).
	AllowOther bool
	// Debug logs every FUSE request to Logger.
	Debug bool
	// Logger gets FUSE messages; nil: the go-fuse default (stderr).
	Logger *slog.Logger
}

// ErrUnsupported is the error of MountBlob and MountTree where FUSE is not
// available ([Supported] is false).
var ErrUnsupported = errors.New("FUSE mounts are not supported on this platform")
