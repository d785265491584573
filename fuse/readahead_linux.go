package fuse

import (
	"fmt"
	"os"
	"syscall"
)

// raiseReadAhead sets the kernel's read-ahead of the mount at dir to
// kernelIO, so that a sequential reader's pages come in requests of
// kernelIO rather than 128 KiB (the default read-ahead of a FUSE mount,
// which caps its requests): an eighth of the round trips. It needs root
// (/sys/class/bdi is writable by root only); without it the kernel's
// default stays, and reads still work.
func raiseReadAhead(dir string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return err
	}
	major, minor := (st.Dev>>8)&0xfff|(st.Dev>>32)&^0xfff, st.Dev&0xff|(st.Dev>>12)&^0xff
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	return os.WriteFile(p, []byte(fmt.Sprint(kernelIO>>10)), 0)
}
