package storeurl

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]URL{
		"dynamodb://t": {Scheme: DynamoDB, Table: "t"},
		"memory://":    {Scheme: Memory},
		Default:        {Scheme: DynamoDB, Table: "seqshim_sequences"}, // dynamo.DefaultTable
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, err := Parse(got.String()); err != nil || again != want {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v", in, got.String(), again, err)
		}
	}
	for _, in := range []string{"", "redis://x", "dynamodb://", "dynamodb://t/x", "dynamodb:t", "memory:///x", "%zz", "seqshim_sequences"} {
		if u, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, u)
		}
	}
	if _, err := Parse("redis://x"); err == nil || err.Error() != `unsupported store "redis://x"` {
		t.Errorf("Parse(redis://x): %v", err)
	}
}

// TestOpenMemory: each Open of memory:// is a store of its own.
func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	u, err := Parse("memory://")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(ctx, u, Options{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, seqcache.Spec{Name: "public.s", Start: 1, Increment: 1, MinValue: 1, MaxValue: 10, Cache: 1}); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Get(ctx, "public.s"); err != nil || s.Next != 1 {
		t.Errorf("a.Get = %+v, %v", s, err)
	}
	if _, err := b.Get(ctx, "public.s"); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Errorf("b.Get = %v, want ErrUnknownSequence: memory stores are not shared", err)
	}
}

func TestOpenUnknown(t *testing.T) {
	if s, err := Open(context.Background(), URL{Scheme: "redis", Table: "x"}, Options{}); err == nil || !strings.Contains(err.Error(), `"redis://x"`) {
		t.Errorf("Open(redis) = %v, %v", s, err)
	}
}

func TestParseServers(t *testing.T) {
	const raw = "seqshim://a:7070,b:7070?ca=/ca.pem&fallback=dynamodb://t"
	u, err := Parse(raw)
	if err != nil || u != (URL{Scheme: Seqshim, Servers: raw}) || u.String() != raw {
		t.Fatalf("Parse(%q) = %+v, %v", raw, u, err)
	}
	for _, in := range []string{"seqshim://", "seqshim://a", "seqshim://a:1?x=1", "seqshim://a:1?fallback=redis://x", "seqshim://a:1?fallback=seqshim://b:2"} {
		if u, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, u)
		}
	}
}

// TestOpenServers: a seqshim:// store reaches a server, and its fallback
// is opened with the same options.
func TestOpenServers(t *testing.T) {
	ctx := context.Background()
	mem := seqcache.NewMemoryStore()
	srv, err := server.New(func(context.Context, string) (seqcache.Store, error) { return mem, nil }, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop(ctx)
	u, err := Parse("seqshim://" + lis.Addr().String() + "?fallback=memory://")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, u, Options{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.(io.Closer).Close()
	spec, _ := seqcache.Define("public.s")
	if err := st.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Get(ctx, "public.s"); err != nil {
		t.Fatalf("the sequence did not reach the server's store: %v", err)
	}
}
