package seqmetrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	_ "github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/seqmetrics"
)

func newCache(t *testing.T, names ...string) *seqcache.Cache {
	t.Helper()
	store := seqcache.NewMemoryStore()
	for _, n := range names {
		s, err := seqcache.Define(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	c := seqcache.NewCache(store, seqcache.Config{BlockSize: 100, MaxBlockSize: 100, OutageCover: -1,
		Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestCollector(t *testing.T) {
	c := newCache(t, "public.a")
	ctx := context.Background()
	for range 250 {
		if _, err := c.Next(ctx, "public.a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Next(ctx, "public.nope"); err == nil {
		t.Fatal("unknown sequence served")
	}
	col := seqmetrics.New(c, seqmetrics.Options{})
	// Blocks 1..100, 101..200, 201..300 and the one fetched ahead.
	for deadline := time.Now().Add(5 * time.Second); c.Stats().Reservations < 4 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	want := `
# HELP seqshim_values_served_total Sequence values handed out.
# TYPE seqshim_values_served_total counter
seqshim_values_served_total 250
# HELP seqshim_reservations_total Blocks reserved from the store, outage cover included.
# TYPE seqshim_reservations_total counter
seqshim_reservations_total 4
# HELP seqshim_block_size Size of the next normal reservation.
# TYPE seqshim_block_size gauge
seqshim_block_size{sequence="public.a"} 100
`
	if err := testutil.CollectAndCompare(col, strings.NewReader(want),
		"seqshim_values_served_total", "seqshim_reservations_total", "seqshim_block_size"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(col, "seqshim_reservation_duration_seconds"); n != 1 {
		t.Fatalf("%d reservation histograms", n)
	}
	if n := testutil.CollectAndCount(col, "seqshim_store_errors_total"); n != 4 {
		t.Fatalf("%d store error series, want one per kind (4)", n)
	}
	problems, err := testutil.CollectAndLint(col)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(col); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestCollectorBoundsLabels: with more sequences than TopSequences, the
// gauges carry TopSequences labels and one "_other".
func TestCollectorBoundsLabels(t *testing.T) {
	var names []string
	for i := range 30 {
		names = append(names, fmt.Sprintf("public.s%02d", i))
	}
	c := newCache(t, names...)
	for _, n := range names {
		if _, err := c.Next(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	col := seqmetrics.New(c, seqmetrics.Options{TopSequences: 5})
	if n := testutil.CollectAndCount(col, "seqshim_block_size"); n != 6 {
		t.Fatalf("%d block size series for 30 sequences, want 5 and %s", n, seqmetrics.Other)
	}
	want := `
# HELP seqshim_outage_cover_values Values held for a store outage.
# TYPE seqshim_outage_cover_values gauge
seqshim_outage_cover_values{sequence="_other"} 0
seqshim_outage_cover_values{sequence="public.s00"} 0
seqshim_outage_cover_values{sequence="public.s01"} 0
seqshim_outage_cover_values{sequence="public.s02"} 0
seqshim_outage_cover_values{sequence="public.s03"} 0
seqshim_outage_cover_values{sequence="public.s04"} 0
`
	if err := testutil.CollectAndCompare(col, strings.NewReader(want), "seqshim_outage_cover_values"); err != nil {
		t.Fatal(err)
	}
}

// TestForDB: the one-line registration finds the cache of a sql.DB opened
// with the seqshim driver.
func TestForDB(t *testing.T) {
	url := testenv.DatabaseURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := sql.Open("seqshim", url+sep+"seqshim.store=memory://&seqshim.namespace="+testenv.UniqueName("m"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	col := seqmetrics.ForDB(db)
	if n := testutil.CollectAndCount(col, "seqshim_values_served_total"); n != 1 {
		t.Fatalf("ForDB exported %d served series, want 1", n)
	}
}
