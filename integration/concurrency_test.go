package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestConcurrentInserts has 32 goroutines insert through one sql.DB into
// a table whose primary key comes from nextval: no unique violation, and
// ids increase per goroutine and per connection.
func TestConcurrentInserts(t *testing.T) {
	e := newEnv(t, "seqshim.block_size=50")
	sfx := e.ns[2:]
	seq, tbl := "conc_"+sfx, "conc_t_"+sfx
	e.sequence(seq)
	e.exec(e.native, fmt.Sprintf("CREATE TABLE %s (id bigint PRIMARY KEY, pid int NOT NULL, g int NOT NULL, at timestamptz NOT NULL)", tbl))
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	e.shim.SetMaxOpenConns(8)

	insert := fmt.Sprintf("INSERT INTO %s (id, pid, g, at) VALUES (nextval('%s'), pg_backend_pid(), $1, clock_timestamp()) RETURNING id", tbl, seq)
	const goroutines, per = 32, 60
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var last int64
			for range per {
				var id int64
				err := e.shim.QueryRowContext(context.Background(), insert, g).Scan(&id)
				var pg *pgconn.PgError
				if errors.As(err, &pg) && pg.Code == "23505" {
					t.Errorf("unique violation: %v", err)
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if id <= last {
					t.Errorf("goroutine %d: id %d after %d", g, id, last)
				}
				last = id
			}
		})
	}
	wg.Wait()

	var n, distinct int
	if err := e.native.QueryRow("SELECT count(*), count(DISTINCT id) FROM "+tbl).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != goroutines*per || distinct != n {
		t.Fatalf("%d rows, %d distinct ids; want %d", n, distinct, goroutines*per)
	}
	// Per connection (backend pid), ids follow insertion order.
	var bad int
	err := e.native.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (
		SELECT id, lag(id) OVER (PARTITION BY pid ORDER BY at, id) AS prev FROM %s) x
		WHERE prev IS NOT NULL AND id <= prev`, tbl)).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d ids smaller than the previous one on the same connection", bad)
	}
	// PostgreSQL's own sequence was never used.
	var called bool
	if err := e.native.QueryRow(fmt.Sprintf("SELECT is_called FROM %s", seq)).Scan(&called); err != nil || called {
		t.Fatalf("the native sequence was used: is_called=%v, %v", called, err)
	}
}
