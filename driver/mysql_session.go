package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"

	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// mySession is one MariaDB connection's sequence state: the last value
// NEXTVAL returned per sequence, which LASTVAL(s) and PREVIOUS VALUE FOR s
// read.
type mySession struct {
	cache *seqcache.Cache
	last  map[string]int64
	// lazyImport, when set, imports a sequence the store lacks from
	// MariaDB.
	lazyImport func(ctx context.Context, key string) error
}

// importMissing runs the lazy import when err says the store lacks the
// sequence, and reports whether the call can be tried again; a failed
// import is returned, unless MariaDB lacks the sequence too.
func (s *mySession) importMissing(ctx context.Context, key string, err error) (retry bool, ierr error) {
	if s.lazyImport == nil || !errors.Is(err, seqcache.ErrUnknownSequence) {
		return false, nil
	}
	ierr = s.lazyImport(ctx, key)
	if errors.Is(ierr, seqcache.ErrUnknownSequence) {
		return false, nil
	}
	if ierr != nil {
		return false, fmt.Errorf("seqshim: importing sequence %s from MariaDB: %w", key, ierr)
	}
	return true, nil
}

// withImport runs f, and again after a lazy import of key when the store
// lacks it.
func (s *mySession) withImport(ctx context.Context, key string, f func() error) error {
	err := f()
	if retry, ierr := s.importMissing(ctx, key, err); retry {
		err = f()
	} else if ierr != nil {
		err = ierr
	}
	return err
}

