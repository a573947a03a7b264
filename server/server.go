package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/internal/wire"
	pb "github.com/seqshim/seqshim/server/seqshimpb"
)

// ServiceName is the gRPC service, also the name its health is reported under.
const ServiceName = wire.ServiceName

// DefaultMaxBlock caps one client reservation.
const DefaultMaxBlock = 100_000

// Backend opens the store of one namespace ("" for none). The server calls
// it once per namespace, on the namespace's first call.
type Backend func(ctx context.Context, namespace string) (seqcache.Store, error)

// Options configure a Server.
type Options struct {
	// Cache, when set, puts a seqcache.Cache with this configuration in
	// front of each namespace's store: the server tier proper, which
	// reserves large blocks from DynamoDB and hands clients small ones.
	// Nil passes every call straight to the store. See DefaultCacheConfig.
	Cache *seqcache.Config
	// MaxBlock caps the values one client reservation gets; default
	// DefaultMaxBlock.
	MaxBlock int64
	// Journal, when set, is the path of a bbolt file recording the blocks
	// the server holds and how far it handed them out (see package doc).
	Journal string
	// Tokens, when set, is the bearer tokens a call must carry.
	Tokens *Tokens
	// TLS, when set, is the transport security of the gRPC server.
	TLS credentials.TransportCredentials
	// Logger receives refusals and failures; default slog.Default().
	Logger *slog.Logger
}

// DefaultCacheConfig is the cache a server holds over DynamoDB for each
// namespace, the one place to tune it: blocks sized by demand from 10,000
// values to 10 million, each lasting about BlockLifetime, and a long outage
// cover: a server keeps serving its clients for ten minutes of DynamoDB
// outage, while each client process's own cover stays short. The cover is
// what a server crash without journal can lose; with a journal a restart
// continues inside it.
func DefaultCacheConfig() seqcache.Config {
	return seqcache.Config{
		BlockSize:      10_000,
		MaxBlockSize:   10_000_000,
		BlockLifetime:  5 * time.Second,
		OutageCover:    10 * time.Minute,
		AttemptTimeout: time.Second,
		FetchTimeout:   10 * time.Second,
	}
}

// Server answers the Sequences service from the stores of its Backend.
// Make one with New, serve with Serve and stop with Stop.
type Server struct {
	pb.UnimplementedSequencesServer

	backend Backend
	opts    Options
	log     *slog.Logger
	metrics *metrics
	journal *journal
	health  *health.Server
	grpc    *grpc.Server

	mu     sync.Mutex
	spaces map[string]*space
}

// space is what the server holds for one namespace.
type space struct {
	front   seqcache.Store  // what the calls go to: cache, or store
	store   seqcache.Store  // under the cache: the journal's, or the backend's
	cache   *seqcache.Cache // nil without Options.Cache
	journal *journaled      // nil without Options.Journal
	pool    pool
}

// New returns a Server over backend, with the Sequences and health
// services registered on a gRPC server of its own, and opens the journal.
func New(backend Backend, opts Options) (*Server, error) {
	if opts.MaxBlock < 1 {
		opts.MaxBlock = DefaultMaxBlock
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{backend: backend, opts: opts, log: opts.Logger, spaces: make(map[string]*space)}
	s.metrics = newMetrics(s)
	if opts.Journal != "" {
		j, err := openJournal(opts.Journal, s.metrics)
		if err != nil {
			return nil, err
		}
		s.journal = j
		blocks, values := j.pending()
		s.log.Info("seqshim serve: journal opened", "path", opts.Journal, "held_blocks", blocks, "held_values", values)
	}
	sopts := []grpc.ServerOption{
		// Clients ping every 10 s at most (gRPC's floor); allow it.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 10 * time.Second, Timeout: 2 * time.Second}),
		grpc.ChainUnaryInterceptor(s.observe, s.authorize),
		// Stop waits for the handlers, so that none runs when the caches
		// give back and the journal closes.
		grpc.WaitForHandlers(true),
	}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(opts.TLS))
	}
	s.grpc = grpc.NewServer(sopts...)
	pb.RegisterSequencesServer(s.grpc, s)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.health.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	return s, nil
}

// Registry returns the server's Prometheus metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Serve accepts connections on lis until Stop.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// Stop stops the server gracefully: it reports NOT_SERVING, lets the calls
// in flight finish (until ctx is done; then they are cut), gives the
// unused values of its caches back to the store where it safely can, and
// closes the journal.
func (s *Server) Stop(ctx context.Context) error {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
	}
	s.mu.Lock()
	spaces := s.spaces
	s.spaces = map[string]*space{}
	s.mu.Unlock()
	var errs []error
	for ns, sp := range spaces {
		gctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if sp.journal != nil { // newest first: the journal's unserved tails, then the cache's
			if err := sp.journal.giveBackRecovered(gctx); err != nil {
				errs = append(errs, fmt.Errorf("namespace %q: %w", ns, err))
			}
		}
		if sp.cache != nil {
			if err := sp.cache.Close(gctx); err != nil {
				errs = append(errs, fmt.Errorf("namespace %q: %w", ns, err))
			}
		}
		cancel()
	}
	if s.journal != nil {
		errs = append(errs, s.journal.close())
	}
	return errors.Join(errs...)
}

// abort stops serving at once, as a crash would, without giving anything
// back. Tests use it.
func (s *Server) abort() {
	s.grpc.Stop()
	if s.journal != nil {
		_ = s.journal.close()
	}
}

