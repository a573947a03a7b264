package seqcache_test

import (
	"context"
	"sync"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

func benchCache(b *testing.B) *seqcache.Cache {
	store := newStore(b, spec(b, "public.orders_id_seq"))
	c := newCache(b, store, seqcache.Config{BlockSize: 1 << 20})
	if _, err := c.Next(context.Background(), "public.orders_id_seq"); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkNext is the hot path on a warm cache, one goroutine.
func BenchmarkNext(b *testing.B) {
	c := benchCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Next(ctx, "public.orders_id_seq"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMutexCounter is the yardstick for BenchmarkNext: the cheapest
// thread-safe counter there is, measured in the same run.
func BenchmarkMutexCounter(b *testing.B) {
	var mu sync.Mutex
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		mu.Lock()
		n++
		mu.Unlock()
	}
}

func BenchmarkNextParallel(b *testing.B) {
	c := benchCache(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := c.Next(ctx, "public.orders_id_seq"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMutexCounterParallel(b *testing.B) {
	var mu sync.Mutex
	var n int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			mu.Unlock()
		}
	})
}

// BenchmarkNextRefill uses the default block size, so refills and their
// background fetches are part of the cost.
func BenchmarkNextRefill(b *testing.B) {
	c := newCache(b, newStore(b, spec(b, "public.s")), seqcache.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Next(ctx, "public.s"); err != nil {
			b.Fatal(err)
		}
	}
}
