package server

import (
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

func TestPool(t *testing.T) {
	var p pool
	blk := func(first, count int64) seqcache.Block {
		return seqcache.Block{First: first, Count: count, Increment: 1, Epoch: 2}
	}
	p.put("s", blk(10, 10)) // 10..19
	p.put("s", blk(30, 5))  // 30..34
	after := blk(14, 2)     // a client that got up to 15
	got, ok := p.take("s", 3, &after)
	if !ok || got != blk(16, 3) {
		t.Fatalf("take past 15 = %+v, %v; want 16..18", got, ok)
	}
	old := seqcache.Block{First: 100, Count: 1, Increment: 1, Epoch: 3}
	if got, ok := p.take("s", 3, &old); ok {
		t.Fatalf("take past a later epoch = %+v, want nothing", got)
	}
	// What is left: 10..15, 19, 30..34, in order, to a client without a floor.
	var vals []int64
	for {
		b, ok := p.take("s", 100, nil)
		if !ok {
			break
		}
		for i := range b.Count {
			vals = append(vals, b.Value(i))
		}
	}
	want := []int64{10, 11, 12, 13, 14, 15, 19, 30, 31, 32, 33, 34}
	if len(vals) != len(want) {
		t.Fatalf("left %v, want %v", vals, want)
	}
	for i := range want {
		if vals[i] != want[i] {
			t.Fatalf("left %v, want %v", vals, want)
		}
	}
	for i := range maxPooled + 2 {
		p.put("d", blk(int64(i*10), 10))
	}
	if n := p.forget("d"); n != maxPooled*10 {
		t.Fatalf("forget dropped %d, want %d", n, maxPooled*10)
	}
}

// TestClientsMovingKeepIncreasing: clients that move between two servers
// whose caches stand far apart get increasing values, and the values
// drawn past by one are handed to the others: nothing lost, nothing twice.
func TestClientsMovingKeepIncreasing(t *testing.T) {
	be := newMemBackend()
	cfg := seqcache.Config{BlockSize: 1000, Logger: quiet}
	s1 := serve(t, be.open, Options{Cache: &cfg})
	s2 := serve(t, be.open, Options{Cache: &cfg})
	url := "seqshim://" + s1.addr + "," + s2.addr
	a := dial(t, url, DialOptions{})
	b := dial(t, url, DialOptions{})
	define(t, a, "public.s")
	a.current.Store(a.eps[0])
	b.current.Store(b.eps[1])
	seen := map[int64]bool{}
	last := map[*Client]int64{}
	draw := func(c *Client) {
		blk, err := c.Reserve(t.Context(), "public.s", 10)
		if err != nil {
			t.Fatal(err)
		}
		if blk.First <= last[c] {
			t.Fatalf("block %+v after %d", blk, last[c])
		}
		last[c] = blk.Last()
		for i := range blk.Count {
			if seen[blk.Value(i)] {
				t.Fatalf("value %d twice", blk.Value(i))
			}
			seen[blk.Value(i)] = true
		}
	}
	draw(a) // s1: 1..10 of 1..1000
	draw(b) // s2: 1001..1010
	for i := range 200 {
		// a moves to s2 and back, b the other way, every few calls.
		if i%7 == 0 {
			a.current.Store(a.eps[(i/7)%2])
			b.current.Store(b.eps[(i/7+1)%2])
		}
		draw(a)
		draw(b)
	}
	sq, _ := be.store("").Get(t.Context(), "public.s")
	held := int64(0)
	for _, sp := range []*running{s1, s2} {
		for _, space := range sp.spaces {
			for _, bl := range space.pool.blocks["public.s"] {
				held += bl.Count
			}
		}
	}
	t.Logf("%d values handed out, store at %d, %d in the pools", len(seen), sq.Next, held)
	if int64(len(seen))+held+2000 < sq.Next-1 {
		t.Fatalf("%d values handed out and %d pooled, of %d reserved: more than the two caches' blocks lost", len(seen), held, sq.Next-1)
	}
}
