//go:build !linux

package catar

import (
	"context"
	"errors"
	"io"
)

func encodeTree(ctx context.Context, w io.Writer, root string, o EncodeOptions, onPayload payloadFunc) (EncodeStats, error) {
	return EncodeStats{}, errors.New("catar: archiving a directory tree is supported on Linux only")
}
