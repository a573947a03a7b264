// Package storeurl names sequence stores by URL and opens them: the
// driver's seqshim.store and the CLI's -store take the same URLs, checked
// and opened here.
//
// It is internal because the URL syntax is configuration, not API: a
// program that wants a store in code calls dynamo.Open or
// seqcache.NewMemoryStore. A new scheme (such as seqshim://host:port,... for
// a seqshim server) is one case in Parse and one in Open; the package that
// implements it must not import storeurl.
package storeurl

import (
	"context"
	"fmt"
	"net/url"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
)

// The schemes Parse accepts.
const (
	// DynamoDB is dynamodb://TABLE: the DynamoDB table, with the AWS
	// configuration from the standard chain.
	DynamoDB = "dynamodb"
	// Memory is memory://: a new store in process memory, for tests.
	Memory = "memory"
)

// Forms is the accepted URLs, for messages.
const Forms = "dynamodb://TABLE or memory://"

// Default is the store when none is configured.
const Default = DynamoDB + "://" + dynamo.DefaultTable

// URL is a parsed store URL.
type URL struct {
	// Scheme is one of the scheme constants.
	Scheme string
	// Table is the DynamoDB table (DynamoDB).
	Table string
}

// Parse checks a store URL.
func Parse(s string) (URL, error) {
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

// String returns the URL as Parse takes it.
func (u URL) String() string { return u.Scheme + "://" + u.Table }

// Options configure the opened store.
type Options struct {
	// Namespace prefixes every key in the store, so that one table serves
	// many databases (see dynamo.Options). A memory store, which serves one
	// process, ignores it.
	Namespace string
}

// Open opens the store u names. Each call to Open on memory:// returns a
// new, empty store: sharing one is the caller's choice.
func Open(ctx context.Context, u URL, opts Options) (seqcache.Store, error) {
	switch u.Scheme {
	case Memory:
		return seqcache.NewMemoryStore(), nil
	case DynamoDB:
		return dynamo.Open(ctx, dynamo.Options{Table: u.Table, Namespace: opts.Namespace})
	}
	return nil, fmt.Errorf("unsupported store %q", u)
}
