package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// An unqualified name resolves where 'name'::regclass resolves it on the
// caller's connection: in its effective search_path (the DSN's, the role's
// and the database's defaults, SET, SET LOCAL, set_config, RESET, DISCARD
// ALL), with pg_temp first and "$user" expanded. The server answers; the
// driver asks it once per distinct (role, search_path, name), on the
// caller's connection, and keeps the answer per Connector until a statement
// it sees changes the catalog. Each connection remembers its role and
// search_path as the server last reported them, and forgets them when a
// statement it sees may change them (SET, RESET, set_config of search_path
// or of the role, DISCARD ALL, the end of a transaction that set one), so
// that no nextval costs a round trip.

// relation is where a name resolves.
type relation struct {
	key    string // the store key "schema.name" a sequence call uses
	schema string // "" when no relation of that name is on the path
	kind   string // pg_class.relkind: "S" for a sequence
	temp   bool   // in this session's pg_temp schema
	// managed: seqshim answers calls on it (allow/deny).
	managed bool
	// fallback: the name is nowhere in PostgreSQL, not even in the default
	// schema: a sequence that only the store has, in the default schema.
	fallback bool
}

// relKey is one resolution: the role and search_path it was made with,
// and the name.
type relKey struct{ user, path, name string }

// resolver keeps resolutions per Connector.
type resolver struct {
	mu    sync.RWMutex
	rels  map[relKey]relation
	gen   atomic.Uint64 // counts forget calls
	limit int
}

// generation counts the catalog changes seen: a connection's own
// resolutions from an older generation are stale.
func (r *resolver) generation() uint64 { return r.gen.Load() }

func newResolver(limit int) *resolver {
	return &resolver{rels: make(map[relKey]relation), limit: limit}
}

func (r *resolver) get(k relKey) (relation, bool) {
	r.mu.RLock()
	rel, ok := r.rels[k]
	r.mu.RUnlock()
	return rel, ok
}

func (r *resolver) put(k relKey, rel relation) {
	r.mu.Lock()
	if len(r.rels) >= r.limit {
		clear(r.rels) // bounded: the working set is rebuilt at once
	}
	r.rels[k] = rel
	r.mu.Unlock()
}

// forget drops every resolution, after a statement that may create, drop,
// rename or move a relation or a schema.
func (r *resolver) forget() {
	r.mu.Lock()
	clear(r.rels)
	r.gen.Add(1)
	r.mu.Unlock()
}

// names is what a connection knows of its role and search_path, as the
// server last reported them, and its own resolutions while it may have
// temporary relations (pg_temp comes first on every path, and is the
// session's own).
type names struct {
	known      bool
	user, path string
	// setInTx: a SET or set_config of them ran inside the current
	// transaction, whose end (commit or rollback) may undo it.
	setInTx bool
	// temps: the session may have temporary relations; its resolutions
	// are kept in own only, not shared.
	temps bool
	// own are the resolutions made with user and path, by name, read
	// without a lock; valid while known, in the resolver's generation gen.
	own map[string]relation
	gen uint64
}

// forgetPath forgets the role and search_path, and the resolutions made
// with them.
func (n *names) forgetPath() { n.known, n.own = false, nil }

// executed acts on the facts of a statement the database ran; inTx is
// whether the connection is inside a transaction after it.
func (n *names) executed(p *rewrite.Plan, inTx bool) {
	for _, f := range p.Facts {
		switch f.Kind {
		case rewrite.Setting:
			switch f.Object {
			case "search_path", "role", "session_authorization", "": // "": RESET ALL, set_config of a parameter
				n.forgetPath()
				n.setInTx = n.setInTx || inTx
			}
		case rewrite.Discard:
			if f.All {
				n.forgetPath()
				n.temps = false
			} else if f.Object == "TEMP" {
				n.temps, n.own = false, nil // own may hold pg_temp's
			}
		case rewrite.CatalogChange:
			if f.Command == "CREATE" {
				n.temps = true // perhaps CREATE TEMP: resolve on this session's own
			}
		case rewrite.Transaction:
			switch f.Command {
			case "COMMIT", "ROLLBACK", "PREPARE TRANSACTION":
				n.txEnded(false)
			case "ROLLBACK TO":
				n.txEnded(true)
			}
		}
	}
}

// txEnded: a transaction (or, with savepoint, part of one) ended; what a
// SET inside it did may be undone.
func (n *names) txEnded(savepoint bool) {
	if n.setInTx {
		n.forgetPath()
		n.setInTx = savepoint
	}
}

