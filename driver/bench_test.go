package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// nopConn is a base connection that answers nothing: the benchmarks below
// measure what seqshim and database/sql cost on statements seqshim
// answers itself, with no database in the way.
type nopConn struct{}

func (nopConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("nop") }
func (nopConn) Close() error                        { return nil }
func (nopConn) Begin() (driver.Tx, error)           { return nil, errors.New("nop") }

type nopConnector struct{}

func (nopConnector) Connect(context.Context) (driver.Conn, error) { return nopConn{}, nil }
func (nopConnector) Driver() driver.Driver                        { return nil }

func benchDB(b *testing.B) *sql.DB {
	cfg := DefaultConfig()
	cfg.Store = "memory://"
	cfg.BlockSize = 1 << 20
	c, err := NewConnector(nopConnector{}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	spec, _ := seqcache.Define("public.s")
	if err := c.(*Connector).Cache().Create(context.Background(), spec); err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(c)
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkLocalNextval is SELECT nextval('s') through database/sql,
// answered in process.
func BenchmarkLocalNextval(b *testing.B) {
	db := benchDB(b)
	b.ReportAllocs()
	var v int64
	for b.Loop() {
		if err := db.QueryRow("SELECT nextval('s')").Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalNextvalConn is the same on one sql.Conn, without the
// pool's bookkeeping.
func BenchmarkLocalNextvalConn(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	var v int64
	for b.Loop() {
		if err := c.QueryRowContext(ctx, "SELECT nextval('s')").Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}
