// Package seqcache is the sequence model of seqshim and its process-local
// block cache.
//
// A sequence ([Spec]) has PostgreSQL's parameters: start, increment, minimum,
// maximum, cycle and cache size. A [Store] is where sequences live and hands
// out [Block]s: contiguous runs of values that no other caller of the store
// will ever see again. A [Cache] sits in front of a Store and answers
// [Cache.Next] from memory, fetching the next block in the background before
// the current one runs out, so that the hot path never waits for the network.
//
// A Cache is itself a Store: caches compose into layers (client cache, server
// cache, DynamoDB) without special code.
//
// Errors are [*Error] values: a code (the SQLSTATE PostgreSQL reports for
// the same condition), the sequence, the values concerned and the cause.
// Test them with errors.Is against [ErrUnknownSequence], [ErrLimitReached],
// [ErrOutOfRange], [ErrExists] and [ErrNotCalled]. Their text names the
// sequence by its store key; the driver words them as PostgreSQL does.
package seqcache
