package chunk

import (
	"encoding/hex"
	"fmt"
)

// ID names a chunk: the 32-byte digest of its plain (uncompressed) content.
type ID [32]byte

// ParseID reads the 64-character hex form of an ID (either case).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("chunk id %q: want %d hex characters, have %d", s, 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("chunk id %q: %w", s, err)
	}
	return id, nil
}

// String returns the lowercase hex form used in store paths and listings.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler (the hex form).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
