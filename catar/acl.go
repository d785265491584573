package catar

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// POSIX ACL xattr blobs (system.posix_acl_access, system.posix_acl_default),
// read by the encoder and written by the extraction: le32 version 2, then
// entries of le16 tag, le16 permissions, le32 id, sorted by tag, then id.
const (
	aclXattrVersion = 2
	aclUserObj      = 0x01
	aclUser         = 0x02
	aclGroupObj     = 0x04
	aclGroup        = 0x08
	aclMask         = 0x10
	aclOther        = 0x20

	// aclUndefinedID is the id of the entries that name no user or group
	// (user_obj, group_obj, mask, other).
	aclUndefinedID = 0xffffffff
)

// Names of the xattrs with special meaning in the archive.
const (
	xattrACLAccess  = "system.posix_acl_access"
	xattrACLDefault = "system.posix_acl_default"
	xattrFCaps      = "security.capability"
	xattrSELinux    = "security.selinux"
)

type aclXattrEntry struct {
	tag  uint16
	perm uint16 // ACLRead|ACLWrite|ACLExecute
	id   uint32
}

func parseACLBlob(b []byte) ([]aclXattrEntry, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != aclXattrVersion {
		return nil, fmt.Errorf("malformed POSIX ACL xattr (%d bytes)", len(b))
	}
	var es []aclXattrEntry
	for p := b[4:]; len(p) > 0; p = p[8:] {
		es = append(es, aclXattrEntry{
			tag:  binary.LittleEndian.Uint16(p),
			perm: binary.LittleEndian.Uint16(p[2:]) & 7,
			id:   binary.LittleEndian.Uint32(p[4:]),
		})
	}
	return es, nil
}

// encodeACLXattr sorts es as the kernel wants them and encodes the blob.
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
