package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

// table is the DynamoDB table the integration tests share; each test has
// its own namespace in it.
const table = "seqshim_integration"

// env is one test's services: native pgx, seqshim on DynamoDB, and the
// store behind seqshim, in a namespace of the test's own.
type env struct {
	t      testing.TB
	url    string
	ns     string
	store  *dynamo.Store
	native *sql.DB
	shim   *sql.DB
}

func newEnv(t testing.TB, params ...string) *env {
	t.Helper()
	url := testenv.DatabaseURL(t)
	cfg := testenv.AWSConfig(t)
	ns := testenv.UniqueName("it")
	store, err := dynamo.New(cfg, dynamo.Options{Table: table, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, url: url, ns: ns, store: store}
	e.native = open(t, "pgx", url)
	e.shim = open(t, "seqshim", e.shimDSN(params...))
	return e
}

// shimDSN is the test database's URL with the seqshim parameters of this
// env, plus params ("key=value").
func (e *env) shimDSN(params ...string) string {
	sep := "?"
	if strings.Contains(e.url, "?") {
		sep = "&"
	}
	all := append([]string{"seqshim.store=dynamodb://" + table, "seqshim.namespace=" + e.ns}, params...)
	return e.url + sep + strings.Join(all, "&")
}

func open(t testing.TB, drv, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(drv, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%s): %v", drv, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("ping %s: %v", drv, err)
	}
	return db
}

// sequence creates the sequence in PostgreSQL and, with the same
// parameters, in the store; name must be a plain lower-case identifier.
func (e *env) sequence(name string, opts ...seqcache.Option) seqcache.Spec {
	e.t.Helper()
	spec, err := seqcache.Define("public."+name, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	cycle := "NO CYCLE"
	if spec.Cycle {
		cycle = "CYCLE"
	}
	e.exec(e.native, fmt.Sprintf("DROP SEQUENCE IF EXISTS %s", name))
	e.exec(e.native, fmt.Sprintf("CREATE SEQUENCE %s INCREMENT %d MINVALUE %d MAXVALUE %d START %d CACHE %d %s",
		name, spec.Increment, spec.MinValue, spec.MaxValue, spec.Start, spec.Cache, cycle))
	e.t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + name) })
	if err := e.store.Create(context.Background(), spec); err != nil {
		e.t.Fatal(err)
	}
	return spec
}

func (e *env) exec(db *sql.DB, query string, args ...any) {
	e.t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// cache returns the seqshim cache behind e.shim.
func (e *env) cache() *seqcache.Cache {
	e.t.Helper()
	c, err := driver.CacheOf(context.Background(), e.shim)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}
