//go:build !linux && !darwin

package fuse

import "github.com/folbricht/desync/catar"

// Supported reports whether this platform can mount: not this one.
const Supported = false

// Mount is a mounted file system; there are none on this platform.
type Mount struct{}

// Dir returns the mount point.
func (m *Mount) Dir() string { return "" }

// Wait returns at once.
func (m *Mount) Wait() {}

// Unmount does nothing.
func (m *Mount) Unmount() error { return nil }

// MountBlob fails with ErrUnsupported.
func MountBlob(dir, name string, b *Blob, o MountOptions) (*Mount, error) {
	return nil, ErrUnsupported
}

// MountTree fails with ErrUnsupported.
func MountTree(dir string, a *catar.Archive, o MountOptions) (*Mount, error) {
	return nil, ErrUnsupported
}
