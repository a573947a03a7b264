package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestLazyImport: the first nextval of a sequence only PostgreSQL has
// imports it (store start = last_value + gap), caps PostgreSQL's own just
// below, and racing connections settle on one import.
func TestLazyImport(t *testing.T) {
	e := newEnv(t, "seqshim.import_gap=100")
	seq := "lazy_" + e.ns[2:]
	e.exec(e.native, "CREATE SEQUENCE "+seq)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	e.exec(e.native, fmt.Sprintf("SELECT setval('%s', 41)", seq))

	var wg sync.WaitGroup
	got := make([]int64, 8)
	for i := range got {
		wg.Go(func() {
			if err := e.shim.QueryRow(fmt.Sprintf("SELECT nextval('%s')", seq)).Scan(&got[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, v := range got {
		if v < 141 || v > 148 || seen[v] {
			t.Fatalf("values %v: want 141..148 once each", got)
		}
		seen[v] = true
	}
	var max int64
	if err := e.native.QueryRow("SELECT max_value FROM pg_sequences WHERE sequencename = $1", seq).Scan(&max); err != nil || max != 140 {
		t.Fatalf("PostgreSQL's cap: %d, %v; want MAXVALUE 140", max, err)
	}
	// The native side keeps the values below the cap, then fails loudly.
	for want := int64(42); want <= 140; want++ {
		var v int64
		if err := e.native.QueryRow(fmt.Sprintf("SELECT nextval('%s')", seq)).Scan(&v); err != nil || v != want {
			t.Fatalf("native nextval: %d, %v; want %d", v, err, want)
		}
	}
	_, err := e.native.Exec(fmt.Sprintf("SELECT nextval('%s')", seq))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "2200H" {
		t.Fatalf("native past the cap: %v, want 2200H", err)
	}
}

// TestLazyImportOff: with seqshim.lazy_import=false a sequence the store
// lacks is 42P01, and PostgreSQL's is left alone.
func TestLazyImportOff(t *testing.T) {
	e := newEnv(t, "seqshim.lazy_import=false")
	seq := "nolazy_" + e.ns[2:]
	e.exec(e.native, "CREATE SEQUENCE "+seq)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	_, err := e.shim.ExecContext(context.Background(), fmt.Sprintf("SELECT nextval('%s')", seq))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "42P01" {
		t.Fatalf("nextval without import: %v, want 42P01", err)
	}
	var max int64
	if err := e.native.QueryRow("SELECT max_value FROM pg_sequences WHERE sequencename = $1", seq).Scan(&max); err != nil || max != 9223372036854775807 {
		t.Fatalf("PostgreSQL's sequence was capped: %d, %v", max, err)
	}
}
