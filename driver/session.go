package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// session is one connection's sequence state, as a PostgreSQL session
// keeps it: the last value nextval returned per sequence (currval) and the
// sequence nextval touched last (lastval).
type session struct {
	cache *seqcache.Cache
	// lazyImport, when set, imports a sequence the store lacks.
	lazyImport func(ctx context.Context, key string) error
	// resolve qualifies an unqualified name as regclass does on the
	// connection; errLeftToDatabase when it is a sequence seqshim does not
	// manage.
	resolve func(ctx context.Context, name rewrite.Name) (rewrite.Name, string, error)
	// inDatabase reports whether PostgreSQL has the sequence: currval of a
	// sequence not yet imported is 55000, as PostgreSQL's, not 42P01.
	inDatabase func(ctx context.Context, name rewrite.Name) (bool, error)
	// native runs a sequence function on the connection, for sequences
	// seqshim leaves to PostgreSQL.
	native func(ctx context.Context, query string, args ...any) (int64, error)
	curr   map[string]int64
	last   string // store key of the sequence nextval touched last; "" before
	// lastNative: the last nextval was PostgreSQL's (a statement on a
	// sequence seqshim leaves to it ran as written): lastval is its.
	lastNative bool
}

// reset forgets currval and lastval, as DISCARD SEQUENCES does.
func (s *session) reset() {
	clear(s.curr)
	s.last, s.lastNative = "", false
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

// call evaluates one call.
func (s *session) call(ctx context.Context, call *rewrite.Call, args []driver.NamedValue) (int64, error) {
	if call.Func == rewrite.Lastval {
		if s.lastNative {
			return s.native(ctx, "SELECT pg_catalog.lastval()")
		}
		return s.lastval()
	}
	name, key, err := s.sequence(ctx, call, args)
	if errors.Is(err, errLeftToDatabase) {
		return s.nativeCall(ctx, call, args, name)
	}
	if err != nil {
		return 0, err
	}
	switch call.Func {
	case rewrite.Nextval:
		return s.nextval(ctx, name, key)
	case rewrite.Currval:
		return s.currval(ctx, name, key)
	case rewrite.Setval:
		return s.setval(ctx, call, args, name, key)
	}
	return 0, fmt.Errorf("seqshim: unknown sequence function %v", call.Func)
}

// nativeCall evaluates a call on a sequence seqshim leaves to PostgreSQL
// (temporary, or excluded by allow/deny) in a statement that also calls
// managed ones: PostgreSQL evaluates it, on this connection, as it would
// have inside the statement.
func (s *session) nativeCall(ctx context.Context, call *rewrite.Call, args []driver.NamedValue, name rewrite.Name) (int64, error) {
	switch call.Func {
	case rewrite.Nextval:
		v, err := s.native(ctx, "SELECT pg_catalog.nextval($1::regclass)", name.String())
		if err == nil {
			s.lastNative = true
		}
		return v, err
	case rewrite.Currval:
		return s.native(ctx, "SELECT pg_catalog.currval($1::regclass)", name.String())
	case rewrite.Setval:
		v, err := intArg(call.Value, args)
		if err != nil {
			return 0, err
		}
		called, err := boolArg(call.IsCalled, args)
		if err != nil {
			return 0, err
		}
		return s.native(ctx, "SELECT pg_catalog.setval($1::regclass, $2, $3)", name.String(), v, called)
	}
	return 0, fmt.Errorf("seqshim: unknown sequence function %v", call.Func)
}

// sequence returns the call's sequence and its store key: its own, or the
// one its name parameter names, resolved in the search_path when
// unqualified. With errLeftToDatabase it returns the name as written.
func (s *session) sequence(ctx context.Context, call *rewrite.Call, args []driver.NamedValue) (rewrite.Name, string, error) {
	name, key := call.Seq, call.Key
	if call.NameParam != 0 {
		arg, err := argAt(args, call.NameParam)
		if err != nil {
			return rewrite.Name{}, "", err
		}
		str, ok := arg.(string)
		if !ok {
			return rewrite.Name{}, "", pgErr(codeDatatypeMismatch, fmt.Sprintf("seqshim: sequence name parameter $%d must be text, got %T", call.NameParam, arg), "", nil)
		}
		if name, err = rewrite.ParseName(str, rewrite.SearchPath); err != nil {
			return rewrite.Name{}, "", pgErr(codeInvalidName, fmt.Sprintf("invalid name syntax: %q", str), "", err)
		}
		key = name.Key()
	}
	if call.NameParam == 0 && name.Qualified() {
		return name, key, keyError(name) // qualified, and managed, when planned
	}
	resolved, key, err := s.resolve(ctx, name)
	if errors.Is(err, errLeftToDatabase) {
		return name, "", err
	}
	if err == nil {
		err = keyError(resolved)
	}
	return resolved, key, err
}

// keyError refuses a sequence whose schema name holds a dot: its store key
// "schema.name" could be another sequence's ("a.b"."c" and "a"."b.c").
func keyError(n rewrite.Name) error {
	if strings.IndexByte(n.Schema, '.') < 0 {
		return nil
	}
	return pgErr(codeFeatureNotSupported,
		fmt.Sprintf("seqshim: sequence %s is in a schema whose name holds a dot, which its store key (schema.name) cannot tell apart from another", n),
		"rename the schema, or leave the sequence to PostgreSQL with seqshim.deny", nil)
}

func (s *session) lastval() (int64, error) {
	if s.last == "" {
		return 0, seqErr("", seqcache.NotCalled(""))
	}
	return s.curr[s.last], nil
}

func (s *session) nextval(ctx context.Context, name rewrite.Name, key string) (int64, error) {
	var v int64
	err := s.withImport(ctx, key, func() (err error) {
		v, err = s.cache.Next(ctx, key)
		return err
	})
	if err != nil {
		return 0, seqErr(name.Name, err)
	}
	s.setCurr(key, v)
	s.last, s.lastNative = key, false
	return v, nil
}

func (s *session) currval(ctx context.Context, name rewrite.Name, key string) (int64, error) {
	v, ok := s.curr[key]
	if !ok {
		// PostgreSQL looks the relation up first: an unknown name is
		// 42P01, a known one not yet used in this session 55000.
		if _, err := s.cache.Get(ctx, key); err != nil {
			if errors.Is(err, seqcache.ErrUnknownSequence) && s.inDatabase != nil {
				// Not imported yet: PostgreSQL's answer is 55000 when it has it.
				if ok, ierr := s.inDatabase(ctx, name); ierr != nil {
					return 0, ierr
				} else if ok {
					return 0, seqErr(name.Name, seqcache.NotCalled(key))
				}
			}
			return 0, seqErr(name.Name, err)
		}
		return 0, seqErr(name.Name, seqcache.NotCalled(key))
	}
	return v, nil
}

func (s *session) setval(ctx context.Context, call *rewrite.Call, args []driver.NamedValue, name rewrite.Name, key string) (int64, error) {
	v, err := intArg(call.Value, args)
	if err != nil {
		return 0, err
	}
	called, err := boolArg(call.IsCalled, args)
	if err != nil {
		return 0, err
	}
	err = s.withImport(ctx, key, func() error { return s.cache.SetValue(ctx, key, v, called) })
	if err != nil {
		return 0, seqErr(name.Name, err)
	}
	if called { // as PostgreSQL: currval follows setval only when is_called
		s.setCurr(key, v)
	}
	return v, nil
}

func (s *session) setCurr(key string, v int64) {
	if s.curr == nil {
		s.curr = make(map[string]int64)
	}
	s.curr[key] = v
}

// withImport runs op, and once more after the lazy import when op fails
// because the store lacks the sequence. A failed import is returned,
// unless PostgreSQL lacks the sequence too: then op's error stands.
func (s *session) withImport(ctx context.Context, key string, op func() error) error {
	err := op()
	if s.lazyImport == nil || !errors.Is(err, seqcache.ErrUnknownSequence) {
		return err
	}
	ierr := s.lazyImport(ctx, key)
	if errors.Is(ierr, seqcache.ErrUnknownSequence) {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("seqshim: importing sequence %s from PostgreSQL: %w", key, ierr)
	}
	return op()
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

// args returns the arguments to send with p.SQL: the caller's for a Pass
// plan, with the values of the calls of a Bind or Implicit plan appended.
func (s *session) args(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) ([]driver.NamedValue, error) {
	if p.Kind == rewrite.Pass {
		return args, nil
	}
	return s.bind(ctx, p, args)
}

// bind evaluates a Bind plan's calls and returns the arguments for its
// rendered SQL: the caller's, then one per new parameter.
func (s *session) bind(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) ([]driver.NamedValue, error) {
	if len(args) != p.NumParams {
		// The values must land on their own parameters, never on the caller's.
		return nil, pgErr(codeProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but prepared statement \"\" requires %d", len(args), p.NumParams), "", nil)
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
	return nil, pgErr(codeProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but the statement needs $%d", len(args), n), "", nil)
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
	return 0, pgErr(codeInvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type bigint: \"%v\"", v), "", nil)
}

func parseInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, pgErr(codeInvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type bigint: %q", s), "", nil)
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
	return false, pgErr(codeInvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type boolean: \"%v\"", v), "", nil)
}
