// Command desync cuts files into content-defined chunks, stores them in chunk
// stores and rebuilds files from indexes; see "desync --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/folbricht/desync/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile()
	code := cli.Run(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	stopProfile()
	os.Exit(code)
}
