// Package testenv gives integration tests the services that
// scripts/services.sh makes available: PostgreSQL (DATABASE_URL), MariaDB
// (MARIADB_DSN, in go-sql-driver/mysql's form) and a DynamoDB-compatible
// endpoint (AWS_ENDPOINT_URL_DYNAMODB).
//
// When a service is not configured or does not answer, a test is skipped
// locally, so that `go test ./...` works anywhere; when the CI environment
// variable is set, the test fails instead, because in CI a missing service
// is a broken run, not a reason to test less.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/seqshim/seqshim/internal/faultproxy"
)

// Environment variables read by this package.
const (
	EnvDatabaseURL    = "DATABASE_URL"
	EnvMariaDBDSN     = "MARIADB_DSN"
	EnvDynamoEndpoint = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvCI             = "CI"
)

const hint = "run the tests through `make test`, or `eval \"$(scripts/services.sh)\"` first"

// InCI reports whether the tests run in CI, where missing services fail.
func InCI() bool {
	v := strings.ToLower(os.Getenv(EnvCI))
	return v != "" && v != "0" && v != "false"
}

// unavailable skips t, or fails it in CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI: "+format+"; "+hint, args...)
	}
	t.Skipf(format+"; "+hint, args...)
}

// DatabaseURL returns DATABASE_URL after checking that its server accepts
// TCP connections.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDatabaseURL)
	if dsn == "" {
		unavailable(t, "PostgreSQL: %s is not set", EnvDatabaseURL)
		return ""
	}
	if addr := hostPort(dsn, "5432"); addr != "" {
		if err := reachable(addr); err != nil {
			unavailable(t, "PostgreSQL at %s does not answer: %v", addr, err)
		}
	}
	return dsn
}

// MariaDBDSN returns MARIADB_DSN (user@tcp(host:port)/database) after
// checking that its server accepts TCP connections.
func MariaDBDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvMariaDBDSN)
	if dsn == "" {
		unavailable(t, "MariaDB: %s is not set", EnvMariaDBDSN)
		return ""
	}
	if addr := tcpAddr(dsn); addr != "" {
		if err := reachable(addr); err != nil {
			unavailable(t, "MariaDB at %s does not answer: %v", addr, err)
		}
	}
	return dsn
}

// tcpAddr extracts host:port from a go-sql-driver/mysql DSN's tcp(...)
// part, or returns "" for another form (a unix socket), which is then not
// checked.
func tcpAddr(dsn string) string {
	_, rest, ok := strings.Cut(dsn, "@tcp(")
	if !ok {
		return ""
	}
	addr, _, ok := strings.Cut(rest, ")")
	if !ok || addr == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return net.JoinHostPort(addr, "3306")
	}
	return addr
}

// DynamoEndpoint returns AWS_ENDPOINT_URL_DYNAMODB after checking that it
// accepts TCP connections.
func DynamoEndpoint(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv(EnvDynamoEndpoint)
	if endpoint == "" {
		unavailable(t, "DynamoDB: %s is not set", EnvDynamoEndpoint)
		return ""
	}
	port := "80"
	if strings.HasPrefix(endpoint, "https://") {
		port = "443"
	}
	addr := hostPort(endpoint, port)
	if addr == "" {
		unavailable(t, "DynamoDB: %s=%q is not a URL", EnvDynamoEndpoint, endpoint)
		return ""
	}
	if err := reachable(addr); err != nil {
		unavailable(t, "DynamoDB endpoint %s does not answer: %v", endpoint, err)
	}
	return endpoint
}

// AWSConfig returns the SDK configuration for the test endpoint, loaded
// through the standard chain (the SDK itself sends DynamoDB calls to
// AWS_ENDPOINT_URL_DYNAMODB). A missing region defaults to us-east-1 and
// missing credentials to static dummy ones, which local endpoints accept.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	DynamoEndpoint(t)
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		t.Fatalf("loading AWS configuration: %v", err)
	}
	return cfg
}

// UniqueName returns prefix followed by a random suffix, usable as a table
// name, namespace or sequence name that no other test or run shares.
func UniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// hostPort extracts host:port from a URL, with defPort when it has none.
// It returns "" for a string that is not a URL with a host (such as a
// key=value DSN), which is then not checked.
func hostPort(raw, defPort string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = defPort
	}
	return net.JoinHostPort(u.Hostname(), port)
}

var (
	mu     sync.Mutex
	probed = map[string]error{}
)

// reachable dials addr once per test process and remembers the answer.
func reachable(addr string) error {
	mu.Lock()
	defer mu.Unlock()
	if err, ok := probed[addr]; ok {
		return err
	}
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
	}
	probed[addr] = err
	return err
}

// DynamoProxy starts a fault proxy in front of the DynamoDB endpoint,
// closed when the test ends: point a client at its URL to put faults
// between the client and the store.
func DynamoProxy(t testing.TB) *faultproxy.Proxy {
	t.Helper()
	u, err := url.Parse(DynamoEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
