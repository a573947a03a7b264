package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/seqshim/seqshim/internal/storeurl"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// storeFlags are the flags every store command takes, with the driver's
// environment variables as defaults.
type storeFlags struct {
	store, namespace, schema string
	json                     bool
}

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	f := &storeFlags{}
	fs.StringVar(&f.store, "store", envOr("SEQSHIM_STORE", storeurl.Default), "sequence store: dynamodb://TABLE (env SEQSHIM_STORE)")
	fs.StringVar(&f.namespace, "namespace", os.Getenv("SEQSHIM_NAMESPACE"), "key prefix in the store (env SEQSHIM_NAMESPACE)")
	fs.StringVar(&f.schema, "schema", envOr("SEQSHIM_SCHEMA", rewrite.DefaultSchema), "schema of unqualified names (env SEQSHIM_SCHEMA)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	return f
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// open returns the store the flags name. The commands act on a store
// other processes share, so memory:// is refused.
func (f *storeFlags) open(ctx context.Context) (seqcache.Store, error) {
	u, err := storeurl.Parse(f.store)
	if err != nil || u.Scheme != storeurl.DynamoDB {
		return nil, fmt.Errorf("%w: -store %q: want dynamodb://TABLE", errUsage, f.store)
	}
	return storeurl.Open(ctx, u, storeurl.Options{Namespace: f.namespace})
}

// openFor resolves a sequence name and opens the store.
func (f *storeFlags) openFor(ctx context.Context, name string) (string, seqcache.Store, error) {
	key, err := f.key(name)
	if err != nil {
		return "", nil, err
	}
	s, err := f.open(ctx)
	return key, s, err
}

// key resolves a sequence name as regclass does.
func (f *storeFlags) key(name string) (string, error) {
	n, err := rewrite.ParseName(name, f.schema)
	if err != nil {
		return "", fmt.Errorf("%w: bad sequence name %q: %v", errUsage, name, err)
	}
	return n.Key(), nil
}

func runTable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: seqshim table create [-store dynamodb://TABLE]")
		return fmt.Errorf("%w: want 'table create'", errUsage)
	}
	fs := newFlags("table create", stderr)
	sf := addStoreFlags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	s, err := sf.open(ctx)
	if err != nil {
		return err
	}
	t, ok := s.(tableStore)
	if !ok {
		return fmt.Errorf("%w: -store %q has no table to create", errUsage, sf.store)
	}
	if err := t.EnsureTable(ctx); err != nil {
		return err
	}
	return sf.print(stdout, map[string]string{"table": t.Table(), "status": "ACTIVE"},
		func(w io.Writer) { fmt.Fprintf(w, "table %s is ready\n", t.Table()) })
}

// tableStore is a store kept in a table that table create makes:
// *dynamo.Store.
type tableStore interface {
	EnsureTable(ctx context.Context) error
	Table() string
}

func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("create NAME", stderr)
	sf := addStoreFlags(fs)
	var opts []seqcache.Option
	intFlag := func(name, usage string, opt func(int64) seqcache.Option) {
		fs.Func(name, usage, func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer: %q", v)
			}
			opts = append(opts, opt(n))
			return nil
		})
	}
	intFlag("start", "START WITH", seqcache.Start)
	intFlag("increment", "INCREMENT BY (negative: descending)", seqcache.Increment)
	intFlag("minvalue", "MINVALUE", seqcache.MinValue)
	intFlag("maxvalue", "MAXVALUE", seqcache.MaxValue)
	intFlag("cache", "CACHE: values a client reserves at once when > 1", seqcache.CacheSize)
	cycle := fs.Bool("cycle", false, "CYCLE")
	ordered := fs.Bool("ordered", false, "every nextval goes to the store: globally ordered, slower")
	name, err := parseWithNames(fs, args, "NAME")
	if err != nil {
		return err
	}
	if *cycle {
		opts = append(opts, seqcache.Cycle())
	}
	if *ordered {
		opts = append(opts, seqcache.Ordered())
	}
	key, err := sf.key(name[0])
	if err != nil {
		return err
	}
	spec, err := seqcache.Define(key, opts...)
	if err != nil {
		return err
	}
	s, err := sf.open(ctx)
	if err != nil {
		return err
	}
	if err := s.Create(ctx, spec); err != nil {
		return sf.explain(err)
	}
	return sf.printSeqs(stdout, []seqcache.Sequence{{Spec: spec, Next: spec.Start}})
}

