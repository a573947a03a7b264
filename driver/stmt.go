package driver

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/seqshim/seqshim/rewrite"
)

// stmt is a prepared statement seqshim answers or acts on: a Local plan
// answered in process; a Bind or Implicit plan whose rendered SQL is
// prepared on the base connection; or a Pass plan with facts (DDL,
// DISCARD, ...) that the connection acts on after each execution, as it
// does for a statement sent directly. Each execution draws fresh values.
type stmt struct {
	c     *conn
	plan  *rewrite.Plan
	inner driver.Stmt // nil for Local plans
}

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error {
	if s.inner != nil {
		return s.inner.Close()
	}
	return nil
}

// NumInput is what the caller passes: the statement's own parameters, not
// the ones seqshim adds; the base statement's count for a Pass plan.
func (s *stmt) NumInput() int {
	if s.plan.Kind == rewrite.Pass {
		return s.inner.NumInput()
	}
	return s.plan.NumParams
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.inner == nil {
		return s.c.localExec(ctx, s.plan, args)
	}
	all, err := s.c.sess.args(ctx, s.plan, args)
	if err != nil {
		return nil, err
	}
	res, err := s.execInner(ctx, all)
	s.c.executed(ctx, s.plan, err)
	return res, err
}

func (s *stmt) execInner(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if ec, ok := s.inner.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 fallback for drivers without StmtExecContext
	return s.inner.Exec(vals)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.inner == nil {
		return s.c.local(ctx, s.plan, args)
	}
	all, err := s.c.sess.args(ctx, s.plan, args)
	if err != nil {
		return nil, err
	}
	rows, err := s.queryInner(ctx, all)
	s.c.executed(ctx, s.plan, err)
	return rows, err
}

func (s *stmt) queryInner(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if qc, ok := s.inner.(driver.StmtQueryContext); ok {
		return qc.QueryContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 fallback for drivers without StmtQueryContext
	return s.inner.Query(vals)
}

// CheckNamedValue defers to the base connection, as conn does.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error { return s.c.CheckNamedValue(nv) }

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("seqshim: the base driver does not support named parameters")
		}
		out[i] = a.Value
	}
	return out, nil
}
