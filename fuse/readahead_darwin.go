package fuse

// raiseReadAhead does nothing on macOS: macFUSE sizes its reads itself.
func raiseReadAhead(dir string) error { return nil }
