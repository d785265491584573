package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
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
