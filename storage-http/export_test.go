package httpstore

// SetMaxIndexDownload lowers the cap on downloaded indexes until the
// returned function is called.
func SetMaxIndexDownload(n int64) (restore func()) {
	old := maxIndexDownload
	maxIndexDownload = n
	return func() { maxIndexDownload = old }
}
