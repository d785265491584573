package catar

import (
	"encoding/binary"
	"sort"
)

// The POSIX ACL xattr layout and its tags are in enc_acl.go; an entry
// without an ID (user_obj, group_obj, mask, other) carries this one.
const aclUndefinedID = 0xffffffff

type aclXattrEntry struct {
	tag  uint16
	perm uint16
	id   uint32
}

func encodeACLXattr(es []aclXattrEntry) []byte {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].tag != es[j].tag {
			return es[i].tag < es[j].tag
		}
		return es[i].id < es[j].id
	})
	b := make([]byte, 4, 4+8*len(es))
	binary.LittleEndian.PutUint32(b, aclXattrVersion)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// accessACLXattr builds the system.posix_acl_access value of an entry: the
// owner, group and other entries from the mode, the named users and groups,
// and the mask (the mode's group bits) when the ACL has one. Named entries
// keep their archived numeric IDs. nil when the ACL has no access part.
func accessACLXattr(e *Entry) []byte {
	a := &e.ACL
	if len(a.User) == 0 && len(a.Group) == 0 && !a.HasGroupObj {
		return nil
	}
	m := e.Mode
	groupObj := uint16(m >> 3 & 7)
	if a.HasGroupObj {
		groupObj = uint16(a.GroupObj)
	}
	es := []aclXattrEntry{
		{aclUserObj, uint16(m >> 6 & 7), aclUndefinedID},
		{aclGroupObj, groupObj, aclUndefinedID},
		{aclMask, uint16(m >> 3 & 7), aclUndefinedID},
		{aclOther, uint16(m & 7), aclUndefinedID},
	}
	for _, u := range a.User {
		es = append(es, aclXattrEntry{aclUser, uint16(u.Perm), u.ID})
	}
	for _, g := range a.Group {
		es = append(es, aclXattrEntry{aclGroup, uint16(g.Perm), g.ID})
	}
	return encodeACLXattr(es)
}

// defaultACLXattr builds the system.posix_acl_default value of a directory.
func defaultACLXattr(d *DefaultACL) []byte {
	var es []aclXattrEntry
	add := func(tag uint16, p uint64) {
		if p != ACLPermNone {
			es = append(es, aclXattrEntry{tag, uint16(p), aclUndefinedID})
		}
	}
	add(aclUserObj, d.UserObj)
	add(aclGroupObj, d.GroupObj)
	add(aclMask, d.Mask)
	add(aclOther, d.Other)
	for _, u := range d.User {
		es = append(es, aclXattrEntry{aclUser, uint16(u.Perm), u.ID})
	}
	for _, g := range d.Group {
		es = append(es, aclXattrEntry{aclGroup, uint16(g.Perm), g.ID})
	}
	return encodeACLXattr(es)
}

// chattrFlags maps the archive's chattr flag bits to the kernel's FS_*_FL
// bits (FAT and subvolume flags have no chattr equivalent and are dropped).
func chattrFlags(f uint64) uint32 {
	var fl uint32
	for _, m := range []struct {
		bit Features
		fs  uint32
	}{
		{WithFlagAppend, 0x20}, {WithFlagNoatime, 0x80}, {WithFlagCompr, 0x4},
		{WithFlagNocow, 0x800000}, {WithFlagNodump, 0x40}, {WithFlagDirsync, 0x10000},
		{WithFlagImmutable, 0x10}, {WithFlagSync, 0x8}, {WithFlagNocomp, 0x400},
		{WithFlagProjinherit, 0x20000000},
	} {
		if f&uint64(m.bit) != 0 {
			fl |= m.fs
		}
	}
	return fl
}
