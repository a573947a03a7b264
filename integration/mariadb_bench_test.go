package integration

import (
	"database/sql"
	"testing"

	"github.com/seqshim/seqshim/internal/testenv"
)

// The MariaDB benchmarks run each statement through go-sql-driver/mysql on
// MariaDB's own sequence or AUTO_INCREMENT and through seqshim-mysql (its
// defaults: blocks of 1000), against the same server in one run.

func myBenchPair(b *testing.B, query func(e *myEnv) (native, shim string, args []any)) {
	e := newMyEnv(b)
	shim := open(b, "seqshim-mysql", e.shimDSN("seqshim.block_size=1000"))
	nq, sq, args := query(e)
	for _, side := range []struct {
		name, query string
		db          *sql.DB
	}{{"native", nq, e.native}, {"seqshim", sq, shim}} {
		b.Run(side.name, func(b *testing.B) {
			side.db.SetMaxIdleConns(4)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := side.db.Exec(side.query, args...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMariaDBNextval: SELECT NEXTVAL(s), a sequence with CACHE 1000
// on MariaDB's side, answered in process on seqshim's.
func BenchmarkMariaDBNextval(b *testing.B) {
	myBenchPair(b, func(e *myEnv) (string, string, []any) {
		s := e.sequence("bn", seqcacheCache(1000)...)
		return "SELECT NEXTVAL(" + s + ")", "SELECT NEXTVAL(" + s + ")", nil
	})
}

// BenchmarkMariaDBInsertAutoIncrement: INSERT leaving the AUTO_INCREMENT
// id out, on a native table and on one whose ids come from the store.
func BenchmarkMariaDBInsertAutoIncrement(b *testing.B) {
	myBenchPair(b, func(e *myEnv) (string, string, []any) {
		native, shim := testenv.UniqueName("ban"), testenv.UniqueName("bas")
		for _, t := range []string{native, shim} {
			e.exec(e.native, "CREATE TABLE "+t+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
			b.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + t) })
		}
		e.storeSequence("test." + shim)
		return "INSERT INTO " + native + " (v) VALUES (?)", "INSERT INTO " + shim + " (v) VALUES (?)", []any{"payload"}
	})
}
