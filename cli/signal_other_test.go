//go:build !unix

package cli

import (
	"errors"
	"os"
)

func interrupt(*os.Process) error { return errors.New("no SIGINT on this platform") }
