package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/credentials"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server"
)

// serveConfig is what `seqshim serve` runs with; every field has a flag
// and an environment variable.
type serveConfig struct {
	listen, metrics, store, journal      string
	tlsCert, tlsKey, clientCA, tokenFile string
	logLevel, logFormat                  string
	createTable                          bool
	blockSize, maxBlockSize, maxClient   int64
	blockLifetime, outageCover           time.Duration
	stopTimeout                          time.Duration
}

// envFlags registers flags whose defaults come from environment variables,
// naming the variable in the usage text. Bad values in the environment are
// collected in err.
type envFlags struct {
	fs  *flag.FlagSet
	err error
}

// env returns the variable of flag name, the usage text naming it, and
// its value when set.
func (e *envFlags) env(name, usage string) (key, text, value string, set bool) {
	key = "SEQSHIM_SERVE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	value, set = os.LookupEnv(key)
	return key, fmt.Sprintf("%s (env %s)", usage, key), value, set
}

func (e *envFlags) str(p *string, name, def, usage string) {
	_, usage, v, ok := e.env(name, usage)
	if ok {
		def = v
	}
	e.fs.StringVar(p, name, def, usage)
}

func (e *envFlags) parsed(name, def, usage string, parse func(string) error) (string, string) {
	key, usage, v, ok := e.env(name, usage)
	if ok {
		if parse(v) != nil {
			e.err = errors.Join(e.err, fmt.Errorf("%w: %s=%q is not valid for -%s", errUsage, key, v, name))
		} else {
			def = v
		}
	}
	return def, usage
}

func (e *envFlags) int64(p *int64, name string, def int64, usage string) {
	d, usage := e.parsed(name, strconv.FormatInt(def, 10), usage, func(s string) error { _, err := strconv.ParseInt(s, 10, 64); return err })
	v, _ := strconv.ParseInt(d, 10, 64)
	e.fs.Int64Var(p, name, v, usage)
}

func (e *envFlags) bool(p *bool, name string, usage string) {
	d, usage := e.parsed(name, "false", usage, func(s string) error { _, err := strconv.ParseBool(s); return err })
	v, _ := strconv.ParseBool(d)
	e.fs.BoolVar(p, name, v, usage)
}

func (e *envFlags) duration(p *time.Duration, name string, def time.Duration, usage string) {
	d, usage := e.parsed(name, def.String(), usage, func(s string) error { _, err := time.ParseDuration(s); return err })
	v, _ := time.ParseDuration(d)
	e.fs.DurationVar(p, name, v, usage)
}

func serveFlags(stderr io.Writer) (*flag.FlagSet, *serveConfig, error) {
	fs := newFlags("serve", stderr)
	c := &serveConfig{}
	cache := server.DefaultCacheConfig()
	e := &envFlags{fs: fs}
	e.str(&c.listen, "listen", ":7070", "gRPC address")
	e.str(&c.metrics, "metrics-listen", ":9090", "Prometheus metrics address (/metrics); empty: none")
	e.str(&c.store, "store", "dynamodb://"+dynamo.DefaultTable, "the store the server reserves from: dynamodb://TABLE (memory:// for tests)")
	e.bool(&c.createTable, "create-table", "create the DynamoDB table if absent")
	e.str(&c.journal, "journal", "", "bbolt file recording the blocks held, so that a restart after a crash continues inside them; empty: none")
	e.int64(&c.blockSize, "block-size", cache.BlockSize, "values per DynamoDB reservation (a sequence's CACHE, when larger than 1, wins)")
	e.int64(&c.maxBlockSize, "max-block-size", cache.MaxBlockSize, "largest DynamoDB reservation a hot sequence grows to")
	e.duration(&c.blockLifetime, "block-lifetime", cache.BlockLifetime, "how long a block should last at a sequence's rate")
	e.duration(&c.outageCover, "outage-cover", cache.OutageCover, "how long the server keeps serving at the observed rate while DynamoDB cannot be reached; negative: none")
	e.int64(&c.maxClient, "max-client-block", server.DefaultMaxBlock, "most values one client reservation gets")
	e.str(&c.tlsCert, "tls-cert", "", "PEM server certificate; with -tls-key, serve TLS")
	e.str(&c.tlsKey, "tls-key", "", "PEM server key")
	e.str(&c.clientCA, "tls-client-ca", "", "PEM CA that client certificates must be signed by (mutual TLS)")
	e.str(&c.tokenFile, "tokens", "", "bearer token file: lines 'TOKEN [ns1,ns2]' (- is the empty namespace, * or nothing any); SEQSHIM_SERVE_TOKEN adds one token for every namespace")
	e.duration(&c.stopTimeout, "stop-timeout", 10*time.Second, "on SIGTERM, how long calls in flight may take before they are cut")
	e.str(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	e.str(&c.logFormat, "log-format", "text", "text or json")
	return fs, c, e.err
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, err := serveFlags(stderr)
	if err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := serveLogger(c, stderr)
	if err != nil {
		return err
	}
	opts, err := c.options(log)
	if err != nil {
		return err
	}
	backend, err := c.backend(ctx)
	if err != nil {
		return err
	}
	srv, err := server.New(backend, opts)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	// Tests and scripts read the addresses from the first lines of stdout.
	fmt.Fprintf(stdout, "listening %s\n", lis.Addr())
	var wg sync.WaitGroup
	var metrics *http.Server
	if c.metrics != "" {
		mlis, err := net.Listen("tcp", c.metrics)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "metrics %s\n", mlis.Addr())
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(srv.Registry(), promhttp.HandlerOpts{}))
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		wg.Go(func() { _ = metrics.Serve(mlis) })
	}
	log.Info("seqshim serve: started", "listen", lis.Addr().String(), "store", c.store, "journal", c.journal,
		"tls", opts.TLS != nil, "tokens", opts.Tokens != nil)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("seqshim serve: stopping")
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.stopTimeout)
	defer cancel()
	err = errors.Join(err, srv.Stop(sctx))
	if metrics != nil {
		err = errors.Join(err, metrics.Shutdown(sctx))
	}
	wg.Wait()
	log.Info("seqshim serve: stopped", "err", err)
	return err
}

