package storage

import (
	"fmt"
	"os"

	"github.com/folbricht/desync/chunk"
)

// EncryptionKeyEnv is the environment variable that holds the encryption
// key of stores whose options turn encryption on without a key. On its own
// it never turns encryption on.
const EncryptionKeyEnv = "DESYNC_ENCRYPTION_KEY"

// Encryption is how a store's chunks are encrypted (see [chunk.Encrypted]).
type Encryption struct {
	// Algorithm is chunk.XChaCha20Poly1305 or chunk.AES256GCM; "" is
	// chunk.DefaultEncryption.
	Algorithm string
	// Key is the 32-byte key.
	Key []byte
}

// checkEncryption refuses encryption settings that cannot work, naming the
// option: a key or algorithm without encryption (as the original desync
// does), a key that is not 64 hex digits, an unknown algorithm.
func (o *Options) checkEncryption() error {
	if !o.Encryption {
		if o.EncryptionKey != "" || o.EncryptionAlgorithm != "" {
			key := "encryption-key"
			if o.EncryptionKey == "" {
				key = "encryption-algorithm"
			}
			return &OptionError{Key: key, Msg: "encryption-key or encryption-algorithm configured without setting encryption to true"}
		}
		return nil
	}
	if o.EncryptionKey != "" {
		if _, err := chunk.ParseEncryptionKey(o.EncryptionKey); err != nil {
			return &OptionError{Key: "encryption-key", Msg: err.Error()}
		}
	}
	switch o.EncryptionAlgorithm {
	case "", chunk.XChaCha20Poly1305, chunk.AES256GCM:
	default:
		return &OptionError{Key: "encryption-algorithm", Msg: fmt.Sprintf("unknown encryption algorithm %q (want %s or %s)", o.EncryptionAlgorithm, chunk.XChaCha20Poly1305, chunk.AES256GCM)}
	}
	return nil
}

// EncryptionSettings returns how o encrypts chunks, nil if it does not: the
// key is EncryptionKey, or else the value of DESYNC_ENCRYPTION_KEY.
func (o Options) EncryptionSettings() (*Encryption, error) {
	if err := o.checkEncryption(); err != nil || !o.Encryption {
		return nil, err
	}
	hexKey, from := o.EncryptionKey, "store option encryption-key"
	if hexKey == "" {
		hexKey, from = os.Getenv(EncryptionKeyEnv), EncryptionKeyEnv
		if hexKey == "" {
			return nil, fmt.Errorf("encryption is on but no key is configured: set the store option encryption-key or %s", EncryptionKeyEnv)
		}
	}
	key, err := chunk.ParseEncryptionKey(hexKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return &Encryption{Algorithm: o.EncryptionAlgorithm, Key: key}, nil
}

// encryptionSuffix is the chunk name suffix of a store whose converter is
// e over compressed (".cacnk.<alg>-<key id>") or plain ("<alg>-<key id>")
// chunks, as the original desync names them.
func encryptionSuffix(e *chunk.Encrypted, uncompressed bool) string {
	if uncompressed {
		return "." + e.Suffix()
	}
	return SuffixCompressed + "." + e.Suffix()
}

// CheckIndexOptions refuses options that turn encryption on for the index
// store (or index) at location: indexes are never encrypted, as in the
// original desync.
func CheckIndexOptions(location string, o Options) error {
	if o.Encryption {
		return fmt.Errorf("store options for %q: encryption is not supported by index stores", location)
	}
	return nil
}
