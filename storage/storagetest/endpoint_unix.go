//go:build unix

package storagetest

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// DroppingEndpoint returns a loopback address where connections are never set
// up: a socket listens with the smallest backlog and never accepts, and
// its queue is filled first, so the kernel drops every further SYN, as
// a firewall that drops packets or a host that is down does. The dials
// that filled the queue are closed at the end.
func DroppingEndpoint(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break // the queue is full: this dial got no answer
		}
		t.Cleanup(func() { c.Close() })
		if i == 64 {
			t.Fatalf("%s accepted 64 connections without accept(): cannot build a dropping endpoint here", addr)
		}
	}
	return addr
}
