package catar

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
			a.User = append(a.User, ACLEntry{ID: e.id, Name: resolve(lookupUser, e.id), Perm: uint64(e.perm)})
		case aclGroup:
			a.Group = append(a.Group, ACLEntry{ID: e.id, Name: resolve(lookupGroup, e.id), Perm: uint64(e.perm)})
		case aclGroupObj:
			groupObj = uint64(e.perm)
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
			d.UserObj = uint64(e.perm)
		case aclGroupObj:
			d.GroupObj = uint64(e.perm)
		case aclOther:
			d.Other = uint64(e.perm)
		case aclMask:
			d.Mask = uint64(e.perm)
		case aclUser:
			d.User = append(d.User, ACLEntry{ID: e.id, Name: resolve(lookupUser, e.id), Perm: uint64(e.perm)})
		case aclGroup:
			d.Group = append(d.Group, ACLEntry{ID: e.id, Name: resolve(lookupGroup, e.id), Perm: uint64(e.perm)})
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
