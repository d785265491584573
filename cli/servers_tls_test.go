package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCerts writes a CA, a server certificate for 127.0.0.1 and a client
// certificate (PEM files) into dir.
func testCerts(t *testing.T, dir string) (ca, cert, key, clientCert, clientKey string) {
	t.Helper()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ip bool, name string) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", kb)
	}
	cert, key = leaf(2, x509.ExtKeyUsageServerAuth, true, "server")
	clientCert, clientKey = leaf(3, x509.ExtKeyUsageClientAuth, false, "client")
	return write("ca.pem", "CERTIFICATE", caDER), cert, key, clientCert, clientKey
}

// TestHTTPSFlags: the client's TLS flags flow into the HTTP store: an
// untrusted server certificate fails the extract unless -t or --ca-cert;
// mutual TLS needs --client-cert and --client-key.
func TestHTTPSFlags(t *testing.T) {
	f := newFixture(t)
	ca, cert, key, cc, ck := testCerts(t, t.TempDir())
	u := startServer(t, "chunk-server", "-s", f.store, "--cert", cert, "--key", key)
	if u[:8] != "https://" {
		t.Fatalf("server URL %s is not https", u)
	}
	extractFails(t, []string{"certificate", u}, f.index, "-s", u)
	extractOK(t, f.data, f.index, "-s", u, "-t")
	extractOK(t, f.data, f.index, "-s", u, "--ca-cert", ca)

	m := startServer(t, "chunk-server", "-s", f.store, "--cert", cert, "--key", key, "--mutual-tls", "--client-ca", ca)
	extractFails(t, []string{"certificate"}, f.index, "-s", m, "--ca-cert", ca)
	extractOK(t, f.data, f.index, "-s", m, "--ca-cert", ca, "--client-cert", cc, "--client-key", ck)
}

// TestHTTPSMutualTLSNeedsClientCA: --mutual-tls without --client-ca would
// accept any client certificate the system's CAs trust; both servers refuse
// it at start-up as a usage error naming the missing flag. (They run with a
// context already done, so a server that wrongly starts stops at once and
// exits 0 instead of serving.)
func TestHTTPSMutualTLSNeedsClientCA(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	_, cert, key, _, _ := testCerts(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"chunk-server", "index-server"} {
		args := []string{name, "-s", dir, "--cert", cert, "--key", key, "--mutual-tls", "-l", "127.0.0.1:0"}
		var stderr bytes.Buffer
		code := Run(ctx, args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
		if code != 2 || !strings.Contains(stderr.String(), "--client-ca") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message naming --client-ca", args, code, stderr.String())
		}
	}
}

// TestHTTPSMutualTLSOtherCA: a server given --client-ca refuses a client
// certificate signed by another CA and accepts one signed by the CA it was
// given, for chunks (chunk-server) and indexes (index-server).
func TestHTTPSMutualTLSOtherCA(t *testing.T) {
	f := newFixture(t)
	ca, cert, key, cc, ck := testCerts(t, t.TempDir())
	_, _, _, otherCert, otherKey := testCerts(t, t.TempDir())
	tlsFlags := []string{"--cert", cert, "--key", key, "--mutual-tls", "--client-ca", ca}
	chunks := startServer(t, append([]string{"chunk-server", "-s", f.store}, tlsFlags...)...)
	indexes := startServer(t, append([]string{"index-server", "-s", f.dir}, tlsFlags...)...)
	// The TLS settings through the config file, which applies to index
	// locations as well as to chunk stores.
	config := func(cert, key string) string {
		opts := fmt.Sprintf(`{"ca-cert": %q, "client-cert": %q, "client-key": %q}`, ca, cert, key)
		return writeFile(t, filepath.Join(t.TempDir(), "config.json"), []byte(fmt.Sprintf(`{"store-options": {%q: %s, %q: %s}}`, chunks, opts, indexes, opts)))
	}
	for _, tc := range []struct{ name, index, store string }{
		{"chunk-server", f.index, chunks},
		{"index-server", indexes + "blob1.caibx", f.store},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extractFails(t, []string{"certificate"}, tc.index, "--config", config(otherCert, otherKey), "-s", tc.store)
			extractOK(t, f.data, tc.index, "--config", config(cc, ck), "-s", tc.store)
		})
	}
}
