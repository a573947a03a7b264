package remote

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/internal/wire"
)

// Scheme is the URL scheme of a server-tier store.
const Scheme = "seqshim"

// SQLSTATEs of the servers' refusals, as PostgreSQL names them.
const (
	CodeInvalidAuthorization  = wire.CodeInvalidAuthorization  // no valid token
	CodeInsufficientPrivilege = wire.CodeInsufficientPrivilege // a token used outside its namespaces
)

// DefaultTokenEnv is the environment variable a client reads its bearer
// token from when the URL names no token source.
const DefaultTokenEnv = "SEQSHIM_TOKEN"

// Target is a parsed seqshim:// URL:
//
//	seqshim://host1:7070,host2:7070?tls=1&ca=/etc/seqshim/ca.pem&token_file=/run/secrets/seqshim&fallback=dynamodb://seqshim_sequences
//
// Parameters (all optional):
//
//	tls=1             use TLS (implied by ca, cert or server_name)
//	ca=FILE           PEM roots to verify the servers with (default: the system's)
//	cert=FILE,key=FILE  client certificate and key, for servers that ask for one
//	server_name=NAME  the name the servers' certificates carry, if not the host
//	token_file=FILE   the bearer token, read from FILE
//	token_env=VAR     the bearer token, read from $VAR (default SEQSHIM_TOKEN; unset: no token)
//	fallback=URL      a store to reserve from directly when no server answers,
//	                  normally the servers' own table: dynamodb://TABLE
//	attempt_timeout=DURATION  how long a server may take to answer one attempt (default 1s)
//	retry_for=DURATION  without fallback, how long to try the servers again when none answers (default 5s)
//
// Tokens never go in the URL: URLs end up in logs.
type Target struct {
	Addrs          []string
	TLS            bool
	CAFile         string
	CertFile       string
	KeyFile        string
	ServerName     string
	TokenFile      string
	TokenEnv       string
	Fallback       string
	AttemptTimeout time.Duration
	RetryFor       time.Duration
}

// ParseURL parses a seqshim:// URL (see Target).
func ParseURL(raw string) (Target, error) {
	rest, ok := strings.CutPrefix(raw, Scheme+"://")
	if !ok {
		return Target{}, fmt.Errorf("seqshim: store %q: want %s://host:port[,host:port...]", raw, Scheme)
	}
	hosts, query, _ := strings.Cut(rest, "?")
	hosts = strings.TrimSuffix(hosts, "/")
	var t Target
	for h := range strings.SplitSeq(hosts, ",") {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return Target{}, fmt.Errorf("seqshim: store %q: server %q is not host:port", raw, h)
		}
		t.Addrs = append(t.Addrs, h)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return Target{}, fmt.Errorf("seqshim: store %q: %w", raw, err)
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "tls":
			if t.TLS, err = strconv.ParseBool(v); err != nil {
				return Target{}, fmt.Errorf("seqshim: store %q: tls=%q: %w", raw, v, err)
			}
		case "ca":
			t.CAFile, t.TLS = v, true
		case "cert":
			t.CertFile, t.TLS = v, true
		case "key":
			t.KeyFile = v
		case "server_name":
			t.ServerName, t.TLS = v, true
		case "token_file":
			t.TokenFile = v
		case "token_env":
			t.TokenEnv = v
		case "fallback":
			t.Fallback = v
		case "attempt_timeout":
			if t.AttemptTimeout, err = time.ParseDuration(v); err != nil || t.AttemptTimeout <= 0 {
				return Target{}, fmt.Errorf("seqshim: store %q: attempt_timeout=%q is not a positive duration", raw, v)
			}
		case "retry_for":
			if t.RetryFor, err = time.ParseDuration(v); err != nil || t.RetryFor <= 0 {
				return Target{}, fmt.Errorf("seqshim: store %q: retry_for=%q is not a positive duration", raw, v)
			}
		default:
			return Target{}, fmt.Errorf("seqshim: store %q: unknown parameter %q", raw, k)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return Target{}, fmt.Errorf("seqshim: store %q: cert and key go together", raw)
	}
	return t, nil
}

// Token reads the bearer token from the target's file or environment
// variable ("" when neither is set).
func (t Target) Token() (string, error) {
	if t.TokenFile != "" {
		b, err := os.ReadFile(t.TokenFile)
		if err != nil {
			return "", fmt.Errorf("seqshim: token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	env := t.TokenEnv
	if env == "" {
		env = DefaultTokenEnv
	}
	return strings.TrimSpace(os.Getenv(env)), nil
}

// TLSConfig returns the client TLS configuration, or nil for plaintext.
func (t Target) TLSConfig() (*tls.Config, error) {
	if !t.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pool, err := wire.LoadCertPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("seqshim: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Open is what a store opener calls for a seqshim:// URL: it parses the
// URL, opens the fallback store the URL names (if any) with openFallback,
// normally the opener itself, and dials the servers with namespace.
func Open(rawURL, namespace string, openFallback func(rawURL string) (seqcache.Store, error)) (*Store, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opts := Options{Namespace: namespace}
	if t.Fallback != "" {
		if strings.HasPrefix(t.Fallback, Scheme+":") {
			return nil, fmt.Errorf("seqshim: store %q: the fallback must be a store, not servers", rawURL)
		}
		if opts.Fallback, err = openFallback(t.Fallback); err != nil {
			return nil, fmt.Errorf("seqshim: fallback %q: %w", t.Fallback, err)
		}
	}
	return DialTarget(t, opts)
}
