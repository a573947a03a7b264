// Package remote is the client of the seqshim server tier: Store, a
// seqcache.Store whose calls go to seqshim servers (package server), named
// by a seqshim:// URL (see Target). A client process's seqcache.Cache sits
// on a Store as it would on the DynamoDB store.
//
// # Routing
//
// A Store sends its calls to one server picked at random among the healthy
// ones and stays on it while it answers, so that its values keep
// increasing: switching at every call would interleave the blocks of
// several servers. A server that does not answer an attempt within the
// attempt timeout (1 s) is marked bad, its connection closed and probed
// with the health service until it answers again; the call goes to
// another server, then to the fallback store when there is one. Without a
// fallback, Reserve, Get and List try the servers again for RetryFor, which
// rides out a server's restart. Create, SetValue, Drop and GiveBack are
// sent to one server only: a retry after a lost reply could apply a setval
// twice.
//
// Each Reserve carries the last block the Store got for the sequence: a
// server whose cache is behind it skips forward (see package server).
//
// # Uniqueness
//
// Every value comes from a conditional reservation in DynamoDB, made by a
// server's cache or by the fallback store. A Reserve retried on another
// server after a lost reply costs a gap, never a value twice. A server's
// cache refuses give-backs; the tail of a block from the fallback goes back
// to the fallback, conditionally.
//
// Errors are rebuilt from the servers' status details as the same
// *seqcache.Error, so errors.Is(err, seqcache.ErrLimitReached) works as on
// any Store. A server that cannot be reached is 08006
// (seqcache.ErrUnavailable); a refused token is 28000, a namespace outside
// the token's 42501.
package remote
