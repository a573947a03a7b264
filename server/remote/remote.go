package remote

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/internal/wire"
	pb "github.com/seqshim/seqshim/server/seqshimpb"
)

// DefaultAttemptTimeout is how long a server may take to answer one
// attempt before the client marks it bad and tries another.
const DefaultAttemptTimeout = time.Second

// DefaultRetryFor is how long a call without fallback tries the servers
// again when none answers: long enough for a server to restart.
const DefaultRetryFor = 5 * time.Second

// writeTimeout bounds the calls that are not retried (Create, SetValue,
// Drop, GiveBack): they wait for DynamoDB behind the server.
const writeTimeout = 10 * time.Second

// probeEvery is how often a bad server is probed for health.
const probeEvery = 250 * time.Millisecond

// Options configure a Store. Fields left zero take the URL's values.
type Options struct {
	// Namespace is sent with every call: the server's store for it is the
	// DynamoDB store with that namespace.
	Namespace string
	// Token overrides the URL's token source.
	Token string
	// TLS overrides the URL's TLS parameters.
	TLS *tls.Config
	// Fallback, when set, is the store reserved from directly when no
	// server answers: normally the servers' own DynamoDB table, in the
	// same namespace. Its reservations are conditional writes like the
	// servers', so values stay unique.
	Fallback seqcache.Store
	// AttemptTimeout overrides the URL's attempt_timeout.
	AttemptTimeout time.Duration
	// RetryFor overrides the URL's retry_for: how long Reserve, Get and
	// List try the servers again when none answers and there is no
	// fallback.
	RetryFor time.Duration
	// Logger receives failovers; default slog.Default().
	Logger *slog.Logger
}

// Stats counts what a Store did.
type Stats struct {
	Attempts  int64 // calls sent to a server
	Failovers int64 // attempts that failed on a server that did not answer
	Fallbacks int64 // calls answered by the fallback store
}

// Store is a seqcache.Store whose calls go to seqshim servers: to one
// server picked at random among the healthy ones, kept while it answers
// (a client that switched server at every call would get values from
// several servers' blocks in turn, not increasing); a server that does
// not answer an attempt within the attempt timeout is marked bad, its
// connection closed and probed until it answers again, and the call is
// retried on another server (Reserve, Get and List; the writes are sent
// once, since a retry after a lost reply could apply a setval twice).
// When no server answers, the Fallback store, if any, answers.
//
// Uniqueness does not depend on the servers: every block comes from a
// conditional reservation in DynamoDB, by a server's cache or by the
// fallback. A retried Reserve whose first reply was lost costs a gap.
type Store struct {
	ns       string
	eps      []*endpoint
	fallback seqcache.Store
	attempt  time.Duration
	retryFor time.Duration
	log      *slog.Logger
	dial     []grpc.DialOption

	ctx    context.Context // cancelled by Close: ends the probes
	cancel context.CancelFunc
	probes sync.WaitGroup

	current atomic.Pointer[endpoint] // the server calls go to while it answers

	mu       sync.Mutex
	fbBlocks map[string]seqcache.Block // the last block the fallback reserved, per sequence
	last     map[string]seqcache.Block // the last block reserved, per sequence

	attempts, failovers, fallbacks atomic.Int64
}

var _ seqcache.Store = (*Store)(nil)

type endpoint struct {
	addr string
	bad  atomic.Bool

	mu   sync.Mutex
	conn *grpc.ClientConn
}

// Dial returns a Store for a seqshim:// URL (see Target). It does not
// wait for the servers: connections are made on first use.
func Dial(rawURL string, opts Options) (*Store, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return DialTarget(t, opts)
}

