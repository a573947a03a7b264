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
// # Runway
//
// A Cache sizes each sequence's reservations by demand: it keeps the
// sequence's rate (values per second, sampled when a block reaches its low
// mark and when it is used up, never in Next) and reserves what lasts
// [Config.BlockLifetime], between the sequence's CACHE (or
// [Config.BlockSize]) and [Config.MaxBlockSize]. It also reserves, in the
// background, an outage cover of [Config.OutageCover] at that rate, kept
// apart from the blocks and used only while the store does not answer, so
// that normal blocks, and with them disorder across processes, stay small.
//
// Each store attempt is bounded by [Config.AttemptTimeout]; a failed
// reservation is retried with backoff and jitter (at most 250 ms apart)
// until the store answers, while callers are served from the blocks and
// the cover. When those are spent, a caller waits until its context ends
// (or [Config.FetchTimeout]) and gets 08006 saying how long the store has
// been unreachable.
//
// What holding values ahead costs is bounded separately: disorder across
// processes by BlockLifetime (plus the lead of 1.25 × AttemptTimeout with
// which the next block is fetched); loss on a crash (the rest of the
// current block, the block ahead and the cover) by OutageCover and, for a
// sequence without CYCLE, by [Config.MaxHeldShare] of the values left to
// its limit. [Cache.Close] gives back what nobody has reserved after.
// [Cache.Stats] and [Cache.Sequences] report it all (package seqmetrics
// exports them to Prometheus).
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
