package remote_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server"
	"github.com/seqshim/seqshim/server/remote"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serve runs a server passing calls to st, on a loopback port.
func serve(t *testing.T, st seqcache.Store) string {
	t.Helper()
	s, err := server.New(func(context.Context, string) (seqcache.Store, error) { return st, nil }, server.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(lis)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
	return lis.Addr().String()
}

func dial(t *testing.T, url string) *remote.Store {
	t.Helper()
	c, err := remote.Dial(url, remote.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func define(t *testing.T, s seqcache.Store, name string) {
	t.Helper()
	spec, _ := seqcache.Define(name)
	if err := s.Create(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
}

// TestSilentServer: a server that accepts connections and never answers
// (as a stopped process does) is tried once, then avoided.
func TestSilentServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // held open, never answered
		}
	}()
	mem := seqcache.NewMemoryStore()
	good := serve(t, mem)
	c := dial(t, "seqshim://"+lis.Addr().String()+","+good+"?attempt_timeout=200ms")
	remote.PinFirst(c) // start on the silent one
	define(t, mem, "public.s")
	for i := range 20 {
		b, err := c.Reserve(t.Context(), "public.s", 1)
		if err != nil || b.First != int64(i+1) {
			t.Fatalf("reserve %d: %+v, %v", i, b, err)
		}
	}
	if st := c.Stats(); st.Failovers != 1 || st.Attempts != 21 {
		t.Fatalf("%+v; want the silent server tried once, then avoided", st)
	}
}
