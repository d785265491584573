package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/folbricht/desync/storage"
)

func (a *app) configCmd() *command {
	var write bool
	c := a.newCommand(commandSpec{
		name:    "config",
		usage:   "desync config [-w]",
		minArgs: 0,
		maxArgs: 0,
		short:   "show or write the configuration",
		long: `Prints the configuration in effect: the config file ($HOME/.config/desync/
config.json or --config) with every store's options completed with the
defaults. With -w it writes that to the config file, e.g. to start one.

Example:
  desync --config desync.json config -w`,
	})
	c.FlagSet.BoolVar(&write, "w", false, "write the configuration to the config file")
	c.FlagSet.BoolVar(&write, "write", false, "write the configuration to the config file")
	c.Exec = func(ctx context.Context, args []string) error {
		cfg, err := a.config()
		if write && a.configPath != "" && errors.Is(err, fs.ErrNotExist) {
			cfg, err = &config{path: a.configPath}, nil // -w starts the --config file
		}
		if err != nil {
			return err
		}
		eff, err := cfg.effective()
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(eff, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if !write {
			_, err = a.io.Out.Write(b)
			return err
		}
		if cfg.path == "" {
			return fmt.Errorf("config: no config file location (set $HOME or use --config)")
		}
		if err := os.MkdirAll(filepath.Dir(cfg.path), 0o755); err != nil {
			return err
		}
		if err := storage.WriteFileAtomic(cfg.path, 0o600, nil, func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		fmt.Fprintf(a.io.Err, "wrote %s\n", cfg.path)
		return nil
	}
	return c
}