func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("get NAME", stderr)
	sf := addStoreFlags(fs)
	name, err := parseWithNames(fs, args, "NAME")
	if err != nil {
		return err
	}
	key, s, err := sf.openFor(ctx, name[0])
	if err != nil {
		return err
	}
	sq, err := s.Get(ctx, key)
	if err != nil {
		return sf.explain(err)
	}
	return sf.printSeqs(stdout, []seqcache.Sequence{sq})
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	sf := addStoreFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := sf.open(ctx)
	if err != nil {
		return err
	}
	seqs, err := s.List(ctx)
	if err != nil {
		return sf.explain(err)
	}
	return sf.printSeqs(stdout, seqs)
}

func runSetval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("setval NAME VALUE", stderr)
	sf := addStoreFlags(fs)
	called := fs.Bool("is-called", true, "false: the next nextval returns VALUE itself")
	pos, err := parseWithNames(fs, args, "NAME", "VALUE")
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(pos[1], 10, 64)
	if err != nil {
		return fmt.Errorf("%w: VALUE %q is not an integer between %d and %d", errUsage, pos[1], int64(math.MinInt64), int64(math.MaxInt64))
	}
	key, s, err := sf.openFor(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := s.SetValue(ctx, key, v, *called); err != nil {
		return sf.explain(err)
	}
	sq, err := s.Get(ctx, key)
	if err != nil {
		return sf.explain(err)
	}
	return sf.printSeqs(stdout, []seqcache.Sequence{sq})
}

func runDrop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("drop NAME", stderr)
	sf := addStoreFlags(fs)
	name, err := parseWithNames(fs, args, "NAME")
	if err != nil {
		return err
	}
	key, s, err := sf.openFor(ctx, name[0])
	if err != nil {
		return err
	}
	if err := s.Drop(ctx, key); err != nil {
		return sf.explain(err)
	}
	return sf.print(stdout, map[string]string{"dropped": key},
		func(w io.Writer) { fmt.Fprintf(w, "dropped %s\n", key) })
}

// parseWithNames parses flags, which may come before or after the
// positional arguments, and checks their number.
func parseWithNames(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(names) {
		return nil, fmt.Errorf("%w: want %v, got %d argument(s)", errUsage, names, len(pos))
	}
	return pos, nil
}

// jsonSeq is a sequence as --json prints it.
type jsonSeq struct {
	Name      string `json:"name"`
	Start     int64  `json:"start"`
	Increment int64  `json:"increment"`
	MinValue  int64  `json:"minvalue"`
	MaxValue  int64  `json:"maxvalue"`
	Cycle     bool   `json:"cycle"`
	Cache     int64  `json:"cache"`
	Ordered   bool   `json:"ordered"`
	Next      *int64 `json:"next"` // null when exhausted
}

func (f *storeFlags) printSeqs(w io.Writer, seqs []seqcache.Sequence) error {
	out := make([]jsonSeq, len(seqs))
	for i, s := range seqs {
		out[i] = jsonSeq{s.Name, s.Start, s.Increment, s.MinValue, s.MaxValue, s.Cycle, s.Cache, s.Ordered, nil}
		if !s.Exhausted {
			out[i].Next = &s.Next
		}
	}
	return f.print(w, out, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "name\tnext\tstart\tincrement\tminvalue\tmaxvalue\tcache\tcycle\tordered\t")
		for _, s := range seqs {
			next := strconv.FormatInt(s.Next, 10)
			if s.Exhausted {
				next = "exhausted"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%v\t%v\t\n", s.Name, next, s.Start, s.Increment, s.MinValue, s.MaxValue, s.Cache, s.Cycle, s.Ordered)
		}
		tw.Flush()
	})
}

func (f *storeFlags) print(w io.Writer, v any, human func(io.Writer)) error {
	if !f.json {
		human(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
