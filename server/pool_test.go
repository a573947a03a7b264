package server

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/internal/wire"
	pb "github.com/seqshim/seqshim/server/seqshimpb"
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
		p.put("d", blk(int64(i*20), 10)) // apart: a block each
	}
	if n := p.forget("d"); n != maxPooled*10 {
		t.Fatalf("forget dropped %d, want %d", n, maxPooled*10)
	}
	p.put("m", blk(1, 10))
	p.put("m", blk(11, 5)) // right after: merged
	if bs := p.blocks["m"]; len(bs) != 1 || bs[0] != blk(1, 15) {
		t.Fatalf("adjacent blocks pooled as %+v, want one block 1..15", bs)
	}
}

// TestClientsMovingKeepIncreasing: clients that move between two servers
// whose caches stand far apart, sending their last block as the client
// store does, get increasing values, and the values drawn past by one
// server are pooled for the others: nothing lost, nothing twice.
func TestClientsMovingKeepIncreasing(t *testing.T) {
	be := newMemBackend()
	cfg := seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1, Logger: quiet}
	var rpcs []pb.SequencesClient
	var servers []*running
	for range 2 {
		srv := serve(t, be.open, Options{Cache: &cfg})
		conn, err := grpc.NewClient("passthrough:///"+srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		rpcs = append(rpcs, pb.NewSequencesClient(conn))
		servers = append(servers, srv)
	}
	define(t, be.store(""), "public.s")
	seen := map[int64]bool{}
	last := make([]*pb.Block, 2) // per client
	draw := func(client, server int) {
		resp, err := rpcs[server].Reserve(t.Context(), &pb.ReserveRequest{Name: "public.s", Count: 10, After: last[client]})
		if err != nil {
			t.Fatal(err)
		}
		blk := wire.DecodeBlock(resp)
		if last[client] != nil && blk.First <= wire.DecodeBlock(last[client]).Last() {
			t.Fatalf("client %d: block %+v after %+v", client, blk, last[client])
		}
		last[client] = resp
		for i := range blk.Count {
			if seen[blk.Value(i)] {
				t.Fatalf("value %d twice", blk.Value(i))
			}
			seen[blk.Value(i)] = true
		}
	}
	draw(0, 0) // server 0: 1..10 of 1..1000
	draw(1, 1) // server 1: 1001..1010
	for i := range 200 {
		// Client 0 moves to server 1 and back, client 1 the other way,
		// every few calls.
		s := (i / 7) % 2
		draw(0, s)
		draw(1, 1-s)
	}
	sq, _ := be.store("").Get(t.Context(), "public.s")
	var pooled int64
	for _, srv := range servers {
		for _, sp := range srv.spaces {
			sp.pool.mu.Lock()
			for _, bl := range sp.pool.blocks["public.s"] {
				pooled += bl.Count
			}
			sp.pool.mu.Unlock()
		}
	}
	var dropped float64
	for _, srv := range servers {
		dropped += counterValue(t, srv.metrics.dropped)
	}
	t.Logf("%d values handed out, store at %d, %d in the pools, %v dropped from them", len(seen), sq.Next, pooled, dropped)
	// The two caches hold a current and a next block each.
	if int64(len(seen))+pooled+int64(dropped)+4000 < sq.Next-1 {
		t.Fatalf("%d values handed out, %d pooled and %v dropped, of %d reserved: more than the two caches' blocks lost", len(seen), pooled, dropped, sq.Next-1)
	}
}
