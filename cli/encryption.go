package cli

import (
	"flag"
	"fmt"

	"github.com/folbricht/desync/storage"
)

// encryptionFlags are chunk-server's --encryption, --encryption-key and
// --encryption-algorithm, as the original desync has them: either of the
// last two implies the first, and the key is $DESYNC_ENCRYPTION_KEY unless
// given (the variable alone never turns encryption on).
type encryptionFlags struct {
	on       bool
	key, alg string
}

func (e *encryptionFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&e.on, "encryption", false, "serve chunks encrypted, expects the key in $"+storage.EncryptionKeyEnv+" unless --encryption-key is given")
	fs.StringVar(&e.key, "encryption-key", "", "serve chunks encrypted with this hex-encoded 256-bit key, implies --encryption")
	fs.StringVar(&e.alg, "encryption-algorithm", "", "encryption algorithm, xchacha20-poly1305 (default) or aes-256-gcm, implies --encryption")
}

// settings returns the encryption the flags ask for, nil for none.
func (e encryptionFlags) settings(cmd string) (*storage.Encryption, error) {
	if !e.on && e.key == "" && e.alg == "" {
		return nil, nil
	}
	o := storage.Options{Encryption: true, EncryptionKey: e.key, EncryptionAlgorithm: e.alg}
	enc, err := o.EncryptionSettings()
	if err != nil {
		return nil, usageErr("%s: --encryption: %s", cmd, optionFlagError(err))
	}
	return enc, nil
}

// optionFlagError turns an option error into one about the flags.
func optionFlagError(err error) string {
	if oe, ok := err.(*storage.OptionError); ok {
		return fmt.Sprintf("--%s: %s", oe.Key, oe.Msg)
	}
	return err.Error()
}
