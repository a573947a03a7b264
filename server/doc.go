// Package server is seqshim's server tier: a gRPC service that hands out
// blocks of sequence values from a seqcache.Cache held over DynamoDB, and
// Client, the seqcache.Store that reserves from it.
//
// The tier is composition, not special code: a client process's
// seqcache.Cache sits on a Client; the server's Cache sits on the
// dynamo.Store of the call's namespace (through the journal, when there is
// one). The server reserves large blocks from DynamoDB and hands each
// client the block size its cache asks for (capped by Options.MaxBlock), so
// that many processes reach DynamoDB through a few servers.
//
// # Uniqueness
//
// Every value comes from a conditional reservation in DynamoDB, made by a
// server's cache or, when no server answers, by the client's fallback
// store. A Reserve retried on another server after a lost reply costs a
// gap; a value is never handed out twice. A server's cache refuses
// give-backs (the values were drawn from its own blocks); the client gives
// the tail of a fallback block back to the fallback store, conditionally.
//
// # Routing
//
// A Client sends its calls to one server picked at random among the
// healthy ones and stays on it while it answers, so that its values keep
// increasing. A server that does not answer an attempt within the attempt
// timeout (1 s) is marked bad, its connection closed and probed with the
// health service until it answers again; the call goes to another server.
// Each Reserve carries the client's last block: a server whose cache is
// behind it (the client came from a server that was ahead) draws its
// cache past it and keeps the values drawn in a pool for the clients they
// are past, so values keep increasing per process and none are lost.
//
// # Journal
//
// With Options.Journal, a bbolt file records each block the server
// reserves before its cache sees it, and how far the block was handed out,
// committed before the reply. A server restarted on its journal after a
// crash continues inside the blocks it held, after checking with the store
// that nothing (setval, a wrap, a drop) moved the sequence since. A
// graceful stop cuts the journal's record before it gives a tail back to
// DynamoDB. A journal belongs to one server and one table: bbolt locks the
// file, and a journal restored from an older copy could serve values again.
//
// # Security
//
// TLS with Options.TLS (ServerTLS builds one, with client certificates
// when given a client CA), and bearer tokens with Options.Tokens, compared
// in constant time and limited to namespaces (see ParseTokens). A call
// without a valid token fails with Unauthenticated (SQLSTATE 28000), one
// outside its token's namespaces with PermissionDenied (42501); both are
// logged without the token and counted.
//
// Errors cross the wire as a SequenceError status detail and are rebuilt
// as the same *seqcache.Error, so errors.Is(err, seqcache.ErrLimitReached)
// works on a Client as on any Store.
package server
