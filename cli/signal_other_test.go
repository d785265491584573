//go:build !unix

package cli

import (
	"errors"
	"os"
)

func interrupt(*os.Process) error { return errors.New("no SIGINT on this platform") }

const sighupSupported = false

func sendSIGHUP(*os.Process) error  { return errors.New("no SIGHUP on this platform") }
func sendSIGTERM(*os.Process) error { return errors.New("no SIGTERM on this platform") }
