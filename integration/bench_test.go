package integration

import (
	"database/sql"
	"fmt"
	"testing"
)

// The benchmarks run each statement through plain pgx, through seqshim with
// its defaults, and through seqshim with seqshim.max_block_size=100000 (hot
// sequences grow their blocks), against the same PostgreSQL in one run;
// compare the lines of each group (benchstat, or by eye).

func benchPair(b *testing.B, setup func(e *env) (query string, args []any, reset func())) {
	e := newEnv(b)
	query, args, reset := setup(e)
	grow := open(b, "seqshim", e.shimDSN("seqshim.max_block_size=100000"))
	for _, side := range []struct {
		name string
		db   *sql.DB
	}{{"native", e.native}, {"seqshim", e.shim}, {"seqshim-grow", grow}} {
		b.Run(side.name, func(b *testing.B) {
			if reset != nil {
				reset()
			}
			side.db.SetMaxIdleConns(4)
			b.ReportAllocs()
			for b.Loop() {
				var v any
				if err := side.db.QueryRow(query, args...).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNextval(b *testing.B) {
	benchPair(b, func(e *env) (string, []any, func()) {
		seq := "bn_" + e.ns[2:]
		e.sequence(seq)
		return fmt.Sprintf("SELECT nextval('%s')", seq), nil, nil
	})
}

func BenchmarkInsertNextval(b *testing.B) {
	benchPair(b, func(e *env) (string, []any, func()) {
		seq, tbl := "bi_"+e.ns[2:], "bi_t_"+e.ns[2:]
		e.sequence(seq)
		e.exec(e.native, fmt.Sprintf("CREATE UNLOGGED TABLE %s (id bigint PRIMARY KEY, v text)", tbl))
		b.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
		// Both sides draw from 1 (PostgreSQL's sequence, the store's): empty
		// the table before each.
		return fmt.Sprintf("INSERT INTO %s (id, v) VALUES (nextval('%s'), $1) RETURNING id", tbl, seq), []any{"payload"},
			func() { e.exec(e.native, "TRUNCATE "+tbl) }
	})
}

func BenchmarkPassThrough(b *testing.B) {
	benchPair(b, func(e *env) (string, []any, func()) {
		return "SELECT $1::int", []any{int64(42)}, nil
	})
}
