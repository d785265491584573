package catar

// chattrMap maps FS_*_FL inode flags to the archive's WithFlag* bits.
var chattrMap = [...]struct {
	fl  uint32
	bit Features
}{
	{0x00000020, WithFlagAppend},
	{0x00000080, WithFlagNoatime},
	{0x00000004, WithFlagCompr},
	{0x00800000, WithFlagNocow},
	{0x00000040, WithFlagNodump},
	{0x00010000, WithFlagDirsync},
	{0x00000010, WithFlagImmutable},
	{0x00000008, WithFlagSync},
	{0x00000400, WithFlagNocomp},
	{0x20000000, WithFlagProjinherit},
}

// archiveFlags maps FS_*_FL inode flags (FS_IOC_GETFLAGS) to the archive's
// chattr flag bits.
func archiveFlags(fl uint32) uint64 {
	var f uint64
	for _, m := range chattrMap {
		if fl&m.fl != 0 {
			f |= uint64(m.bit)
		}
	}
	return f
}

// chattrFlags maps the archive's chattr flag bits to FS_*_FL inode flags
// (FAT and subvolume flags have no chattr equivalent and are dropped).
func chattrFlags(f uint64) uint32 {
	var fl uint32
	for _, m := range chattrMap {
		if f&uint64(m.bit) != 0 {
			fl |= m.fl
		}
	}
	return fl
}
