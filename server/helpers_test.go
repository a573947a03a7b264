package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// memBackend serves every namespace from its own MemoryStore, shared by
// the servers built on it (as a DynamoDB table is).
type memBackend struct {
	mu     sync.Mutex
	stores map[string]*seqcache.MemoryStore
}

func newMemBackend() *memBackend { return &memBackend{stores: map[string]*seqcache.MemoryStore{}} }

func (m *memBackend) open(_ context.Context, ns string) (seqcache.Store, error) {
	return m.store(ns), nil
}

func (m *memBackend) store(ns string) *seqcache.MemoryStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.stores[ns]
	if !ok {
		s = seqcache.NewMemoryStore()
		m.stores[ns] = s
	}
	return s
}

type running struct {
	*Server
	addr string
}

// serve starts a server on a loopback port and stops it (gracefully) at
// the end of the test unless the test stopped it.
func serve(t testing.TB, backend Backend, opts Options) *running {
	t.Helper()
	return serveOn(t, "127.0.0.1:0", backend, opts)
}

func serveOn(t testing.TB, addr string, backend Backend, opts Options) *running {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := New(backend, opts)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return &running{Server: s, addr: lis.Addr().String()}
}

func dial(t testing.TB, url string, opts remote.Options) *remote.Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	c, err := remote.Dial(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func define(t testing.TB, s seqcache.Store, name string, opts ...seqcache.Option) {
	t.Helper()
	spec, err := seqcache.Define(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
}
