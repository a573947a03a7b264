package main

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seqshim/seqshim/dynamo"
)

// The demo, the benchmark and the stress test run against the services
// scripts/services.sh makes available. The helpers below find them and
// say what to run when one is missing.

const servicesHint = `start the services with: eval "$(scripts/services.sh)" (make demo and make bench do it for you)`

// databaseURL returns DATABASE_URL.
func databaseURL() (string, error) {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		return "", fmt.Errorf("PostgreSQL: DATABASE_URL is not set; %s", servicesHint)
	}
	return u, nil
}

// pgWhere describes the server of a DSN without its credentials.
func pgWhere(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "(DATABASE_URL)"
	}
	return "at " + u.Host + u.Path
}

// dynamoWhere describes the DynamoDB endpoint in use.
func dynamoWhere() string {
	if e := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); e != "" {
		return e
	}
	return "AWS (standard configuration chain)"
}

// openDB opens a database with the driver drv ("pgx" or "seqshim") and
// checks that PostgreSQL answers.
func openDB(ctx context.Context, drv, dsn string) (*sql.DB, error) {
	db, err := sql.Open(drv, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", drv, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("PostgreSQL %s does not answer: %w; %s", pgWhere(dsn), err, servicesHint)
	}
	return db, nil
}

// openDynamo opens the DynamoDB store in namespace ns and creates the
// table when it is absent.
func openDynamo(ctx context.Context, table, ns string, opts ...func(*dynamo.Options)) (*dynamo.Store, error) {
	where := "DynamoDB " + dynamoWhere()
	if e := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); e != "" {
		if err := dial(ctx, e); err != nil {
			return nil, fmt.Errorf("the DynamoDB endpoint %s does not answer: %w; %s", e, err, servicesHint)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o := dynamo.Options{Table: table, Namespace: ns, CreateTable: true}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := dynamo.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; is it running? %s", where, err, servicesHint)
	}
	return s, nil
}

// dial checks that the endpoint URL's host accepts TCP connections.
func dial(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", endpoint)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	return c.Close()
}

// withParams adds key=value parameters to a PostgreSQL DSN, in URL form
// (postgres://...?k=v) or keyword/value form (host=... k=v).
func withParams(dsn string, params ...string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var b strings.Builder
		b.WriteString(dsn)
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		for _, p := range params {
			k, v, _ := strings.Cut(p, "=")
			b.WriteString(sep + url.QueryEscape(k) + "=" + url.QueryEscape(v))
			sep = "&"
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString(dsn)
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		v = strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `'`, `\'`)
		b.WriteString(" " + k + "='" + v + "'")
	}
	return b.String()
}

// uniqueSuffix returns 8 random hex digits, for names no other run shares.
func uniqueSuffix() string {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
