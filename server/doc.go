// Package server is seqshim's server tier: a gRPC service (seqshimpb) that
// hands out blocks of sequence values from a seqcache.Cache held over
// DynamoDB. Its client is package remote.
//
// The tier is composition, not special code: a client process's
// seqcache.Cache sits on a remote.Store; the server's Cache sits on the
// dynamo.Store of the call's namespace (through the journal, when there is
// one). The server reserves large blocks from DynamoDB and hands each
// client the block size its cache asks for (capped by Options.MaxBlock), so
// that many processes reach DynamoDB through a few servers. Every value
// still comes from a conditional reservation in DynamoDB: a value is never
// handed out twice, whatever servers crash or clients fail over. A
// server's cache refuses give-backs (the values were drawn from its own
// blocks): a gap.
//
// # Clients moving between servers
//
// Each Reserve carries the client's last block. A server whose cache is
// behind it (the client came from a server that was ahead) draws a couple
// of client-sized blocks from its cache into a pool, handed to the clients
// they are past, and then reserves the client's block from the store
// itself: values keep increasing per client process, none are lost, and
// the cache's idea of the sequence's rate stays what its clients draw.
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
// Errors cross the wire as a SequenceError status detail, from which the
// client rebuilds the same *seqcache.Error.
package server
