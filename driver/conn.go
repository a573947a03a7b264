package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// conn wraps a base driver connection. Statements without sequence calls
// go to it untouched; sequence calls are answered from the shared cache,
// with this connection's session state for currval and lastval.
// database/sql uses a driver.Conn from one goroutine at a time, so the
// session state needs no lock.
type conn struct {
	c     *Connector
	inner driver.Conn
	sess  session
}

func newConn(c *Connector, inner driver.Conn) *conn {
	cn := &conn{c: c, inner: inner, sess: session{cache: c.shared.cache, schema: c.cfg.Schema}}
	if c.cfg.LazyImport {
		cn.sess.lazyImport = c.lazyImport
	}
	return cn
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

// Unwrap returns the base connection, so that sql.Conn.Raw callers can
// reach *stdlib.Conn (for CopyFrom, say).
func (c *conn) Unwrap() driver.Conn { return c.inner }

// Cache returns the cache answering this connection's sequence calls.
func (c *conn) Cache() *seqcache.Cache { return c.sess.cache }

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// plan returns how to answer query: the planner's plan, turned into a
// Bind plan when the statement is an INSERT that leaves a managed
// sequence column to its default.
func (c *conn) plan(ctx context.Context, query string) (*rewrite.Plan, error) {
	p := c.c.planner.Plan(query)
	if (p.Insert != nil || p.OtherInserts != nil || p.Copy != nil) && (p.Kind == rewrite.Pass || p.Kind == rewrite.Bind) {
		return c.implicit(ctx, p)
	}
	if p.Kind == rewrite.Pass && ddl(query) {
		c.c.catalog.forget() // column defaults may have changed
	}
	return p, nil
}

// local answers a Local plan in process, unless the connection's
// transaction has failed: PostgreSQL then refuses every command.
func (c *conn) local(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (driver.Rows, error) {
	if pc, ok := c.inner.(interface{ Conn() *pgx.Conn }); ok && pc.Conn().PgConn().TxStatus() == 'E' {
		return nil, pgErr("25P02", "current transaction is aborted, commands ignored until end of transaction block", "", nil)
	}
	return c.sess.local(ctx, p, args)
}

// discards reports whether a statement is DISCARD ALL or DISCARD
// SEQUENCES, which forget the session's currval and lastval.
func discards(query string) bool {
	q := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(query), ";"))
	if len(q) < 11 || q[0]|0x20 != 'd' {
		return false
	}
	f := strings.Fields(strings.ToUpper(q))
	return len(f) == 2 && f[0] == "DISCARD" && (f[1] == "ALL" || f[1] == "SEQUENCES")
}

// ddl reports whether a statement may change column defaults: it starts
// with CREATE, ALTER or DROP (a leading comment hides it; a restart or the
// next DDL seen refreshes the catalog then).
func ddl(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 5 {
		return false
	}
	prefix := func(w string) bool { return len(q) >= len(w) && strings.EqualFold(q[:len(w)], w) }
	switch q[0] | 0x20 {
	case 'c':
		return prefix("create")
	case 'a':
		return prefix("alter")
	case 'd':
		return prefix("drop")
	}
	return false
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		return c.prepareInner(ctx, query)
	case rewrite.Local:
		return &stmt{c: c, plan: p}, nil
	case rewrite.Bind:
		inner, err := c.prepareInner(ctx, p.SQL)
		if err != nil {
			return nil, err
		}
		return &stmt{c: c, plan: p, inner: inner}, nil
	default:
		return nil, refused(p)
	}
}

func (c *conn) prepareInner(ctx context.Context, query string) (driver.Stmt, error) {
	if pc, ok := c.inner.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, query)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	default:
	}
	return c.inner.Prepare(query)
}

func (c *conn) Close() error { return c.inner.Close() }

// Begin is deprecated in database/sql; BeginTx is used.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx passes through: sequence values are not given back when a
// transaction rolls back, as in PostgreSQL.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.inner.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	if opts.Isolation != 0 || opts.ReadOnly {
		return nil, errors.New("seqshim: the base driver does not support transaction options")
	}
	//lint:ignore SA1019 the base driver has nothing else
	return c.inner.Begin()
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		res, err := c.execInner(ctx, query, args)
		if err == nil && discards(query) {
			c.sess.reset()
		}
		return res, err
	case rewrite.Local:
		if _, err := c.local(ctx, p, args); err != nil {
			return nil, err
		}
		return driver.RowsAffected(1), nil
	case rewrite.Bind:
		all, err := c.sess.bind(ctx, p, args)
		if err != nil {
			return nil, err
		}
		return c.execInner(ctx, p.SQL, all)
	default:
		return nil, refused(p)
	}
}

func (c *conn) execInner(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if ec, ok := c.inner.(driver.ExecerContext); ok {
		return ec.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip // database/sql prepares instead
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Pass:
		rows, err := c.queryInner(ctx, query, args)
		if err == nil && discards(query) {
			c.sess.reset()
		}
		return rows, err
	case rewrite.Local:
		return c.local(ctx, p, args)
	case rewrite.Bind:
		all, err := c.sess.bind(ctx, p, args)
		if err != nil {
			return nil, err
		}
		return c.queryInner(ctx, p.SQL, all)
	default:
		return nil, refused(p)
	}
}

func (c *conn) queryInner(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if qc, ok := c.inner.(driver.QueryerContext); ok {
		return qc.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession passes through. The session's currval and lastval survive,
// as they do on a pooled PostgreSQL connection.
func (c *conn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue defers to the base driver: pgx takes []int64 and other
// types database/sql's default converter would refuse.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.inner.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func refused(p *rewrite.Plan) error {
	return pgErr(seqcache.CodeFeatureNotSupported, "seqshim: "+p.Reason,
		"run the sequence call in its own statement (SELECT nextval(...)) and pass the value as a parameter", nil)
}
