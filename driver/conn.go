package driver

import (
	"context"
	"database/sql/driver"
	"errors"

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
	names names // what it knows of its search_path and role
	// created are the store keys of sequences created again in PostgreSQL
	// in the current transaction: capped when it commits.
	created []string
}

func newConn(c *Connector, inner driver.Conn) *conn {
	cn := &conn{c: c, inner: inner, sess: session{cache: c.shared.cache}}
	cn.sess.resolve, cn.sess.native = cn.resolveSequence, cn.native
	if c.cfg.LazyImport {
		cn.sess.lazyImport = c.lazyImport
		cn.sess.inDatabase = cn.inDatabase
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

// plan returns how to answer query: the planner's plan, or the plan
// rewrite derives from it for an INSERT or COPY given the tables it
// writes to.
func (c *conn) plan(ctx context.Context, query string) (*rewrite.Plan, error) {
	p := c.c.planner.Plan(query)
	if p.NeedsTables() {
		return c.implicit(ctx, p)
	}
	return p, nil
}

// local answers a Local plan in process, unless the connection's
// transaction has failed: PostgreSQL then refuses every command.
func (c *conn) local(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (driver.Rows, error) {
	if left, err := c.localLeft(ctx, p, args); err != nil || left {
		if err != nil {
			return nil, err
		}
		return c.queryInner(ctx, p.Original, args)
	}
	return c.sess.local(ctx, p, args)
}

// localExec answers a Local plan executed with Exec.
func (c *conn) localExec(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (driver.Result, error) {
	if left, err := c.localLeft(ctx, p, args); err != nil || left {
		if err != nil {
			return nil, err
		}
		return c.execInner(ctx, p.Original, args)
	}
	if _, err := c.sess.local(ctx, p, args); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

// localLeft reports whether a Local plan's calls are all on sequences
// seqshim leaves to PostgreSQL once resolved (a temporary sequence, one
// allow/deny excludes): PostgreSQL then answers the statement as written.
// In a failed transaction it fails as PostgreSQL would.
func (c *conn) localLeft(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (bool, error) {
	if c.txFailed() {
		return false, errTxFailed
	}
	return c.leftToDatabase(ctx, p, args)
}

// executed acts on the facts of a plan the database has just executed,
// with the error it returned: a statement that changes the catalog drops
// the table descriptions and the name resolutions (even when it failed:
// part of a string of statements may have run), a successful DISCARD ALL
// or SEQUENCES forgets currval and lastval, a setting of the search_path
// or the role (or the end of a transaction that made one) makes the
// connection ask for them again, and a managed sequence created again is
// capped below the store's values once committed.
func (c *conn) executed(ctx context.Context, p *rewrite.Plan, err error) {
	if p.Facts == nil {
		return
	}
	if changesCatalog(p) {
		c.c.catalog.forget()
		c.c.resolver.forget()
	}
	if err == nil && discardsSequences(p) {
		c.sess.reset()
	}
	inTx := c.inTx()
	c.names.executed(p, inTx)
	if err == nil {
		c.created = append(c.created, c.createdAgain(ctx, p)...)
	}
	switch lastTxEnd(p) {
	case "ROLLBACK":
		c.created = nil
	case "COMMIT":
		c.recapCreated(ctx)
	}
	if !inTx {
		c.recapCreated(ctx)
	}
}

// changesCatalog reports whether the plan's statements may change column
// defaults.
func changesCatalog(p *rewrite.Plan) bool {
	for _, f := range p.Facts {
		if f.Kind == rewrite.CatalogChange {
			return true
		}
	}
	return false
}

// discardsSequences reports whether the plan's statements forget the
// session's currval and lastval.
func discardsSequences(p *rewrite.Plan) bool {
	for _, f := range p.Facts {
		if f.Kind == rewrite.Discard && (f.All || f.Object == "SEQUENCES") {
			return true
		}
	}
	return false
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Kind == rewrite.Refuse:
		return nil, refused(p)
	case p.Kind == rewrite.Local:
		return &stmt{c: c, plan: p}, nil
	case p.Kind == rewrite.Pass && p.Facts == nil:
		return c.prepareInner(ctx, query) // nothing to add or act on
	}
	inner, err := c.prepareInner(ctx, p.SQL)
	if err != nil {
		return nil, err
	}
	return &stmt{c: c, plan: p, inner: inner}, nil
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
		t, err := bt.BeginTx(ctx, opts)
		return c.wrapTx(t, err)
	}
	if opts.Isolation != 0 || opts.ReadOnly {
		return nil, errors.New("seqshim: the base driver does not support transaction options")
	}
	//lint:ignore SA1019 the base driver has nothing else
	return c.wrapTx(c.inner.Begin())
}

// wrapTx makes the end of a transaction forget the search_path a SET
// inside it may have changed.
func (c *conn) wrapTx(t driver.Tx, err error) (driver.Tx, error) {
	if err != nil {
		return nil, err
	}
	return tx{Tx: t, c: c}, nil
}

// tx is the base driver's transaction; its end acts as COMMIT and ROLLBACK
// sent as statements do: the search_path a SET inside it changed is
// forgotten, and the sequences it created again are capped (or forgotten).
type tx struct {
	driver.Tx
	c *conn
}

func (t tx) Commit() error {
	err := t.Tx.Commit()
	t.c.names.txEnded(false)
	if len(t.c.created) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), recapTimeout)
		defer cancel()
		t.c.recapCreated(ctx)
	}
	return err
}

func (t tx) Rollback() error {
	err := t.Tx.Rollback()
	t.c.names.txEnded(false)
	t.c.created = nil
	return err
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	p, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case rewrite.Refuse:
		return nil, refused(p)
	case rewrite.Local:
		return c.localExec(ctx, p, args)
	}
	query, all, err := c.bound(ctx, p, args)
	if err != nil {
		return nil, err
	}
	res, err := c.execInner(ctx, query, all)
	c.executed(ctx, p, err)
	return res, err
}

// bound returns the text and arguments to send for a Pass, Bind or
// Implicit plan: the plan's SQL with the values of its calls appended to
// the arguments, or the statement as written when its calls all resolve
// to sequences seqshim leaves to PostgreSQL.
func (c *conn) bound(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if left, err := c.leftToDatabase(ctx, p, args); err != nil || left {
		return p.Original, args, err
	}
	all, err := c.sess.args(ctx, p, args)
	return p.SQL, all, err
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
	case rewrite.Refuse:
		return nil, refused(p)
	case rewrite.Local:
		return c.local(ctx, p, args)
	}
	query, all, err := c.bound(ctx, p, args)
	if err != nil {
		return nil, err
	}
	rows, err := c.queryInner(ctx, query, all)
	c.executed(ctx, p, err)
	return rows, err
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
	return pgErr(codeFeatureNotSupported, "seqshim: "+p.Reason,
		"run the sequence call in its own statement (SELECT nextval(...)) and pass the value as a parameter", nil)
}
