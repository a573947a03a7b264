package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

// TestJournalRestart: a server killed without giving anything back,
// restarted on its journal, continues inside the block it held: the next
// value follows the last one handed out, and the store did not move.
func TestJournalRestart(t *testing.T) {
	be := newMemBackend()
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1, Logger: quiet, LowWater: 0.01}
	srv := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c := dial(t, "seqshim://"+srv.addr, remote.Options{})
	define(t, c, "public.s")
	var last int64
	for range 10 {
		b, err := c.Reserve(t.Context(), "public.s", 7)
		if err != nil {
			t.Fatal(err)
		}
		last = b.Last()
	}
	before, _ := be.store("").Get(t.Context(), "public.s")
	srv.abort() // as SIGKILL: no give-back

	srv2 := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c2 := dial(t, "seqshim://"+srv2.addr, remote.Options{})
	b, err := c2.Reserve(t.Context(), "public.s", 5)
	if err != nil {
		t.Fatal(err)
	}
	if b.First != last+1 {
		t.Fatalf("after restart on the journal: %+v, want to continue at %d", b, last+1)
	}
	if after, _ := be.store("").Get(t.Context(), "public.s"); after.Next != before.Next {
		t.Fatalf("store moved from %d to %d: the held block was not reused", before.Next, after.Next)
	}
}

// TestJournalNoReplayAfterGiveBack: a graceful stop gives the tail back to
// the store and cuts the journal first, so a restart on the journal does
// not serve the given-back values that the store hands out again.
func TestJournalNoReplayAfterGiveBack(t *testing.T) {
	be := newMemBackend()
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1, Logger: quiet, LowWater: 0.01}
	srv := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c := dial(t, "seqshim://"+srv.addr, remote.Options{})
	define(t, c, "public.s")
	b, err := c.Reserve(t.Context(), "public.s", 10)
	if err != nil || b.First != 1 {
		t.Fatalf("first block %+v, %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if sq, _ := be.store("").Get(t.Context(), "public.s"); sq.Next != 11 {
		t.Fatalf("after a graceful stop the store is at %d, want 11 (tail given back)", sq.Next)
	}
	// Someone reserves the given-back values directly.
	direct, err := be.store("").Reserve(t.Context(), "public.s", 100)
	if err != nil || direct.First != 11 {
		t.Fatalf("direct reserve %+v, %v", direct, err)
	}
	srv2 := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c2 := dial(t, "seqshim://"+srv2.addr, remote.Options{})
	got, err := c2.Reserve(t.Context(), "public.s", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.First <= direct.Last() {
		t.Fatalf("restart served %+v, inside the values reserved directly (%+v)", got, direct)
	}
}

// TestJournalStaleAfterSetval: a journal's block from before a setval is
// not served after a restart.
func TestJournalStaleAfterSetval(t *testing.T) {
	be := newMemBackend()
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1, Logger: quiet, LowWater: 0.01}
	srv := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c := dial(t, "seqshim://"+srv.addr, remote.Options{})
	define(t, c, "public.s")
	if _, err := c.Reserve(t.Context(), "public.s", 10); err != nil {
		t.Fatal(err)
	}
	srv.abort()
	// setval straight in the store, not through the server: the journal
	// still holds 11..1000.
	if err := be.store("").SetValue(t.Context(), "public.s", 5000, true); err != nil {
		t.Fatal(err)
	}
	srv2 := serve(t, be.open, Options{Cache: &cfg, Journal: path})
	c2 := dial(t, "seqshim://"+srv2.addr, remote.Options{})
	got, err := c2.Reserve(t.Context(), "public.s", 5)
	if err != nil || got.First != 5001 {
		t.Fatalf("after setval behind the journal's back: %+v, %v; want 5001", got, err)
	}
}

// TestJournalConcurrent: many clients through a journaled server, killed
// and restarted twice: no value twice.
func TestJournalConcurrent(t *testing.T) {
	be := newMemBackend()
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := seqcache.Config{BlockSize: 500, MaxBlockSize: 500, OutageCover: -1, Logger: quiet}
	var all [][]int64
	for round := range 3 {
		srv := serve(t, be.open, Options{Cache: &cfg, Journal: path})
		var stores []seqcache.Store
		for range 3 {
			stores = append(stores, dial(t, "seqshim://"+srv.addr+"?retry_for=100ms", remote.Options{}))
		}
		if round == 0 {
			define(t, stores[0], "public.s")
		}
		all = append(all, collectValues(t, stores, "public.s", 3, 200, nil)...)
		srv.abort()
	}
	top := checkUnique(t, all)
	if sq, _ := be.store("").Get(t.Context(), "public.s"); sq.Next <= top {
		t.Fatalf("store at %d, want past %d", sq.Next, top)
	}
}

// TestJournalGiveBackAfterRestart: a server restarted on its journal that
// served part of what it held gives the rest back at a graceful stop,
// newest first: the store ends exactly past the values handed out.
func TestJournalGiveBackAfterRestart(t *testing.T) {
	for _, inc := range []int64{1, -1} {
		be := newMemBackend()
		path := filepath.Join(t.TempDir(), "journal.db")
		cfg := seqcache.Config{BlockSize: 100, MaxBlockSize: 100, OutageCover: -1, Logger: quiet}
		srv := serve(t, be.open, Options{Cache: &cfg, Journal: path})
		c := dial(t, "seqshim://"+srv.addr, remote.Options{})
		define(t, c, "public.s", seqcache.Increment(inc))
		for range 6 {
			if _, err := c.Reserve(t.Context(), "public.s", 10); err != nil {
				t.Fatal(err)
			}
		}
		if sq, _ := be.store("").Get(t.Context(), "public.s"); sq.Next != 201*inc {
			t.Fatalf("increment %d: store at %d, want the current and the prefetched block held", inc, sq.Next)
		}
		srv.abort()
		srv2 := serve(t, be.open, Options{Cache: &cfg, Journal: path})
		c2 := dial(t, "seqshim://"+srv2.addr, remote.Options{})
		b, err := c2.Reserve(t.Context(), "public.s", 10)
		if err != nil || b.First != 61*inc {
			t.Fatalf("increment %d: after restart %+v, %v; want to continue at %d", inc, b, err, 61*inc)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv2.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if sq, _ := be.store("").Get(t.Context(), "public.s"); sq.Next != 71*inc {
			t.Fatalf("increment %d: after a graceful stop the store is at %d, want %d", inc, sq.Next, 71*inc)
		}
	}
}
