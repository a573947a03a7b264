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

// session is one connection's sequence state, as a PostgreSQL session
// keeps it: the last value nextval returned per sequence (currval) and the
// sequence nextval touched last (lastval).
type session struct {
	cache  *seqcache.Cache
	schema string
	// lazyImport, when set, imports a sequence the store lacks.
	lazyImport func(ctx context.Context, key string) error
	curr       map[string]int64
	last       string // store key of the sequence nextval touched last; "" before
}

// reset forgets currval and lastval, as DISCARD SEQUENCES does.
func (s *session) reset() {
	clear(s.curr)
	s.last = ""
}

// eval evaluates the plan's calls in order and returns their values.
func (s *session) eval(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue, out []int64) ([]int64, error) {
	for i := range p.Calls {
		v, err := s.call(ctx, &p.Calls[i], args)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *session) call(ctx context.Context, call *rewrite.Call, args []driver.NamedValue) (int64, error) {
	if call.Func == rewrite.Lastval {
		if s.last == "" {
			return 0, seqErr("", seqcache.NotCalled(""))
		}
		return s.curr[s.last], nil
	}
	name := call.Seq
	if call.NameParam > 0 {
		arg, err := argAt(args, call.NameParam)
		if err != nil {
			return 0, err
		}
		str, ok := arg.(string)
		if !ok {
			return 0, pgErr("42804", fmt.Sprintf("seqshim: sequence name parameter $%d must be text, got %T", call.NameParam, arg), "", nil)
		}
		if name, err = rewrite.ParseName(str, s.schema); err != nil {
			return 0, pgErr("42602", fmt.Sprintf("invalid name syntax: %q", str), "", err)
		}
	}
	key := call.Key
	if call.NameParam > 0 {
		key = name.Key()
	}
	switch call.Func {
	case rewrite.Nextval:
		v, err := s.cache.Next(ctx, key)
		if retry, ierr := s.importMissing(ctx, key, err); retry {
			v, err = s.cache.Next(ctx, key)
		} else if ierr != nil {
			err = ierr
		}
		if err != nil {
			return 0, seqErr(name.Name, err)
		}
		if s.curr == nil {
			s.curr = make(map[string]int64)
		}
		s.curr[key], s.last = v, key
		return v, nil
	case rewrite.Currval:
		v, ok := s.curr[key]
		if !ok {
			// PostgreSQL looks the relation up first: an unknown name is
			// 42P01, a known one not yet used in this session 55000.
			if _, err := s.cache.Get(ctx, key); err != nil {
				return 0, seqErr(name.Name, err)
			}
			return 0, seqErr(name.Name, seqcache.NotCalled(key))
		}
		return v, nil
	case rewrite.Setval:
		v, err := intArg(call.Value, args)
		if err != nil {
			return 0, err
		}
		called, err := boolArg(call.IsCalled, args)
		if err != nil {
			return 0, err
		}
		err = s.cache.SetValue(ctx, key, v, called)
		if retry, ierr := s.importMissing(ctx, key, err); retry {
			err = s.cache.SetValue(ctx, key, v, called)
		} else if ierr != nil {
			err = ierr
		}
		if err != nil {
			return 0, seqErr(name.Name, err)
		}
		if called { // as PostgreSQL: currval follows setval only when is_called
			if s.curr == nil {
				s.curr = make(map[string]int64)
			}
			s.curr[key] = v
		}
		return v, nil
	}
	return 0, fmt.Errorf("seqshim: unknown sequence function %v", call.Func)
}

// importMissing runs the lazy import when err says the store lacks the
// sequence: retry reports that the call can be tried again; a failed
// import is returned, unless PostgreSQL lacks the sequence too.
func (s *session) importMissing(ctx context.Context, key string, err error) (retry bool, ierr error) {
	if s.lazyImport == nil || !errors.Is(err, seqcache.ErrUnknownSequence) {
		return false, nil
	}
	ierr = s.lazyImport(ctx, key)
	if errors.Is(ierr, seqcache.ErrUnknownSequence) {
		return false, nil
	}
	if ierr != nil {
		return false, fmt.Errorf("seqshim: importing sequence %s from PostgreSQL: %w", key, ierr)
	}
	return true, nil
}

// local answers a Local plan in process.
func (s *session) local(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (driver.Rows, error) {
	r := &rows{cols: p.Columns}
	vals, err := s.eval(ctx, p, args, r.buf[:0])
	if err != nil {
		return nil, err
	}
	r.vals = vals
	return r, nil
}

// bind evaluates a Bind plan's calls and returns the arguments for its
// rendered SQL: the caller's, then one per new parameter.
func (s *session) bind(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) ([]driver.NamedValue, error) {
	if len(args) != p.NumParams {
		// The values must land on their own parameters, never on the caller's.
		return nil, pgErr("08P01", fmt.Sprintf("bind message supplies %d parameters, but prepared statement \"\" requires %d", len(args), p.NumParams), "", nil)
	}
	var buf [8]int64
	vals, err := s.eval(ctx, p, args, buf[:0])
	if err != nil {
		return nil, err
	}
	all := make([]driver.NamedValue, len(args), len(args)+len(vals))
	copy(all, args)
	for i := range p.Calls {
		if n := p.Calls[i].Param; n > 0 {
			all = append(all, driver.NamedValue{Ordinal: n, Value: vals[i]})
		}
	}
	return all, nil
}

func argAt(args []driver.NamedValue, n int) (any, error) {
	for _, a := range args {
		if a.Ordinal == n {
			return a.Value, nil
		}
	}
	return nil, pgErr("08P01", fmt.Sprintf("bind message supplies %d parameters, but the statement needs $%d", len(args), n), "", nil)
}

func intArg(a rewrite.Arg, args []driver.NamedValue) (int64, error) {
	if a.Param == 0 {
		return a.Int, nil
	}
	v, err := argAt(args, a.Param)
	if err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case int64:
		return v, nil
	case string:
		return parseInt(v)
	case []byte:
		return parseInt(string(v))
	case float64:
		if v == float64(int64(v)) {
			return int64(v), nil
		}
	}
	return 0, pgErr("22P02", fmt.Sprintf("invalid input syntax for type bigint: \"%v\"", v), "", nil)
}

func parseInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, pgErr("22P02", fmt.Sprintf("invalid input syntax for type bigint: %q", s), "", nil)
	}
	return n, nil
}

func boolArg(a rewrite.Arg, args []driver.NamedValue) (bool, error) {
	if a.Param == 0 {
		return a.Bool, nil
	}
	v, err := argAt(args, a.Param)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, pgErr("22P02", fmt.Sprintf("invalid input syntax for type boolean: \"%v\"", v), "", nil)
}