// eval evaluates the plan's calls in order: int64 values, or nil where
// MariaDB returns NULL.
func (s *mySession) eval(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) ([]any, error) {
	out := make([]any, len(p.Calls))
	var ids []int64 // the AUTO_INCREMENT values, consecutive
	if p.Consecutive != "" {
		var err error
		if ids, err = s.consecutive(ctx, p); err != nil {
			return nil, err
		}
	}
	for i := range p.Calls {
		if len(ids) > 0 && p.Calls[i].Key == p.Consecutive {
			out[i], ids = ids[0], ids[1:]
			continue
		}
		v, err := s.call(ctx, &p.Calls[i], args)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// consecutiveTries bounds the draws for consecutive AUTO_INCREMENT values:
// a draw is consecutive unless it straddles two blocks of the cache.
const consecutiveTries = 3

// consecutive draws the AUTO_INCREMENT values of an Implicit plan as one
// run of consecutive values, as MariaDB gives the rows of an INSERT. A draw
// that straddles two blocks is dropped (a gap) and drawn again.
func (s *mySession) consecutive(ctx context.Context, p *rewrite.Plan) ([]int64, error) {
	n := 0
	var seq rewrite.Name
	for i := range p.Calls {
		if p.Calls[i].Key == p.Consecutive {
			n, seq = n+1, p.Calls[i].Seq
		}
	}
	for range consecutiveTries {
		vals, err := s.cache.NextN(ctx, p.Consecutive, n)
		if err != nil {
			return nil, mySeqErr(seq, err)
		}
		if evenlySpaced(vals) {
			return vals, nil
		}
	}
	return nil, myErr(erNotSupported, "42000", fmt.Sprintf(
		"seqshim: could not give the %d rows of this INSERT into %s consecutive ids from one block of the cache (clients compute each row's id from LAST_INSERT_ID()): insert fewer rows per statement or raise seqshim.block_size above %d",
		n, seq.Key(), n), nil)
}

func evenlySpaced(v []int64) bool {
	for i := 2; i < len(v); i++ {
		if v[i]-v[i-1] != v[1]-v[0] {
			return false
		}
	}
	return true
}

func (s *mySession) call(ctx context.Context, call *rewrite.Call, args []driver.NamedValue) (any, error) {
	switch call.Func {
	case rewrite.Nextval:
		return s.nextval(ctx, call)
	case rewrite.Currval:
		return s.lastval(ctx, call)
	case rewrite.Setval:
		return s.setval(ctx, call, args)
	}
	return nil, fmt.Errorf("seqshim: unknown sequence function %v", call.Func)
}

func (s *mySession) nextval(ctx context.Context, call *rewrite.Call) (any, error) {
	var v int64
	err := s.withImport(ctx, call.Key, func() (err error) {
		v, err = s.cache.Next(ctx, call.Key)
		return err
	})
	if err != nil {
		// MariaDB forgets LASTVAL of a sequence that has run out.
		delete(s.last, call.Key)
		return nil, mySeqErr(call.Seq, err)
	}
	if s.last == nil {
		s.last = make(map[string]int64)
	}
	s.last[call.Key] = v
	return v, nil
}

// lastval is LASTVAL(s) and PREVIOUS VALUE FOR s: NULL before NEXTVAL in
// this session, an error for an unknown sequence.
func (s *mySession) lastval(ctx context.Context, call *rewrite.Call) (any, error) {
	if v, ok := s.last[call.Key]; ok {
		return v, nil
	}
	err := s.withImport(ctx, call.Key, func() error {
		_, err := s.cache.Get(ctx, call.Key)
		return err
	})
	if err != nil {
		return nil, mySeqErr(call.Seq, err)
	}
	return nil, nil
}

// setval is SETVAL(s, n [, is_used]): it returns n, or NULL when the
// sequence is already at or past n (MariaDB never moves it back). It does
// not change LASTVAL, as in MariaDB.
func (s *mySession) setval(ctx context.Context, call *rewrite.Call, args []driver.NamedValue) (any, error) {
	v, err := myIntArg(call.Value, args)
	if err != nil {
		return nil, err
	}
	used, err := myBoolArg(call.IsCalled, args)
	if err != nil {
		return nil, err
	}
	var moved bool
	err = s.withImport(ctx, call.Key, func() (err error) {
		moved, err = s.cache.Advance(ctx, call.Key, v, used)
		return err
	})
	if err != nil {
		return nil, mySeqErr(call.Seq, err)
	}
	if !moved {
		return nil, nil
	}
	return v, nil
}

// local answers a Local plan in process.
func (s *mySession) local(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) != p.NumParams {
		return nil, wrongArgs(len(args), p.NumParams)
	}
	vals, err := s.eval(ctx, p, args)
	if err != nil {
		return nil, err
	}
	return &myRows{cols: p.Columns, vals: vals}, nil
}

// bind evaluates a Bind plan's calls and returns the arguments of its
// rendered SQL: MySQL's placeholders are positional, so each value goes
// where its call's ? stands among the caller's.
func (s *mySession) bind(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) ([]driver.NamedValue, error) {
	if len(args) != p.NumParams {
		// The values must land on their own placeholders, never on the caller's.
		return nil, wrongArgs(len(args), p.NumParams)
	}
	vals, err := s.eval(ctx, p, args)
	if err != nil {
		return nil, err
	}
	return spliceArgs(p, args, vals), nil
}

// spliceArgs places vals[k] at position p.Calls[k].Param and the caller's
// arguments, in order, at the other positions.
func spliceArgs(p *rewrite.Plan, args []driver.NamedValue, vals []any) []driver.NamedValue {
	n := len(args) + len(vals)
	all := make([]driver.NamedValue, 0, n)
	ai, ci := 0, 0
	for pos := 1; pos <= n; pos++ {
		if ci < len(p.Calls) && p.Calls[ci].Param == pos {
			all = append(all, driver.NamedValue{Ordinal: pos, Value: vals[ci]})
			ci++
			continue
		}
		a := args[ai]
		a.Ordinal = pos
		all = append(all, a)
		ai++
	}
	return all
}

func wrongArgs(got, want int) error {
	return myErr(erWrongArguments, "HY000", fmt.Sprintf("Incorrect arguments to mysqld_stmt_execute: %d given, %d placeholders", got, want), nil)
}

func myArgAt(args []driver.NamedValue, n int) (any, error) {
	for _, a := range args {
		if a.Ordinal == n {
			return a.Value, nil
		}
	}
	return nil, wrongArgs(len(args), n)
}

func myIntArg(a rewrite.Arg, args []driver.NamedValue) (int64, error) {
	if a.Param == 0 {
		return a.Int, nil
	}
	v, err := myArgAt(args, a.Param)
	if err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case int64:
		return v, nil
	case uint64:
		if v <= 1<<63-1 {
			return int64(v), nil
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
	case []byte:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, myErr(erWrongArguments, "HY000", fmt.Sprintf("Incorrect arguments to SETVAL: %v is not an integer", v), nil)
}

func myBoolArg(a rewrite.Arg, args []driver.NamedValue) (bool, error) {
	if a.Param == 0 {
		return a.Bool, nil
	}
	v, err := myArgAt(args, a.Param)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	}
	return false, myErr(erWrongArguments, "HY000", fmt.Sprintf("Incorrect arguments to SETVAL: %v is not 0, 1, TRUE or FALSE", v), nil)
}