func serveLogger(c *serveConfig, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("%w: -log-level %q", errUsage, c.logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, hopts)), nil
	}
	return nil, fmt.Errorf("%w: -log-format %q: want text or json", errUsage, c.logFormat)
}

// options turns the flags into server options.
func (c *serveConfig) options(log *slog.Logger) (server.Options, error) {
	cache := server.DefaultCacheConfig()
	cache.BlockSize, cache.MaxBlockSize = c.blockSize, c.maxBlockSize
	cache.BlockLifetime, cache.OutageCover = c.blockLifetime, c.outageCover
	cache.Logger = log
	opts := server.Options{Cache: &cache, MaxBlock: c.maxClient, Journal: c.journal, Logger: log}
	if c.tokenFile != "" {
		t, err := server.LoadTokens(c.tokenFile)
		if err != nil {
			return opts, err
		}
		opts.Tokens = t
	}
	if tok := os.Getenv("SEQSHIM_SERVE_TOKEN"); tok != "" {
		if opts.Tokens == nil {
			opts.Tokens = &server.Tokens{}
		}
		opts.Tokens.Add(tok)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return opts, fmt.Errorf("%w: -tls-cert and -tls-key go together", errUsage)
	}
	if c.tlsCert != "" {
		cfg, err := server.ServerTLS(c.tlsCert, c.tlsKey, c.clientCA)
		if err != nil {
			return opts, err
		}
		opts.TLS = credentials.NewTLS(cfg)
	} else if c.clientCA != "" {
		return opts, fmt.Errorf("%w: -tls-client-ca needs -tls-cert and -tls-key", errUsage)
	}
	return opts, nil
}

// backend opens one store per namespace.
func (c *serveConfig) backend(ctx context.Context) (server.Backend, error) {
	u, err := url.Parse(c.store)
	if err != nil {
		return nil, fmt.Errorf("%w: -store %q: %v", errUsage, c.store, err)
	}
	switch {
	case u.Scheme == "memory":
		var mu sync.Mutex
		stores := map[string]*seqcache.MemoryStore{}
		return func(_ context.Context, ns string) (seqcache.Store, error) {
			mu.Lock()
			defer mu.Unlock()
			if stores[ns] == nil {
				stores[ns] = seqcache.NewMemoryStore()
			}
			return stores[ns], nil
		}, nil
	case u.Scheme == "dynamodb" && u.Host != "":
		if c.createTable {
			if _, err := dynamo.Open(ctx, dynamo.Options{Table: u.Host, CreateTable: true}); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context, ns string) (seqcache.Store, error) {
			return dynamo.Open(ctx, dynamo.Options{Table: u.Host, Namespace: ns})
		}, nil
	}
	return nil, fmt.Errorf("%w: -store %q: want dynamodb://TABLE or memory://", errUsage, c.store)
}