// DialTarget is Dial with a parsed URL.
func DialTarget(t Target, opts Options) (*Store, error) {
	if len(t.Addrs) == 0 {
		return nil, errors.New("seqshim: no server address")
	}
	if t.Fallback != "" && opts.Fallback == nil {
		return nil, fmt.Errorf("seqshim: the URL names fallback %q but no fallback store was opened", t.Fallback)
	}
	var err error
	if opts.Token == "" {
		if opts.Token, err = t.Token(); err != nil {
			return nil, err
		}
	}
	if opts.TLS == nil {
		if opts.TLS, err = t.TLSConfig(); err != nil {
			return nil, err
		}
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = t.AttemptTimeout
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = t.RetryFor
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = DefaultRetryFor
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// gRPC raises a client's ping interval to 10 s at least; the
		// attempt timeout is what catches a silent server sooner.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: opts.AttemptTimeout, PermitWithoutStream: true}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: opts.AttemptTimeout,
		}),
	}
	if opts.Token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(tokenCreds{header: map[string]string{"authorization": "Bearer " + opts.Token}}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Store{ns: opts.Namespace, fallback: opts.Fallback, attempt: opts.AttemptTimeout, retryFor: opts.RetryFor, log: opts.Logger,
		dial: dial, ctx: ctx, cancel: cancel, fbBlocks: map[string]seqcache.Block{}, last: map[string]seqcache.Block{}}
	for _, addr := range t.Addrs {
		ep := &endpoint{addr: addr}
		if ep.conn, err = grpc.NewClient("passthrough:///"+addr, dial...); err != nil {
			c.Close()
			return nil, fmt.Errorf("seqshim: server %s: %w", addr, err)
		}
		c.eps = append(c.eps, ep)
	}
	return c, nil
}

// Close closes the connections. The fallback store is the caller's.
func (c *Store) Close() error {
	c.cancel()
	c.probes.Wait()
	var errs []error
	for _, ep := range c.eps {
		ep.mu.Lock()
		errs = append(errs, ep.conn.Close())
		ep.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Stats returns the client's counters.
func (c *Store) Stats() Stats {
	return Stats{Attempts: c.attempts.Load(), Failovers: c.failovers.Load(), Fallbacks: c.fallbacks.Load()}
}

func (ep *endpoint) rpc() pb.SequencesClient {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return pb.NewSequencesClient(ep.conn)
}

func (ep *endpoint) usable() bool {
	if ep.bad.Load() {
		return false
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.conn.GetState() != connectivity.TransientFailure
}

// order returns the servers to try: the current one if usable, the other
// usable ones in random order, then (when every attempt must be made) the
// others, also shuffled.
func (c *Store) order(all bool) []*endpoint {
	var good, bad []*endpoint
	cur := c.current.Load()
	for _, ep := range c.eps {
		if ep.usable() {
			good = append(good, ep)
		} else {
			bad = append(bad, ep)
		}
	}
	rand.Shuffle(len(good), func(i, j int) { good[i], good[j] = good[j], good[i] })
	if i := slices.Index(good, cur); i > 0 {
		good[0], good[i] = good[i], good[0]
	}
	if !all {
		return good
	}
	rand.Shuffle(len(bad), func(i, j int) { bad[i], bad[j] = bad[j], bad[i] })
	return append(good, bad...)
}

// markBad closes a server's connection, opens a fresh one and probes it
// until the server reports SERVING.
func (c *Store) markBad(ep *endpoint, err error) {
	if !ep.bad.CompareAndSwap(false, true) {
		return
	}
	c.log.Warn("seqshim: server not answering; trying another", "server", ep.addr, "err", err)
	ep.mu.Lock()
	old := ep.conn
	if conn, nerr := grpc.NewClient("passthrough:///"+ep.addr, c.dial...); nerr == nil {
		ep.conn = conn
		_ = old.Close()
	}
	ep.mu.Unlock()
	c.probes.Go(func() { c.probe(ep) })
}

func (c *Store) probe(ep *endpoint) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ep.mu.Lock()
		h := healthpb.NewHealthClient(ep.conn)
		ep.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.ctx, c.attempt)
		r, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: wire.ServiceName})
		cancel()
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			ep.bad.Store(false)
			c.log.Info("seqshim: server answering again", "server", ep.addr)
			return
		}
	}
}

