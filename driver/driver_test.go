package driver

import (
	"context"
	"database/sql"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// TestOneCachePerStore: every sql.DB on a store shares one cache, which
// closes with the last of them and gives its unused values back.
func TestOneCachePerStore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Store = "memory://"
	cfg.Namespace = t.Name()
	a, err := NewConnector(nopConnector{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewConnector(nopConnector{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := a.(*Connector).Cache(), b.(*Connector).Cache()
	if ca != cb {
		t.Fatal("two connectors on one store have two caches")
	}
	ctx := context.Background()
	spec, _ := seqcache.Define("public.s")
	if err := ca.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	dbA, dbB := sql.OpenDB(a), sql.OpenDB(b)
	var v int64
	if err := dbA.QueryRow("SELECT nextval('s')").Scan(&v); err != nil || v != 1 {
		t.Fatalf("first value %d, %v", v, err)
	}
	if err := dbB.QueryRow("SELECT nextval('s')").Scan(&v); err != nil || v != 2 {
		t.Fatalf("second DB's value %d, %v; want 2 from the shared cache", v, err)
	}
	dbA.Close()
	if err := dbB.QueryRow("SELECT nextval('s')").Scan(&v); err != nil || v != 3 {
		t.Fatalf("after one DB closed: %d, %v", v, err)
	}
	dbB.Close()
	if st := ca.Stats(); st.GivenBack != 997 {
		t.Fatalf("after the last DB closed: %+v, want 997 values given back", st)
	}
	c, err := NewConnector(nopConnector{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.(*Connector).Cache() == ca {
		t.Fatal("a closed cache was handed out again")
	}
	c.(*Connector).Close()
}

// TestConnectorConfigErrors: a Config given to NewConnector is checked as
// the DSN is: malformed patterns and unknown stores are refused.
func TestConnectorConfigErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Store = "memory://"
	cfg.Deny = []string{"audit_*", "a[b"}
	_, err := NewConnector(nopConnector{}, cfg)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "seqshim.deny" || !errors.Is(err, path.ErrBadPattern) || !strings.Contains(err.Error(), `bad pattern "a[b"`) {
		t.Errorf("bad deny pattern: %v", err)
	}
	cfg = DefaultConfig()
	cfg.Store = "redis://x"
	if _, err := NewConnector(nopConnector{}, cfg); !errors.As(err, &ce) || ce.Key != "seqshim.store" || !strings.Contains(err.Error(), `unsupported store "redis://x"`) {
		t.Errorf("unknown store: %v", err)
	}
}
