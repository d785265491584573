package catar

import (
	"encoding/binary"
	"fmt"
)

// POSIX ACL xattr blobs (system.posix_acl_access, system.posix_acl_default):
// le32 version 2, then entries of le16 tag, le16 permissions, le32 id.
const (
	aclXattrVersion = 2
	aclUserObj      = 0x01
	aclUser         = 0x02
	aclGroupObj     = 0x04
	aclGroup        = 0x08
	aclMask         = 0x10
	aclOther        = 0x20
)

// Names of the xattrs with special meaning in the archive.
const (
	xattrACLAccess  = "system.posix_acl_access"
	xattrACLDefault = "system.posix_acl_default"
	xattrFCaps      = "security.capability"
	xattrSELinux    = "security.selinux"
)

type aclBlobEntry struct {
	tag  uint16
	perm uint64
	id   uint32
}

func parseACLBlob(b []byte) ([]aclBlobEntry, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != aclXattrVersion {
		return nil, fmt.Errorf("malformed POSIX ACL xattr (%d bytes)", len(b))
	}
	var es []aclBlobEntry
	for p := b[4:]; len(p) > 0; p = p[8:] {
		es = append(es, aclBlobEntry{
			tag:  binary.LittleEndian.Uint16(p),
			perm: uint64(binary.LittleEndian.Uint16(p[2:]) & 7),
			id:   binary.LittleEndian.Uint32(p[4:]),
		})
	}
	return es, nil
}

// setAccessACL fills a's access part from a system.posix_acl_access blob:
// named users and groups, and the owning group's permissions when the ACL has
// a mask. lookupUser/lookupGroup resolve names (nil: no names).
func setAccessACL(a *ACL, blob []byte, lookupUser, lookupGroup func(uint32) string) error {
	es, err := parseACLBlob(blob)
	if err != nil {
		return err
	}
	var groupObj uint64
	hasMask := false
	for _, e := range es {
		switch e.tag {
		case aclUser:
			a.User = append(a.User, ACLEntry{ID: e.id, Name: resolve(lookupUser, e.id), Perm: e.perm})
		case aclGroup:
			a.Group = append(a.Group, ACLEntry{ID: e.id, Name: resolve(lookupGroup, e.id), Perm: e.perm})
		case aclGroupObj:
			groupObj = e.perm
		case aclMask:
			hasMask = true
		}
	}
	if hasMask {
		a.GroupObj, a.HasGroupObj = groupObj, true
	}
	return nil
}

// setDefaultACL fills a.Default from a system.posix_acl_default blob.
func setDefaultACL(a *ACL, blob []byte, lookupUser, lookupGroup func(uint32) string) error {
	es, err := parseACLBlob(blob)
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return nil
	}
	d := &DefaultACL{UserObj: ACLPermNone, GroupObj: ACLPermNone, Other: ACLPermNone, Mask: ACLPermNone}
	for _, e := range es {
		switch e.tag {
		case aclUserObj:
			d.UserObj = e.perm
		case aclGroupObj:
			d.GroupObj = e.perm
		case aclOther:
			d.Other = e.perm
		case aclMask:
			d.Mask = e.perm
		case aclUser:
			d.User = append(d.User, ACLEntry{ID: e.id, Name: resolve(lookupUser, e.id), Perm: e.perm})
		case aclGroup:
			d.Group = append(d.Group, ACLEntry{ID: e.id, Name: resolve(lookupGroup, e.id), Perm: e.perm})
		}
	}
	a.Default = d
	return nil
}

func resolve(f func(uint32) string, id uint32) string {
	if f == nil {
		return ""
	}
	return f(id)
}

// ACLBlob encodes POSIX ACL entries as a system.posix_acl_* xattr value
// (tags: 1 user_obj, 2 user, 4 group_obj, 8 group, 0x10 mask, 0x20 other).
// Tests and tools use it to set ACLs without libacl.
func ACLBlob(entries ...[3]uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, aclXattrVersion)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e[0]))
		b = binary.LittleEndian.AppendUint16(b, uint16(e[1]))
		b = binary.LittleEndian.AppendUint32(b, e[2])
	}
	return b
}
