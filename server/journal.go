package server

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seqshim/seqshim/seqcache"
)

// The journal is a bbolt file with one record per block the server holds:
// the block, and how many of its values have been handed out ("used").
//
// The rule that makes a restart safe: the unused range of a record never
// contains a value that left the server. So a block is recorded before
// the cache gets it, used is raised (never lowered) and committed before a
// client gets a part of it, and a record is cut before its tail is given
// back to the store. A missing record is always safe: its values are lost
// (a gap), never served again.
type journal struct {
	db      *bolt.DB
	metrics *metrics

	mu        sync.Mutex
	held      map[string][]seqcache.Block // ns\x00name -> recorded blocks
	recovered map[string][]seqcache.Block // unused tails found at open, not yet served
}

var bucket = []byte("blocks")

// openJournal opens (or creates) the journal file and reads the blocks a
// previous run held.
func openJournal(path string, m *metrics) (*journal, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	// Handouts commit in batches; a short delay keeps a reply's latency low.
	db.MaxBatchDelay = 200 * time.Microsecond
	j := &journal{db: db, metrics: m, held: map[string][]seqcache.Block{}, recovered: map[string][]seqcache.Block{}}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			key, blk, used, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			j.held[key] = append(j.held[key], blk)
			if used < blk.Count {
				j.recovered[key] = append(j.recovered[key], blk.Tail(used))
			}
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	for _, tails := range j.recovered {
		slices.SortFunc(tails, handedOrder)
	}
	return j, nil
}

// handedOrder orders blocks of one sequence and epoch as the store handed
// them out: by value, in the sequence's direction.
func handedOrder(a, b seqcache.Block) int {
	if a.Epoch != b.Epoch {
		return cmp.Compare(a.Epoch, b.Epoch)
	}
	if a.Increment < 0 {
		return cmp.Compare(b.First, a.First)
	}
	return cmp.Compare(a.First, b.First)
}

func (j *journal) close() error { return j.db.Close() }

// pending counts the unused tails found at open and their values.
func (j *journal) pending() (blocks int, values int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ts := range j.recovered {
		for _, t := range ts {
			blocks++
			values += t.Count
		}
	}
	return blocks, values
}

func seqKey(ns, name string) string { return ns + "\x00" + name }

// recordKey is ns \0 name \0 epoch first, so that one sequence's records
// sort together.
func recordKey(key string, b seqcache.Block) []byte {
	k := make([]byte, 0, len(key)+17)
	k = append(k, key...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(b.Epoch))
	return binary.BigEndian.AppendUint64(k, uint64(b.First))
}

func encodeRecord(b seqcache.Block, used int64) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(b.Count))
	v = binary.BigEndian.AppendUint64(v, uint64(b.Increment))
	return binary.BigEndian.AppendUint64(v, uint64(used))
}

func decodeRecord(k, v []byte) (string, seqcache.Block, int64, error) {
	if len(k) < 17 || len(v) != 24 {
		return "", seqcache.Block{}, 0, errors.New("corrupt record")
	}
	key := string(k[:len(k)-17])
	if !strings.Contains(key, "\x00") {
		return "", seqcache.Block{}, 0, errors.New("corrupt record key")
	}
	b := seqcache.Block{
		Epoch:     int64(binary.BigEndian.Uint64(k[len(k)-16:])),
		First:     int64(binary.BigEndian.Uint64(k[len(k)-8:])),
		Count:     int64(binary.BigEndian.Uint64(v)),
		Increment: int64(binary.BigEndian.Uint64(v[8:])),
	}
	return key, b, int64(binary.BigEndian.Uint64(v[16:])), nil
}

// holder returns the recorded block of key holding v in epoch.
func (j *journal) holder(key string, v, epoch int64) (seqcache.Block, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, b := range j.held[key] {
		if b.Epoch == epoch && b.Contains(v) {
			return b, true
		}
	}
	return seqcache.Block{}, false
}

func (j *journal) forgetHeld(key string, b seqcache.Block) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.held[key] = deleteBlock(j.held[key], b)
}

func deleteBlock(bs []seqcache.Block, b seqcache.Block) []seqcache.Block {
	for i, x := range bs {
		if x.First == b.First && x.Epoch == b.Epoch {
			return append(bs[:i:i], bs[i+1:]...)
		}
	}
	return bs
}

