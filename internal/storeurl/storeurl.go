// Package storeurl names sequence stores by URL and opens them: the
// driver's seqshim.store and the CLI's -store take the same URLs, checked
// and opened here.
//
// It is internal because the URL syntax is configuration, not API: a
// program that wants a store in code calls dynamo.Open, remote.Dial or
// seqcache.NewMemoryStore. A new scheme is one case in Parse and one in
// Open; the package that implements it must not import storeurl.
package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

// The schemes Parse accepts.
const (
	// DynamoDB is dynamodb://TABLE: the DynamoDB table, with the AWS
	// configuration from the standard chain.
	DynamoDB = "dynamodb"
	// Memory is memory://: a new store in process memory, for tests.
	Memory = "memory"
	// Seqshim is seqshim://HOST:PORT[,HOST:PORT...][?PARAMS]: seqshim
	// servers, the server tier (see remote.Target for the parameters).
	Seqshim = remote.Scheme
)

// Forms is the accepted URLs, for messages.
const Forms = "dynamodb://TABLE or memory://, or seqshim://HOST:PORT[,HOST:PORT...][?PARAMS] for seqshim servers"

// Default is the store when none is configured.
const Default = DynamoDB + "://" + dynamo.DefaultTable

// URL is a parsed store URL.
type URL struct {
	// Scheme is one of the scheme constants.
	Scheme string
	// Table is the DynamoDB table (DynamoDB).
	Table string
	// Servers is the whole seqshim:// URL (Seqshim).
	Servers string
}

// Parse checks a store URL.
func Parse(s string) (URL, error) {
	if strings.HasPrefix(s, Seqshim+"://") {
		return parseServers(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return URL{}, err
	}
	switch {
	case u.Scheme == DynamoDB && u.Host != "" && u.Path == "":
		return URL{Scheme: DynamoDB, Table: u.Host}, nil
	case u.Scheme == Memory && u.Path == "":
		return URL{Scheme: Memory}, nil
	}
	return URL{}, fmt.Errorf("unsupported store %q", s)
}

// parseServers checks a seqshim:// URL and the fallback store it names,
// which must be a store, not servers.
func parseServers(s string) (URL, error) {
	t, err := remote.ParseURL(s)
	if err != nil {
		return URL{}, err
	}
	if t.Fallback != "" {
		fb, err := Parse(t.Fallback)
		if err != nil {
			return URL{}, fmt.Errorf("store %q: fallback: %w", s, err)
		}
		if fb.Scheme == Seqshim {
			return URL{}, fmt.Errorf("store %q: the fallback must be a store, not servers", s)
		}
	}
	return URL{Scheme: Seqshim, Servers: s}, nil
}

// String returns the URL as Parse takes it.
func (u URL) String() string {
	if u.Scheme == Seqshim {
		return u.Servers
	}
	return u.Scheme + "://" + u.Table
}

// Options configure the opened store.
type Options struct {
	// Namespace prefixes every key in the store, so that one table serves
	// many databases (see dynamo.Options). A memory store, which serves one
	// process, ignores it.
	Namespace string
}

// Open opens the store u names. Each call to Open on memory:// returns a
// new, empty store: sharing one is the caller's choice. A seqshim:// store
// is a *remote.Store, to be closed (io.Closer) when its cache is; its
// fallback is opened here with the same options.
func Open(ctx context.Context, u URL, opts Options) (seqcache.Store, error) {
	switch u.Scheme {
	case Memory:
		return seqcache.NewMemoryStore(), nil
	case DynamoDB:
		return dynamo.Open(ctx, dynamo.Options{Table: u.Table, Namespace: opts.Namespace})
	case Seqshim:
		return remote.Open(u.Servers, opts.Namespace, func(fallback string) (seqcache.Store, error) {
			fu, err := Parse(fallback)
			if err != nil {
				return nil, err
			}
			return Open(ctx, fu, opts)
		})
	}
	return nil, fmt.Errorf("unsupported store %q", u)
}
