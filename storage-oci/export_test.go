package ocistore

// SetPageSize sets the page size of d's tag listing, so that a test pages
// through a few tags.
func SetPageSize(d *Driver, n int) { d.setPageSize(n) }