// record writes a block the store just reserved, before the cache sees it.
func (j *journal) record(key string, b seqcache.Block) error {
	err := j.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put(recordKey(key, b), encodeRecord(b, 0))
	})
	if err != nil {
		return err
	}
	j.metrics.journals.Inc()
	j.mu.Lock()
	j.held[key] = append(j.held[key], b)
	j.mu.Unlock()
	return nil
}

// advance records that the values of out, and every value before them in
// their block, have been handed out. It returns once that is committed.
func (j *journal) advance(ns, name string, out seqcache.Block) error {
	key := seqKey(ns, name)
	if out.Count <= 0 {
		return nil
	}
	blk, ok := j.holder(key, out.First, out.Epoch)
	if !ok {
		return nil // already fully used, or dropped: nothing of it is served again
	}
	used := (out.Last()-blk.First)/blk.Increment + 1
	done := false
	err := j.db.Batch(func(tx *bolt.Tx) error {
		done = false
		bk, k := tx.Bucket(bucket), recordKey(key, blk)
		v := bk.Get(k)
		if v == nil {
			return nil
		}
		_, cur, was, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		if used <= was { // only forward: a later block part was committed first
			return nil
		}
		if used >= cur.Count {
			done = true
			return bk.Delete(k)
		}
		return bk.Put(k, encodeRecord(cur, used))
	})
	if err != nil {
		return err
	}
	j.metrics.journals.Inc()
	if done {
		j.forgetHeld(key, blk)
	}
	return nil
}

// cut shortens the record holding tail so that it ends before tail, which
// is about to be given back. It refuses (false) when any value of tail was
// handed out or the journal does not hold tail.
func (j *journal) cut(key string, tail seqcache.Block) (bool, error) {
	blk, ok := j.holder(key, tail.First, tail.Epoch)
	if !ok || !blk.Contains(tail.Last()) {
		return false, nil
	}
	keep := (tail.First - blk.First) / blk.Increment
	taken := false
	err := j.db.Update(func(tx *bolt.Tx) error {
		bk, k := tx.Bucket(bucket), recordKey(key, blk)
		v := bk.Get(k)
		if v == nil {
			return nil
		}
		_, cur, used, err := decodeRecord(k, v)
		if err != nil || used > keep {
			return err
		}
		taken = true
		if keep == used {
			return bk.Delete(k)
		}
		cur.Count = keep
		return bk.Put(k, encodeRecord(cur, used))
	})
	if err != nil || !taken {
		return false, err
	}
	j.forgetHeld(key, blk)
	if keep > 0 {
		blk.Count = keep
		j.mu.Lock()
		j.held[key] = append(j.held[key], blk)
		j.mu.Unlock()
	}
	return true, nil
}

// drop removes every record of a sequence (after setval or drop).
func (j *journal) drop(key string) error {
	j.mu.Lock()
	delete(j.held, key)
	delete(j.recovered, key)
	j.mu.Unlock()
	prefix := append([]byte(key), 0)
	return j.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+16 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// store wraps a namespace's store so that what it reserves is journaled
// and a previous run's unused tails are served first.
func (j *journal) store(ns string, inner seqcache.Store) *journaled {
	return &journaled{Store: inner, ns: ns, j: j}
}

type journaled struct {
	seqcache.Store
	ns string
	j  *journal

	mu      sync.Mutex // serializes the check of recovered tails
	checked map[string]bool
}

// Reserve serves a recovered tail of a previous run when there is one that
// is still valid, and otherwise reserves from the store and records the
// block before returning it.
func (s *journaled) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	key := seqKey(s.ns, name)
	if b, ok, err := s.recovered(ctx, key, name, n); err != nil || ok {
		return b, err
	}
	b, err := s.Store.Reserve(ctx, name, n)
	if err != nil {
		return b, err
	}
	if err := s.j.record(key, b); err != nil {
		// Not recorded: handing it out could not be journaled. A gap.
		return seqcache.Block{}, seqcache.Unavailable(name, fmt.Errorf("journal: %w", err))
	}
	return b, nil
}

