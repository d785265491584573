package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientTLS(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
		want string // error text; empty: no error
	}{
		{"defaults", Options{}, ""},
		{"trust insecure", Options{TrustInsecure: true}, ""},
		{"missing ca file", Options{CACert: filepath.Join(dir, "nope.pem")}, "ca-cert:"},
		{"ca file without a certificate", Options{CACert: notPEM}, "no PEM certificate found"},
		{"cert without key", Options{ClientCert: notPEM}, "go together"},
		{"unreadable pair", Options{ClientCert: notPEM, ClientKey: notPEM}, "client certificate " + notPEM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ClientTLS(tc.o)
			if tc.want == "" {
				if err != nil || c.InsecureSkipVerify != tc.o.TrustInsecure || c.MinVersion == 0 {
					t.Fatalf("ClientTLS: %+v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
