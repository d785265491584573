package catar

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
