package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/internal/checked"
)

// DB is what migrate needs of PostgreSQL: *sql.DB and *sql.Conn over pgx
// (or any driver) satisfy it. Import and export run one transaction per
// sequence on it.
type DB interface {
	querier
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// querier is *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Native is a database sequence as pg_sequences describes it.
type Native struct {
	Schema, Name string
	DataType     string // smallint, integer or bigint
	Start        int64
	Increment    int64
	MinValue     int64
	MaxValue     int64
	Cycle        bool
	Cache        int64
	// LastValue is the sequence's last_value column: the last value handed
	// out when Called (with CACHE > 1 it includes the values sessions hold
	// in their caches), else the value the next nextval returns.
	LastValue int64
	Called    bool // is_called
}

// Key is the sequence's store key, "schema.name".
func (n Native) Key() string { return n.Schema + "." + n.Name }

// Ident is the sequence's name quoted for SQL text.
func (n Native) Ident() string { return pgx.Identifier{n.Schema, n.Name}.Sanitize() }

// Ascending reports whether values grow.
func (n Native) Ascending() bool { return n.Increment > 0 }

// Limit is the database's limit in the sequence's direction: MAXVALUE when
// ascending, MINVALUE when descending. Import caps it.
func (n Native) Limit() int64 {
	if n.Ascending() {
		return n.MaxValue
	}
	return n.MinValue
}

// Next is the value the database's next nextval returns; false when the
// sequence is at its limit (it fails with 2200H, or wraps with CYCLE).
func (n Native) Next() (int64, bool) {
	if !n.Called {
		return n.LastValue, true
	}
	v, ok := checked.Add(n.LastValue, n.Increment)
	if !ok || v < n.MinValue || v > n.MaxValue {
		return 0, false
	}
	return v, true
}

// nativeQuery reads pg_sequences. last_value is NULL when the sequence was
// never called (or lacks privileges); is_called is then read from the
// sequence itself.
const nativeQuery = `SELECT schemaname::text, sequencename::text, data_type::text,
	start_value, increment_by, min_value, max_value, cycle, cache_size, last_value
FROM pg_catalog.pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
	AND schemaname NOT LIKE 'pg\_temp\_%' AND schemaname NOT LIKE 'pg\_toast%'`

// ReadNative returns the database's sequences, ordered by key: those with
// the given store keys ("schema.name"), or every one when keys is empty.
// A key the database does not have is a 42P01 error naming it.
func ReadNative(ctx context.Context, db DB, keys ...string) ([]Native, error) {
	return readNative(ctx, db, keys, nil)
}

// readNative reads the sequences with the given keys (all when empty) that
// keep accepts (all when nil).
func readNative(ctx context.Context, q querier, keys []string, keep func(key string) bool) ([]Native, error) {
	query, args := nativeQuery, []any(nil)
	if len(keys) == 1 {
		schema, name, _ := strings.Cut(keys[0], ".")
		query += " AND schemaname = $1 AND sequencename = $2"
		args = []any{schema, name}
	}
	query += " ORDER BY 1, 2"
	all, last, err := scanNative(ctx, q, query, args)
	for try := 1; try < 3 && droppedMeanwhile(err); try++ {
		all, last, err = scanNative(ctx, q, query, args)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: reading pg_sequences: %w", err)
	}

	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	var out []Native
	for i, n := range all {
		if len(keys) > 0 && !want[n.Key()] {
			continue
		}
		delete(want, n.Key())
		if keep != nil && !keep(n.Key()) {
			continue
		}
		if last[i].Valid {
			n.LastValue, n.Called = last[i].Int64, true
		} else if err := readState(ctx, q, &n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	var missing []error
	for _, k := range keys {
		if want[k] {
			missing = append(missing, notInDatabase(k))
			delete(want, k)
		}
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	return out, nil
}

// readState reads last_value and is_called from the sequence itself.
func readState(ctx context.Context, q querier, n *Native) error {
	rows, err := q.QueryContext(ctx, "SELECT last_value, is_called FROM "+n.Ident())
	if err == nil {
		if rows.Next() {
			err = rows.Scan(&n.LastValue, &n.Called)
		} else if err = rows.Err(); err == nil {
			err = errors.New("no row")
		}
		rows.Close()
	}
	if err == nil {
		return nil
	}
	if code(err) == codeInsufficientPrivilege {
		return failure(n.Key(), codeInsufficientPrivilege, "cannot read its last value",
			fmt.Sprintf("GRANT SELECT ON SEQUENCE %s TO the user migrating, or run as the sequence's owner", n.Ident()), err)
	}
	return failure(n.Key(), codeConnectionFailure, "reading last_value and is_called", "", err)
}

// code is the SQLSTATE of a PostgreSQL error, "" for others.
func code(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// scanNative runs a query of pg_sequences: the sequences and their
// last_value column.
func scanNative(ctx context.Context, q querier, query string, args []any) ([]Native, []sql.NullInt64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var all []Native
	var last []sql.NullInt64
	for rows.Next() {
		var n Native
		var lv sql.NullInt64
		if err := rows.Scan(&n.Schema, &n.Name, &n.DataType, &n.Start, &n.Increment,
			&n.MinValue, &n.MaxValue, &n.Cycle, &n.Cache, &lv); err != nil {
			return nil, nil, err
		}
		all = append(all, n)
		last = append(last, lv)
	}
	return all, last, rows.Err()
}

// droppedMeanwhile reports PostgreSQL's XX000 "could not open relation
// with OID": pg_sequences reads each sequence's last value after taking
// its list from the catalog, so a sequence dropped by another session in
// between fails the whole query. Reading again sees the catalog without it.
func droppedMeanwhile(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "XX000" && strings.HasPrefix(pe.Message, "could not open relation with OID")
}