// recovered takes up to n values from a previous run's tails of key,
// after checking them (see check).
func (s *journaled) recovered(ctx context.Context, key, name string, n int64) (seqcache.Block, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, err := s.check(ctx, key, name); !ok || err != nil {
		return seqcache.Block{}, false, err
	}
	j := s.j
	j.mu.Lock()
	defer j.mu.Unlock()
	tails := j.recovered[key]
	if len(tails) == 0 { // dropped by a setval meanwhile
		return seqcache.Block{}, false, nil
	}
	t := tails[0]
	if t.Count > n {
		tails[0] = t.Tail(n)
		t.Count = n
	} else {
		j.recovered[key] = tails[1:]
	}
	j.metrics.recovered.Add(float64(t.Count))
	return t, true, nil
}

// check reports whether key has recovered tails that may be served. On the
// sequence's first use it checks them against the store: they are kept
// only if the store is still past them in the same epoch (no setval, wrap
// or drop since), else their records are deleted. Called with s.mu held.
func (s *journaled) check(ctx context.Context, key, name string) (bool, error) {
	j := s.j
	j.mu.Lock()
	tails := slices.Clone(j.recovered[key])
	j.mu.Unlock()
	if len(tails) == 0 {
		return false, nil
	}
	if s.checked[key] {
		return true, nil
	}
	sq, err := s.Store.Get(ctx, name)
	if errors.Is(err, seqcache.ErrUnknownSequence) {
		return false, j.drop(key)
	}
	if err != nil {
		return false, err
	}
	for _, t := range tails {
		if !behind(sq, t) {
			return false, j.drop(key)
		}
	}
	if s.checked == nil {
		s.checked = map[string]bool{}
	}
	s.checked[key] = true
	return true, nil
}

// giveBackRecovered gives the recovered tails not served in this run back
// to the store, newest first, so that the cache's own give-backs, which
// are older, can follow. It runs at a graceful stop, before the cache's.
// A tail the store refuses is lost (its record is cut): a gap.
func (s *journaled) giveBackRecovered(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.j
	prefix := s.ns + "\x00"
	j.mu.Lock()
	var keys []string
	for key := range j.recovered {
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	j.mu.Unlock()
	var errs []error
	for _, key := range keys {
		name := strings.TrimPrefix(key, prefix)
		if ok, err := s.check(ctx, key, name); !ok || err != nil {
			errs = append(errs, err)
			continue
		}
		j.mu.Lock()
		tails := j.recovered[key]
		delete(j.recovered, key)
		j.mu.Unlock()
		for i := len(tails) - 1; i >= 0; i-- {
			ok, err := j.cut(key, tails[i])
			if err == nil && ok {
				ok, err = s.Store.GiveBack(ctx, name, tails[i])
			}
			if err != nil || !ok {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}

// behind reports whether the store stands past every value of b, in b's
// epoch.
func behind(sq seqcache.Sequence, b seqcache.Block) bool {
	if sq.Epoch != b.Epoch || sq.Increment != b.Increment {
		return false
	}
	if sq.Exhausted {
		return true
	}
	if b.Increment > 0 {
		return sq.Next > b.Last()
	}
	return sq.Next < b.Last()
}

// GiveBack cuts the journal's record before giving the tail back, so that a
// restart never serves values the store may hand out again.
func (s *journaled) GiveBack(ctx context.Context, name string, tail seqcache.Block) (bool, error) {
	key := s.ns + "\x00" + name
	s.j.mu.Lock()
	pendingRecovery := len(s.j.recovered[key]) > 0
	s.j.mu.Unlock()
	if pendingRecovery || tail.Count <= 0 {
		return false, nil
	}
	ok, err := s.j.cut(key, tail)
	if err != nil || !ok {
		return false, err
	}
	return s.Store.GiveBack(ctx, name, tail)
}

// SetValue forgets the sequence's records once the store moved.
func (s *journaled) SetValue(ctx context.Context, name string, v int64, called bool) error {
	if err := s.Store.SetValue(ctx, name, v, called); err != nil {
		return err
	}
	return s.j.drop(seqKey(s.ns, name))
}

// Drop forgets the sequence's records once it is dropped.
func (s *journaled) Drop(ctx context.Context, name string) error {
	if err := s.Store.Drop(ctx, name); err != nil {
		return err
	}
	return s.j.drop(seqKey(s.ns, name))
}