// resolveSequence qualifies an unqualified sequence name as regclass does
// on this connection: 42P01 when it is on no schema of the path, 42809
// when it is not a sequence, errLeftToDatabase when it is a sequence
// seqshim does not manage. A name PostgreSQL has nowhere, not even in
// seqshim.schema, is looked up there in the store (a sequence only the
// store has).
func (c *conn) resolveSequence(ctx context.Context, name rewrite.Name) (rewrite.Name, string, error) {
	if name.Qualified() { // a name parameter's
		if !c.c.manages(name) {
			return rewrite.Name{}, "", errLeftToDatabase
		}
		return name, name.Key(), nil
	}
	rel, err := c.resolve(ctx, name.Name)
	if err != nil {
		return rewrite.Name{}, "", err
	}
	switch {
	case rel.kind != "" && rel.kind != "S":
		return rewrite.Name{}, "", pgErr(codeWrongObjectType, fmt.Sprintf("%q is not a sequence", name.Name), "", nil)
	case rel.schema == "" && !rel.fallback:
		return rewrite.Name{}, "", seqErr(name.Name, seqcache.UnknownSequence(name.Name))
	case rel.temp || !rel.managed:
		return rewrite.Name{}, "", errLeftToDatabase
	case rel.fallback:
		return rewrite.Name{Schema: c.c.cfg.Schema, Name: name.Name}, rel.key, nil
	}
	return rewrite.Name{Schema: rel.schema, Name: name.Name}, rel.key, nil
}

// manages reports whether seqshim answers calls on the qualified sequence
// name: not a temporary one (pg_temp is the session's own), and one that
// seqshim.allow and seqshim.deny select. An unqualified name counts as
// managed until it is resolved.
func (c *Connector) manages(n rewrite.Name) bool {
	if !n.Qualified() {
		return true
	}
	return !(n.Schema == "pg_temp" || strings.HasPrefix(n.Schema, "pg_temp_")) && c.cfg.managed(n.Key())
}

// errLeftToDatabase: the name resolves to a sequence seqshim leaves to
// PostgreSQL (temporary, or excluded by allow/deny). The call is evaluated
// by PostgreSQL; the error never reaches a caller.
var errLeftToDatabase = errors.New("seqshim: a sequence left to PostgreSQL")

