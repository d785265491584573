package gcsstore

// SetPageSize sets the listing page size of d, for tests that cross pages.
func SetPageSize(d *Driver, n int) { d.pageSize = n }
