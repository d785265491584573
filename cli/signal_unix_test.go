//go:build unix

package cli

import (
	"os"
	"syscall"
)

func interrupt(p *os.Process) error { return p.Signal(syscall.SIGINT) }

const sighupSupported = true

func sendSIGHUP(p *os.Process) error  { return p.Signal(syscall.SIGHUP) }
func sendSIGTERM(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