// native runs a sequence function on the connection and returns its value.
func (c *conn) native(ctx context.Context, query string, args ...any) (int64, error) {
	vals, err := c.internalRow(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(vals[0], 10, 64)
}

// leftToDatabase reports whether every call of p resolves to a sequence
// seqshim leaves to PostgreSQL: the statement then runs as written. False
// when p has no unqualified name, and when it mixes both kinds: PostgreSQL
// then evaluates each of its own calls apart (session.nativeCall).
func (c *conn) leftToDatabase(ctx context.Context, p *rewrite.Plan, args []driver.NamedValue) (bool, error) {
	if !c.c.cfg.selective() && !c.names.temps && !c.sess.lastNative {
		return false, nil // every sequence is seqshim's: nothing to look at
	}
	left, managed, nextval := 0, 0, false
	for i := range p.Calls {
		call := &p.Calls[i]
		nextval = nextval || call.Func == rewrite.Nextval
		switch {
		case call.Func == rewrite.Lastval && c.sess.lastNative:
			left++
			continue
		case call.Func == rewrite.Lastval, call.NameParam == 0 && call.Seq.Qualified():
			managed++
			continue
		}
		_, _, err := c.sess.sequence(ctx, call, args)
		switch {
		case errors.Is(err, errLeftToDatabase):
			left++
		case err != nil:
			return false, err
		default:
			managed++
		}
	}
	if left > 0 && managed > 0 {
		return false, nil // each call on its side (session.nativeCall)
	}
	if left > 0 && nextval {
		c.sess.lastNative = true // PostgreSQL's nextval is the session's last
	}
	return left > 0, nil
}

// inDatabase reports whether PostgreSQL has the (qualified) sequence name.
func (c *conn) inDatabase(ctx context.Context, name rewrite.Name) (bool, error) {
	if c.txFailed() {
		return false, errTxFailed
	}
	vals, err := c.internalRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", quoteIdent(name.Schema)+"."+quoteIdent(name.Name))
	if errors.Is(err, driver.ErrSkip) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return vals[0] == "true", nil
}

// pathQuery reads the role and search_path resolutions are made with.
const pathQuery = `SELECT current_user::text, pg_catalog.current_setting('search_path')`

// knowPath reads the connection's role and search_path when it does not
// know them.
func (c *conn) knowPath(ctx context.Context) error {
	if c.names.known {
		return nil
	}
	if c.txFailed() {
		return errTxFailed
	}
	vals, err := c.internalRow(ctx, pathQuery)
	if err != nil {
		return err
	}
	c.names.known, c.names.user, c.names.path = true, vals[0], vals[1]
	return nil
}

// cached returns a kept resolution made with the connection's role and
// search_path: its own, else the shared one (unless the session may have
// temporary relations).
func (c *conn) cached(name string) (relation, bool) {
	n := &c.names
	if !n.known {
		return relation{}, false
	}
	if gen := c.c.resolver.generation(); n.gen != gen {
		n.own, n.gen = nil, gen
	}
	if rel, ok := n.own[name]; ok {
		return rel, true
	}
	if n.temps {
		return relation{}, false
	}
	rel, ok := c.c.resolver.get(relKey{n.user, n.path, name})
	if ok {
		n.keepOwn(name, rel, c.c.resolver.limit)
	}
	return rel, ok
}

// keep keeps a resolution: the connection's own, and shared unless the
// session may have temporary relations.
func (c *conn) keep(name string, rel relation) {
	n := &c.names
	n.temps = n.temps || rel.temp
	if !n.temps {
		c.c.resolver.put(relKey{n.user, n.path, name}, rel)
	}
	if gen := c.c.resolver.generation(); n.gen != gen {
		n.own, n.gen = nil, gen
	}
	n.keepOwn(name, rel, c.c.resolver.limit)
}

func (n *names) keepOwn(name string, rel relation, limit int) {
	if n.own == nil || len(n.own) >= limit {
		n.own = make(map[string]relation)
	}
	n.own[name] = rel
}

// resolveQuery resolves $1, a quoted identifier, like regclass, and tells
// whether $2, the name in the default schema, exists at all; with the role
// and search_path it was resolved with.
const resolveQuery = `SELECT current_user::text, pg_catalog.current_setting('search_path'),
	coalesce(n.nspname::text, ''), coalesce(c.relkind::text, ''),
	coalesce(n.oid = pg_catalog.pg_my_temp_schema(), false),
	pg_catalog.to_regclass($2) IS NOT NULL
FROM (SELECT pg_catalog.to_regclass($1) AS oid) r
LEFT JOIN pg_catalog.pg_class c ON c.oid = r.oid
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`

// resolve returns where the unqualified relation name (as parsed: case
// kept, unquoted) resolves on this connection.
func (c *conn) resolve(ctx context.Context, name string) (relation, error) {
	if rel, ok := c.cached(name); ok {
		return rel, nil
	}
	if c.txFailed() {
		return relation{}, errTxFailed
	}
	vals, err := c.internalRow(ctx, resolveQuery, quoteIdent(name), quoteIdent(c.c.cfg.Schema)+"."+quoteIdent(name))
	var rel relation
	switch {
	case errors.Is(err, driver.ErrSkip):
		// A base connection that runs no queries of ours: the default schema.
		rel.fallback = true
		c.names.known = true
	case err != nil:
		return relation{}, err
	default:
		rel = relation{schema: vals[2], kind: vals[3], temp: vals[4] == "true"}
		rel.fallback = rel.schema == "" && vals[5] != "true"
		c.names.known, c.names.user, c.names.path = true, vals[0], vals[1]
	}
	n := rewrite.Name{Schema: rel.schema, Name: name}
	if rel.fallback {
		n.Schema = c.c.cfg.Schema
	}
	if n.Schema != "" {
		rel.key, rel.managed = n.Key(), c.c.manages(n)
	}
	c.keep(name, rel)
	return rel, nil
}

// errTxFailed is PostgreSQL's answer to every command in a failed
// transaction.
var errTxFailed = pgErr(codeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block", "", nil)

// txFailed reports whether the connection's transaction has failed:
// PostgreSQL then refuses every command.
func (c *conn) txFailed() bool {
	pc, ok := c.inner.(interface{ Conn() *pgx.Conn })
	return ok && pc.Conn().PgConn().TxStatus() == 'E'
}

// inTx reports whether the connection may be inside a transaction.
func (c *conn) inTx() bool {
	pc, ok := c.inner.(interface{ Conn() *pgx.Conn })
	return !ok || pc.Conn().PgConn().TxStatus() != 'I'
}

// internalRow runs one of the driver's own queries on the caller's
// connection and returns its single row as text.
func (c *conn) internalRow(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := c.internalQuery(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("seqshim: internal query returned %d rows, want 1", len(rows))
	}
	return rows[0], nil
}

// internalQuery runs one of the driver's own queries on the caller's
// connection and returns its rows as text. With pgx it bypasses the
// statement cache, so that the application's cache holds only its own
// statements and a DISCARD ALL or DEALLOCATE cannot leave the driver's
// behind.
func (c *conn) internalQuery(ctx context.Context, query string, args ...any) ([][]string, error) {
	var out [][]string
	if pc, ok := c.inner.(interface{ Conn() *pgx.Conn }); ok {
		rows, err := pc.Conn().Query(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return nil, err
			}
			out = append(out, texts(vals))
		}
		return out, rows.Err()
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := c.queryInner(ctx, query, named)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(vals); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = v
		}
		out = append(out, texts(row))
	}
}

func texts(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case string:
			out[i] = v
		case []byte:
			out[i] = string(v)
		case nil:
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// quoteIdent quotes an identifier, keeping its case and every character.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }
