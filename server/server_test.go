package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/seqcache/storetest"
	"github.com/seqshim/seqshim/server/remote"
)

// TestConformance runs the Store suite on Client → server → MemoryStore:
// the service mirrors every Store method, errors included.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seqcache.Store {
		srv := serve(t, newMemBackend().open, Options{})
		return dial(t, "seqshim://"+srv.addr, remote.Options{Namespace: "conf"})
	})
}

// TestNamespaces: each namespace has its own store behind the server.
func TestNamespaces(t *testing.T) {
	be := newMemBackend()
	srv := serve(t, be.open, Options{})
	a := dial(t, "seqshim://"+srv.addr, remote.Options{Namespace: "a"})
	b := dial(t, "seqshim://"+srv.addr, remote.Options{Namespace: "b"})
	define(t, a, "public.s")
	if _, err := b.Get(t.Context(), "public.s"); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("namespace b sees a's sequence: %v", err)
	}
	if _, err := be.store("a").Get(t.Context(), "public.s"); err != nil {
		t.Fatalf("namespace a's store: %v", err)
	}
}

// collectValues draws values through per-client caches from goroutines
// and returns them per client, failing on any error.
func collectValues(t *testing.T, stores []seqcache.Store, name string, goroutines, per int, during func(i int)) [][]int64 {
	t.Helper()
	out := make([][]int64, len(stores))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*goroutines)
	for ci, st := range stores {
		cache := seqcache.NewCache(st, seqcache.Config{BlockSize: 50, MaxBlockSize: 50, OutageCover: -1, Logger: quiet})
		t.Cleanup(func() { cache.Close(context.Background()) })
		for range goroutines {
			wg.Go(func() {
				var mine []int64
				for i := range per {
					if during != nil {
						during(i)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					v, err := cache.Next(ctx, name)
					cancel()
					if err != nil {
						errs <- fmt.Errorf("client %d: %w", ci, err)
						return
					}
					if len(mine) > 0 && v <= mine[len(mine)-1] {
						errs <- fmt.Errorf("client %d: %d after %d", ci, v, mine[len(mine)-1])
						return
					}
					mine = append(mine, v)
				}
				mu.Lock()
				out[ci] = append(out[ci], mine...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// checkUnique fails on a value seen twice and returns the largest.
func checkUnique(t *testing.T, perClient [][]int64) int64 {
	t.Helper()
	var all []int64
	for _, vs := range perClient {
		all = append(all, vs...)
	}
	slices.Sort(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("value %d handed out twice", all[i])
		}
	}
	if len(all) == 0 {
		t.Fatal("no value")
	}
	return all[len(all)-1]
}

// TestLayeredCaches: client caches on Clients on two servers whose caches
// share one store. No value twice; the store past every value.
func TestLayeredCaches(t *testing.T) {
	be := newMemBackend()
	cfg := seqcache.Config{BlockSize: 1000, MaxBlockSize: 8000, OutageCover: -1, Logger: quiet}
	s1 := serve(t, be.open, Options{Cache: &cfg})
	s2 := serve(t, be.open, Options{Cache: &cfg})
	url := "seqshim://" + s1.addr + "," + s2.addr
	var stores []seqcache.Store
	for range 4 {
		stores = append(stores, dial(t, url, remote.Options{}))
	}
	define(t, stores[0], "public.ids")
	top := checkUnique(t, collectValues(t, stores, "public.ids", 4, 500, nil))
	sq, err := be.store("").Get(t.Context(), "public.ids")
	if err != nil || sq.Next <= top {
		t.Fatalf("store at %+v (%v), want past %d", sq, err, top)
	}
	// Each client stays on one server it picked at random, so either
	// server may have served them all: count both.
	n := s1.storeStats().Reservations + s2.storeStats().Reservations
	if n == 0 || n > 40 {
		t.Fatalf("the servers reserved %d blocks from the store for 8000 values", n)
	}
}

// TestFailoverAndFallback: a server killed mid-load, then the other; the
// clients go on through the remaining server, then the fallback store.
func TestFailoverAndFallback(t *testing.T) {
	be := newMemBackend()
	cfg := seqcache.Config{BlockSize: 200, MaxBlockSize: 200, OutageCover: -1, Logger: quiet}
	s1 := serve(t, be.open, Options{Cache: &cfg})
	s2 := serve(t, be.open, Options{Cache: &cfg})
	url := "seqshim://" + s1.addr + "," + s2.addr + "?attempt_timeout=300ms"
	var clients []*remote.Store
	var stores []seqcache.Store
	for range 3 {
		c := dial(t, url, remote.Options{Fallback: be.store("")})
		clients = append(clients, c)
		stores = append(stores, c)
	}
	define(t, stores[0], "public.ids")
	var once1, once2 sync.Once
	vals := collectValues(t, stores, "public.ids", 3, 400, func(i int) {
		switch i {
		case 100:
			once1.Do(s1.abort)
		case 250:
			once2.Do(s2.abort)
		}
	})
	top := checkUnique(t, vals)
	sq, _ := be.store("").Get(t.Context(), "public.ids")
	if sq.Next <= top {
		t.Fatalf("store at %d, want past %d", sq.Next, top)
	}
	var fb int64
	for _, c := range clients {
		fb += c.Stats().Fallbacks
	}
	if fb == 0 {
		t.Fatal("no call went to the fallback with both servers down")
	}
}

// TestNoServer: without a fallback, no server means 08006.
func TestNoServer(t *testing.T) {
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	lis.Close()
	c := dial(t, "seqshim://"+addr+"?retry_for=300ms", remote.Options{})
	start := time.Now()
	_, err := c.Reserve(t.Context(), "public.s", 1)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Reserve gave up after %v, before retry_for", d)
	}
	if !errors.Is(err, seqcache.ErrUnavailable) {
		t.Fatalf("Reserve with no server = %v, want 08006", err)
	}
	if err := c.SetValue(t.Context(), "public.s", 5, true); !errors.Is(err, seqcache.ErrUnavailable) {
		t.Fatalf("SetValue with no server = %v, want 08006", err)
	}
}

// TestServerCapsBlocks: a client asking for more than MaxBlock gets
// MaxBlock; one asking more than the sequence has left gets the rest,
// then 2200H.
func TestServerCapsBlocks(t *testing.T) {
	be := newMemBackend()
	srv := serve(t, be.open, Options{MaxBlock: 10})
	c := dial(t, "seqshim://"+srv.addr, remote.Options{})
	define(t, c, "public.s", seqcache.MaxValue(15))
	if b, err := c.Reserve(t.Context(), "public.s", 1000); err != nil || b.Count != 10 {
		t.Fatalf("Reserve(1000) = %+v, %v; want 10 values", b, err)
	}
	if b, err := c.Reserve(t.Context(), "public.s", 1000); err != nil || b.First != 11 || b.Count != 5 {
		t.Fatalf("Reserve(1000) = %+v, %v; want 11..15", b, err)
	}
	_, err := c.Reserve(t.Context(), "public.s", 1)
	var e *seqcache.Error
	if !errors.Is(err, seqcache.ErrLimitReached) || !errors.As(err, &e) || e.Sequence != "public.s" {
		t.Fatalf("Reserve past the limit = %v, want 2200H naming public.s", err)
	}
}