// space returns the namespace's store, opening it on first use.
func (s *Server) space(ctx context.Context, ns string) (*space, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.spaces[ns]; ok {
		return sp, nil
	}
	store, err := s.backend(ctx, ns)
	if err != nil {
		return nil, seqcache.Unavailable("", fmt.Errorf("opening namespace %q: %w", ns, err))
	}
	sp := &space{}
	if s.journal != nil {
		sp.journal = s.journal.store(ns, store)
		store = sp.journal
	}
	sp.front, sp.store = store, store
	if s.opts.Cache != nil {
		cfg := *s.opts.Cache
		if cfg.Logger == nil {
			cfg.Logger = s.log
		}
		sp.cache = seqcache.NewCache(store, cfg)
		sp.front = sp.cache
	}
	s.spaces[ns] = sp
	return sp, nil
}

// storeStats adds up the caches' counters, for the metrics.
func (s *Server) storeStats() seqcache.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st seqcache.Stats
	for _, sp := range s.spaces {
		if sp.cache == nil {
			continue
		}
		c := sp.cache.Stats()
		st.Sequences += c.Sequences
		st.Served += c.Served
		st.Reservations += c.Reservations
		st.Waits += c.Waits
		st.GivenBack += c.GivenBack
		st.Lost += c.Lost
	}
	return st
}

// Reserve implements the service: a block from the namespace's cache,
// past the client's last block, journaled as handed out before it leaves
// the server.
func (s *Server) Reserve(ctx context.Context, req *pb.ReserveRequest) (*pb.Block, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	n := min(max(req.GetCount(), 1), s.opts.MaxBlock)
	var after *seqcache.Block
	if req.GetAfter().GetCount() > 0 {
		a := wire.DecodeBlock(req.GetAfter())
		after = &a
	}
	b, err := s.reserveAfter(ctx, sp, req.GetName(), n, after)
	if err != nil {
		return nil, wire.Status(err)
	}
	if s.journal != nil {
		if err := s.journal.advance(req.GetNamespace(), req.GetName(), b); err != nil {
			// Not recorded as handed out: it must not leave (a gap).
			s.log.Error("seqshim serve: journal write failed; block withheld", "sequence", req.GetName(), "err", err)
			return nil, wire.Status(seqcache.Unavailable(req.GetName(), err))
		}
	}
	s.metrics.handedOut(b.Count)
	return wire.EncodeBlock(b), nil
}

// maxDraws bounds the client-sized blocks a Reserve draws from a cache
// that is behind the client before it reserves from the store instead.
const maxDraws = 2

// reserveAfter reserves up to n values past after (in after's epoch; a
// later epoch is past it). A cache behind after, which happens when a
// client moved here from a server that was ahead, is drawn a little (the
// values drawn go to the sequence's pool, where the clients whose last
// values are lower take them first), then the block is reserved from the
// store itself, which is past every value handed out. So the client's
// values keep increasing, none are lost, and the cache's idea of the
// sequence's rate stays what its clients really draw.
func (s *Server) reserveAfter(ctx context.Context, sp *space, name string, n int64, after *seqcache.Block) (seqcache.Block, error) {
	if b, ok := sp.pool.take(name, n, after); ok {
		return b, nil
	}
	for range maxDraws {
		b, err := sp.front.Reserve(ctx, name, n)
		if err != nil || after == nil {
			return b, err
		}
		k := wire.NotPast(b, *after)
		if k > 0 {
			s.metrics.pooled.Add(float64(k))
			s.metrics.dropped.Add(float64(sp.pool.put(name, head(b, k))))
		}
		if k < b.Count {
			return b.Tail(k), nil
		}
	}
	s.metrics.bypassed.Inc()
	return sp.store.Reserve(ctx, name, n)
}

// GiveBack implements the service. A cache refuses it (the values were
// drawn from its own blocks): a gap, never a value handed out twice.
func (s *Server) GiveBack(ctx context.Context, req *pb.GiveBackRequest) (*pb.GiveBackResponse, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	ok, err := sp.front.GiveBack(ctx, req.GetName(), wire.DecodeBlock(req.GetTail()))
	if err != nil {
		return nil, wire.Status(err)
	}
	return &pb.GiveBackResponse{Taken: ok}, nil
}

// Get implements the service.
func (s *Server) Get(ctx context.Context, req *pb.NameRequest) (*pb.Sequence, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	sq, err := sp.front.Get(ctx, req.GetName())
	if err != nil {
		return nil, wire.Status(err)
	}
	return wire.EncodeSequence(sq), nil
}

// Create implements the service.
func (s *Server) Create(ctx context.Context, req *pb.CreateRequest) (*pb.Empty, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	return &pb.Empty{}, wire.Status(sp.front.Create(ctx, wire.DecodeSpec(req.GetSpec())))
}

// SetValue implements the service: setval in the store; the server's
// cache then forgets what it held of the sequence.
func (s *Server) SetValue(ctx context.Context, req *pb.SetValueRequest) (*pb.Empty, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	err = sp.front.SetValue(ctx, req.GetName(), req.GetValue(), req.GetCalled())
	s.metrics.dropped.Add(float64(sp.pool.forget(req.GetName())))
	return &pb.Empty{}, wire.Status(err)
}

// List implements the service.
func (s *Server) List(ctx context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	seqs, err := sp.front.List(ctx)
	if err != nil {
		return nil, wire.Status(err)
	}
	out := &pb.ListResponse{Sequences: make([]*pb.Sequence, len(seqs))}
	for i, sq := range seqs {
		out.Sequences[i] = wire.EncodeSequence(sq)
	}
	return out, nil
}

// Drop implements the service.
func (s *Server) Drop(ctx context.Context, req *pb.NameRequest) (*pb.Empty, error) {
	sp, err := s.space(ctx, req.GetNamespace())
	if err != nil {
		return nil, wire.Status(err)
	}
	err = sp.front.Drop(ctx, req.GetName())
	s.metrics.dropped.Add(float64(sp.pool.forget(req.GetName())))
	return &pb.Empty{}, wire.Status(err)
}
