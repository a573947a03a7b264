package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"reflect"

	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// myConn wraps a go-sql-driver/mysql connection. Statements without
// sequence calls go to it untouched; sequence calls are answered from the
// shared cache with MariaDB's semantics and this connection's LASTVAL.
type myConn struct {
	c     *Connector
	inner driver.Conn
	sess  mySession
	// zeroGen caches whether 0 generates an AUTO_INCREMENT value under the
	// session's sql_mode; modeKnown is false until read and after a SET.
	zeroGen, modeKnown bool
	// db is the database a USE moved the session to ("" before any): the
	// database of unqualified names.
	db string
}

func newMyConn(c *Connector, inner driver.Conn) *myConn {
	cn := &myConn{c: c, inner: inner, sess: mySession{cache: c.shared.cache}}
	if c.cfg.LazyImport {
		cn.sess.lazyImport = c.myLazyImport
	}
	return cn
}

var (
	_ driver.Conn               = (*myConn)(nil)
	_ driver.ConnPrepareContext = (*myConn)(nil)
	_ driver.ConnBeginTx        = (*myConn)(nil)
	_ driver.ExecerContext      = (*myConn)(nil)
	_ driver.QueryerContext     = (*myConn)(nil)
	_ driver.Pinger             = (*myConn)(nil)
	_ driver.SessionResetter    = (*myConn)(nil)
	_ driver.Validator          = (*myConn)(nil)
	_ driver.NamedValueChecker  = (*myConn)(nil)
)

// Unwrap returns the base connection.
func (c *myConn) Unwrap() driver.Conn { return c.inner }

// Cache returns the cache answering this connection's sequence calls.
func (c *myConn) Cache() *seqcache.Cache { return c.sess.cache }

func (c *myConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *myConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		inner, err := base(c).prepare(ctx, query)
		if err != nil || p.NullChecks == nil && p.Facts == nil {
			return inner, err
		}
		return &myStmt{c: c, p: p, inner: inner}, nil
	case rewrite.Local:
		return &myStmt{c: c, p: p}, nil
	case rewrite.Bind, rewrite.Implicit:
		inner, err := base(c).prepare(ctx, p.SQL)
		if err != nil {
			return nil, err
		}
		return &myStmt{c: c, p: p, inner: inner}, nil
	}
	return nil, myRefused(p)
}

func (c *myConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		if err := c.checkNulls(p, args); err != nil {
			return nil, err
		}
		res, err := base(c).exec(ctx, query, args)
		if err == nil {
			c.after(p)
		}
		return res, err
	case rewrite.Local:
		if _, err := c.sess.local(ctx, p, args); err != nil {
			return nil, err
		}
		return localResult{}, nil
	case rewrite.Bind, rewrite.Implicit:
		// go-sql-driver/mysql sends arguments only in prepared statements
		// (unless it interpolates): database/sql prepares, then executes
		// the statement once, which evaluates the calls once.
		return nil, driver.ErrSkip
	}
	return nil, myRefused(p)
}

func (c *myConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		if err := c.checkNulls(p, args); err != nil {
			return nil, err
		}
		rows, err := base(c).query(ctx, query, args)
		if err == nil {
			c.after(p)
		}
		return rows, err
	case rewrite.Local:
		return c.sess.local(ctx, p, args)
	case rewrite.Bind, rewrite.Implicit:
		return nil, driver.ErrSkip // as in ExecContext
	}
	return nil, myRefused(p)
}

func (c *myConn) Close() error { return c.inner.Close() }

// Begin is deprecated in database/sql; BeginTx is used.
func (c *myConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx passes through: sequence values are not given back when a
// transaction rolls back, as in MariaDB.
func (c *myConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *myConn) Ping(ctx context.Context) error { return c.inner.(driver.Pinger).Ping(ctx) }

// ResetSession passes through; LASTVAL survives, as on a pooled MariaDB
// connection.
func (c *myConn) ResetSession(ctx context.Context) error {
	return c.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (c *myConn) IsValid() bool { return c.inner.(driver.Validator).IsValid() }

// CheckNamedValue defers to go-sql-driver/mysql's converter.
func (c *myConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.inner.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// baseConn calls the base connection's context methods.
type baseConn struct{ driver.Conn }

func base(c *myConn) baseConn { return baseConn{c.inner} }

func (b baseConn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	return b.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (b baseConn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return b.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (b baseConn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return b.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

// myStmt is a prepared statement seqshim takes part in: a Local plan
// answered in process, a Bind plan prepared on the base connection, or a
// Pass plan whose parameters or effects the driver must see.
type myStmt struct {
	c     *myConn
	p     *rewrite.Plan
	inner driver.Stmt // nil for Local plans
}

var (
	_ driver.StmtExecContext  = (*myStmt)(nil)
	_ driver.StmtQueryContext = (*myStmt)(nil)
)

func (s *myStmt) Close() error {
	if s.inner != nil {
		return s.inner.Close()
	}
	return nil
}

// NumInput is what the caller passes: the statement's own placeholders.
func (s *myStmt) NumInput() int { return s.p.NumParams }

func (s *myStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *myStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

// args returns the arguments for the inner statement.
func (s *myStmt) args(ctx context.Context, args []driver.NamedValue) ([]driver.NamedValue, error) {
	if err := s.c.checkNulls(s.p, args); err != nil {
		return nil, err
	}
	if s.p.Kind == rewrite.Pass {
		return args, nil
	}
	return s.c.sess.bind(ctx, s.p, args)
}

func (s *myStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.inner == nil {
		if _, err := s.c.sess.local(ctx, s.p, args); err != nil {
			return nil, err
		}
		return localResult{}, nil
	}
	all, err := s.args(ctx, args)
	if err != nil {
		return nil, err
	}
	res, err := s.inner.(driver.StmtExecContext).ExecContext(ctx, all)
	if err == nil {
		s.c.after(s.p)
	}
	return res, err
}

func (s *myStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.inner == nil {
		return s.c.sess.local(ctx, s.p, args)
	}
	all, err := s.args(ctx, args)
	if err != nil {
		return nil, err
	}
	rows, err := s.inner.(driver.StmtQueryContext).QueryContext(ctx, all)
	if err == nil {
		s.c.after(s.p)
	}
	return rows, err
}

// CheckNamedValue defers to the base connection, as myConn does.
func (s *myStmt) CheckNamedValue(nv *driver.NamedValue) error { return s.c.CheckNamedValue(nv) }

// localResult is what go-sql-driver/mysql returns when a SELECT is
// executed with Exec: no rows affected, insert id 0.
type localResult struct{}

func (localResult) LastInsertId() (int64, error) { return 0, nil }
func (localResult) RowsAffected() (int64, error) { return 0, nil }

// myRows is the one-row result of a statement answered in process, typed
// as MariaDB types NEXTVAL's result: a nullable BIGINT.
type myRows struct {
	cols []string
	vals []any // int64, or nil for NULL
	done bool
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*myRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*myRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*myRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*myRows)(nil)
)

func (r *myRows) Columns() []string { return r.cols }
func (r *myRows) Close() error      { return nil }

func (r *myRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	for i, v := range r.vals {
		dest[i] = v
	}
	return nil
}

func (r *myRows) ColumnTypeDatabaseTypeName(int) string      { return "BIGINT" }
func (r *myRows) ColumnTypeScanType(int) reflect.Type        { return reflect.TypeFor[sql.NullInt64]() }
func (r *myRows) ColumnTypeNullable(int) (nullable, ok bool) { return true, true }

func (r *myRows) ColumnTypePrecisionScale(int) (int64, int64, bool) { return 0, 0, false }
