// Package dynamo is the DynamoDB [seqcache.Store]: the source of truth of
// seqshim's sequences, shared by any number of processes.
//
// # Table and items
//
// One table (default [DefaultTable], on-demand capacity) with the partition
// key "name" (S) holds every sequence; [Store.EnsureTable] creates it. An
// item is the sequence's definition and its position:
//
//	name       S     key: "namespace/schema.seq", or "schema.seq" without namespace
//	ns         S     the namespace (absent without one)
//	seq        S     the sequence name, "schema.seq"
//	start, increment, minvalue, maxvalue, cache   N
//	cycle, ordered                                BOOL
//	next       N     the first value not yet reserved
//	cid        S     a random id written by Create (one per incarnation)
//	epoch      N     bumped by setval and by a CYCLE wrap (see below)
//
// A sequence whose every value has been reserved keeps next just past its
// limit (last value + increment). DynamoDB numbers have 38 digits, so that
// value is stored exactly even beyond the int64 range, and "next outside
// [minvalue, maxvalue]" is what [seqcache.Sequence.Exhausted] reports.
//
// A namespace lets one table serve many databases: every key carries it and
// every request checks it, so stores with different namespaces never see
// each other's sequences.
//
// # Reserving a block
//
// The common case is one UpdateItem and nothing else:
//
//	SET next = next + :count*increment
//	IF cid = :cid AND next <= :max-(count-1)*increment   (>= :min-... when descending)
//
// returning the old next, which is the block's first value. The store needs
// the sequence's increment and limit to write that request; it learns them
// from the first read of the sequence (definitions never change, and the
// cid condition catches a sequence dropped and created anew), so only the
// first reservation of a sequence by a Store costs a read.
//
// When the condition fails, fewer than count values remain (or the
// sequence is exhausted, or was recreated): the store takes the item
// returned with the failure, computes the block with [seqcache.Spec.Reserve]
// (truncated at the limit, wrapped to the other limit for CYCLE, or 2200H),
// and writes it with a compare-and-set on next; a lost race reads again.
// Memory and DynamoDB stores share that arithmetic and agree value for value.
//
// # Retries can only make gaps
//
// Requests go through the SDK's standard retryer (throttling, 5xx and
// broken connections), bounded by the caller's context, with a backoff of
// at most [MaxRetryBackoff] so that the SDK's retries fit in seqcache's
// attempt deadline (1 s) rather than stretch one attempt past it: past
// that, the cache retries on its own schedule.
// A reservation is safe to retry blindly: if DynamoDB applied an increment
// but its response was lost, the retry is a new increment, evaluated
// against the already advanced next, and reserves the following block. The
// first block was never seen by anyone: it is a gap, never a duplicate.
// A retried compare-and-set fails its condition (next has moved) and reads
// again, with the same result.
//
// Writes that move next backwards are not safe to repeat: a setval or a
// give-back applied twice, with a reservation in between, would hand out
// the same values twice. A give-back is conditional on next standing just
// past its tail and on the epoch its block was reserved in: setval and a
// CYCLE wrap start a new epoch, because they can bring next back to the
// same place with values handed out in between. [Store.SetValue] and [Store.GiveBack] are
// therefore retried only on throttling, when DynamoDB has not applied the
// request; after a lost response they report an error (SetValue) or false
// (GiveBack: the values are then simply not reused).
//
// # Errors
//
// Errors are [*seqcache.Error] values with PostgreSQL SQLSTATEs (42P01,
// 42P07, 2200H, 22003, 22023, 08006, 57014) that wrap the AWS error when
// there is one, so errors.As still reaches
// *types.ConditionalCheckFailedException, *types.ResourceNotFoundException
// and the smithy API errors.
package dynamo
