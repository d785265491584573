//go:build !unix

package cli

// onReload does nothing where there is no SIGHUP.
func onReload(func()) (stop func()) { return func() {} }