// call sends one call. retry makes it try every server in turn (for the
// calls a lost reply cannot make harmful), then the fallback or, without
// one, every server again until RetryFor has passed, so that a client
// rides out a server's restart; without retry the call is sent to one
// server only, or to the fallback when no server is usable.
func call[T any](ctx context.Context, c *Store, name string, retry bool,
	send func(context.Context, pb.SequencesClient) (T, error), fallback func(context.Context) (T, error)) (T, error) {
	var zero T
	giveUp := time.Now().Add(c.retryFor)
	for {
		// With a fallback, servers known bad are not tried: the fallback
		// is sooner than a server that does not answer.
		eps := c.order(c.fallback == nil)
		if !retry && len(eps) > 1 {
			eps = eps[:1]
		}
		var last error
		for _, ep := range eps {
			timeout := c.attempt
			if !retry {
				timeout = max(writeTimeout, c.attempt)
			}
			actx, cancel := context.WithTimeout(ctx, timeout)
			c.attempts.Add(1)
			r, err := send(actx, ep.rpc())
			cancel()
			if err == nil {
				c.current.Store(ep)
				return r, nil
			}
			se := wire.ErrorOf(err)
			if se != nil && se.Code != seqcache.CodeConnectionFailure {
				return zero, se // an answer: the same from any server
			}
			if ctx.Err() != nil {
				return zero, ctxError(name, ctx.Err())
			}
			last = fmt.Errorf("server %s: %w", ep.addr, err)
			if se == nil { // no answer at all, not a store failure behind the server
				c.failovers.Add(1)
				c.markBad(ep, err)
			}
			if !retry {
				break
			}
		}
		if c.fallback != nil && (retry || len(eps) == 0) {
			c.fallbacks.Add(1)
			return fallback(ctx)
		}
		if last == nil {
			last = errors.New("no server")
		}
		if !retry || time.Now().After(giveUp) {
			return zero, seqcache.Unavailable(name, last)
		}
		select {
		case <-ctx.Done():
			return zero, ctxError(name, ctx.Err())
		case <-time.After(retryPause):
		}
	}
}

// retryPause is the wait between two rounds of attempts on every server.
const retryPause = 100 * time.Millisecond

func ctxError(name string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &seqcache.Error{Code: seqcache.CodeQueryCanceled, Sequence: name,
			Message: "canceling statement due to user request", Err: err}
	}
	return seqcache.Unavailable(name, err)
}

// Reserve implements seqcache.Store. It sends the sequence's last block,
// so that a server behind it skips forward: values keep increasing in the
// process when it moves between servers.
func (c *Store) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	c.mu.Lock()
	last, hasLast := c.last[name]
	c.mu.Unlock()
	var after *pb.Block
	if hasLast {
		after = wire.EncodeBlock(last)
	}
	b, err := call(ctx, c, name, true, func(ctx context.Context, r pb.SequencesClient) (seqcache.Block, error) {
		b, err := r.Reserve(ctx, &pb.ReserveRequest{Namespace: c.ns, Name: name, Count: n, After: after})
		return wire.DecodeBlock(b), err
	}, func(ctx context.Context) (seqcache.Block, error) {
		b, err := c.fallback.Reserve(ctx, name, n)
		if err == nil {
			c.mu.Lock()
			c.fbBlocks[name] = b
			c.mu.Unlock()
		}
		return b, err
	})
	if err == nil {
		c.mu.Lock()
		if l, ok := c.last[name]; !ok || wire.NotPast(b, l) < b.Count {
			c.last[name] = b
		}
		c.mu.Unlock()
	}
	return b, err
}

// forget drops what the client remembers of a sequence: after setval the
// next values may lawfully be lower.
func (c *Store) forget(name string) {
	c.mu.Lock()
	delete(c.last, name)
	delete(c.fbBlocks, name)
	c.mu.Unlock()
}

// GiveBack implements seqcache.Store: a tail of the fallback's last block
// goes back to the fallback; any other to a server, whose cache refuses it
// (a gap) unless the server passes give-backs to its store.
func (c *Store) GiveBack(ctx context.Context, name string, tail seqcache.Block) (bool, error) {
	if tail.Count <= 0 {
		return false, nil
	}
	c.mu.Lock()
	fb, ok := c.fbBlocks[name]
	c.mu.Unlock()
	var taken bool
	var err error
	if ok && fb.Epoch == tail.Epoch && fb.Contains(tail.First) && fb.Contains(tail.Last()) {
		taken, err = c.fallback.GiveBack(ctx, name, tail)
	} else {
		taken, err = call(ctx, c, name, false, func(ctx context.Context, r pb.SequencesClient) (bool, error) {
			resp, err := r.GiveBack(ctx, &pb.GiveBackRequest{Namespace: c.ns, Name: name, Tail: wire.EncodeBlock(tail)})
			return resp.GetTaken(), err
		}, func(context.Context) (bool, error) { return false, nil })
	}
	if taken {
		c.givenBack(name, tail)
	}
	return taken, err
}

