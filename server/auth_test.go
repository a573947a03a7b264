package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/credentials"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

func TestParseTokens(t *testing.T) {
	tok, err := ParseTokens(strings.NewReader("# comment\n\nall-ns\nbilling-tok billing,orders\nroot-tok -\nstar *\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		token, ns string
		ok        bool
	}{
		{"all-ns", "anything", true}, {"billing-tok", "orders", true}, {"billing-tok", "users", false},
		{"billing-tok", "", false}, {"root-tok", "", true}, {"root-tok", "billing", false}, {"star", "x", true},
	}
	for _, c := range cases {
		e, found := tok.match([]byte(c.token))
		if !found || e.allows(c.ns) != c.ok {
			t.Errorf("token %s in %q: found %v allows %v, want %v", c.token, c.ns, found, e.allows(c.ns), c.ok)
		}
	}
	if _, found := tok.match([]byte("all-n")); found {
		t.Error("a prefix of a token matched")
	}
	if _, err := ParseTokens(strings.NewReader("a b c\n")); err == nil {
		t.Error("three fields accepted")
	}
	if _, err := ParseTokens(strings.NewReader("# none\n")); err == nil {
		t.Error("a file without token accepted")
	}
}

// TestTokens: a missing or wrong token is 28000 (Unauthenticated), a token
// outside its namespaces 42501 (PermissionDenied); each refusal counted.
func TestTokens(t *testing.T) {
	be := newMemBackend()
	tokens := &Tokens{}
	tokens.Add("good", "billing")
	srv := serve(t, be.open, Options{Tokens: tokens})
	url := "seqshim://" + srv.addr
	define(t, be.store("billing"), "public.s")

	ok := dial(t, url, remote.Options{Namespace: "billing", Token: "good"})
	if b, err := ok.Reserve(t.Context(), "public.s", 3); err != nil || b.First != 1 {
		t.Fatalf("with a good token: %+v, %v", b, err)
	}
	for _, c := range []struct {
		token, ns, code, reason string
	}{
		{"", "billing", remote.CodeInvalidAuthorization, "missing"},
		{"bad", "billing", remote.CodeInvalidAuthorization, "invalid"},
		{"good", "orders", remote.CodeInsufficientPrivilege, "namespace"},
	} {
		t.Setenv(remote.DefaultTokenEnv, "")
		cl := dial(t, url, remote.Options{Namespace: c.ns, Token: c.token})
		_, err := cl.Reserve(t.Context(), "public.s", 1)
		if seqcache.CodeOf(err) != c.code {
			t.Errorf("token %q in %q: %v, want SQLSTATE %s", c.token, c.ns, err, c.code)
		}
		if got := counterValue(t, srv.metrics.refused.WithLabelValues(c.reason)); got != 1 {
			t.Errorf("refusals for %s counted %v, want 1", c.reason, got)
		}
		if st := cl.Stats(); st.Failovers != 0 {
			t.Errorf("a refusal counted as a failover: %+v", st)
		}
	}
	if sq, _ := be.store("billing").Get(t.Context(), "public.s"); sq.Next != 4 {
		t.Fatalf("refused calls moved the sequence to %d", sq.Next)
	}
}

// TestTokenFromFile: the URL's token_file is read at Dial.
func TestTokenFromFile(t *testing.T) {
	be := newMemBackend()
	tokens := &Tokens{}
	tokens.Add("s3cret")
	srv := serve(t, be.open, Options{Tokens: tokens})
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := dial(t, "seqshim://"+srv.addr+"?token_file="+f, remote.Options{})
	define(t, c, "public.s")
}

// TestTLS: a client trusting the CA works; a plaintext client and one
// without a client certificate (mutual TLS) get 08006 and no value.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	writeTestPKI(t, dir)
	cfg, err := ServerTLS(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	be := newMemBackend()
	srv := serve(t, be.open, Options{TLS: credentials.NewTLS(cfg)})
	define(t, be.store(""), "public.s")
	base := "seqshim://" + srv.addr + "?attempt_timeout=500ms&retry_for=300ms&ca=" + filepath.Join(dir, "ca.pem")
	good := dial(t, base+"&cert="+filepath.Join(dir, "client.pem")+"&key="+filepath.Join(dir, "client.key"), remote.Options{})
	if b, err := good.Reserve(t.Context(), "public.s", 2); err != nil || b.First != 1 {
		t.Fatalf("mutual TLS: %+v, %v", b, err)
	}
	for name, url := range map[string]string{
		"plaintext":      "seqshim://" + srv.addr + "?attempt_timeout=500ms&retry_for=300ms",
		"no client cert": base,
		"wrong CA":       "seqshim://" + srv.addr + "?attempt_timeout=500ms&retry_for=300ms&tls=1",
	} {
		c := dial(t, url, remote.Options{})
		if _, err := c.Reserve(t.Context(), "public.s", 1); !errors.Is(err, seqcache.ErrUnavailable) {
			t.Errorf("%s: %v, want 08006", name, err)
		}
	}
	if sq, _ := be.store("").Get(t.Context(), "public.s"); sq.Next != 3 {
		t.Fatalf("refused clients moved the sequence to %d", sq.Next)
	}
}

func writeTestPKI(t testing.TB, dir string) {
	ca, caKey := writeCA(t, dir)
	writeCert(t, dir, "server", ca, caKey, true)
	writeCert(t, dir, "client", ca, caKey, false)
}

func writeCA(t testing.TB, dir string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "seqshim test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", der)
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

func writeCert(t testing.TB, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
	kb, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kb)
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