// givenBack shortens the last block of a sequence to end before tail,
// which the store took back: it may hand those values out again.
func (c *Store) givenBack(name string, tail seqcache.Block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.last[name]
	if !ok || l.Epoch != tail.Epoch || !l.Contains(tail.First) {
		return
	}
	if l.Count = wire.StepsTo(l.First, tail.First, l.Increment); l.Count <= 0 {
		delete(c.last, name)
		return
	}
	c.last[name] = l
}

// Get implements seqcache.Store.
func (c *Store) Get(ctx context.Context, name string) (seqcache.Sequence, error) {
	return call(ctx, c, name, true, func(ctx context.Context, r pb.SequencesClient) (seqcache.Sequence, error) {
		sq, err := r.Get(ctx, &pb.NameRequest{Namespace: c.ns, Name: name})
		return wire.DecodeSequence(sq), err
	}, func(ctx context.Context) (seqcache.Sequence, error) { return c.fallback.Get(ctx, name) })
}

// List implements seqcache.Store.
func (c *Store) List(ctx context.Context) ([]seqcache.Sequence, error) {
	return call(ctx, c, "", true, func(ctx context.Context, r pb.SequencesClient) ([]seqcache.Sequence, error) {
		resp, err := r.List(ctx, &pb.ListRequest{Namespace: c.ns})
		if err != nil {
			return nil, err
		}
		out := make([]seqcache.Sequence, len(resp.GetSequences()))
		for i, sq := range resp.GetSequences() {
			out[i] = wire.DecodeSequence(sq)
		}
		return out, nil
	}, func(ctx context.Context) ([]seqcache.Sequence, error) { return c.fallback.List(ctx) })
}

// Create implements seqcache.Store.
func (c *Store) Create(ctx context.Context, spec seqcache.Spec) error {
	_, err := call(ctx, c, spec.Name, false, func(ctx context.Context, r pb.SequencesClient) (*pb.Empty, error) {
		return r.Create(ctx, &pb.CreateRequest{Namespace: c.ns, Spec: wire.EncodeSpec(spec)})
	}, func(ctx context.Context) (*pb.Empty, error) { return nil, c.fallback.Create(ctx, spec) })
	return err
}

// SetValue implements seqcache.Store. The server's cache forgets what it
// held; other servers' caches keep their blocks, as other processes'
// caches do.
func (c *Store) SetValue(ctx context.Context, name string, v int64, called bool) error {
	_, err := call(ctx, c, name, false, func(ctx context.Context, r pb.SequencesClient) (*pb.Empty, error) {
		return r.SetValue(ctx, &pb.SetValueRequest{Namespace: c.ns, Name: name, Value: v, Called: called})
	}, func(ctx context.Context) (*pb.Empty, error) { return nil, c.fallback.SetValue(ctx, name, v, called) })
	c.forget(name)
	return err
}

// Drop implements seqcache.Store.
func (c *Store) Drop(ctx context.Context, name string) error {
	_, err := call(ctx, c, name, false, func(ctx context.Context, r pb.SequencesClient) (*pb.Empty, error) {
		return r.Drop(ctx, &pb.NameRequest{Namespace: c.ns, Name: name})
	}, func(ctx context.Context) (*pb.Empty, error) { return nil, c.fallback.Drop(ctx, name) })
	c.forget(name)
	return err
}

// tokenCreds attaches a bearer token to every call.
type tokenCreds struct {
	header map[string]string
}

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return c.header, nil
}

// RequireTransportSecurity is false so that loopback tests and sidecars can
// run in plaintext; over a network, use TLS.
func (c tokenCreds) RequireTransportSecurity() bool { return false }
