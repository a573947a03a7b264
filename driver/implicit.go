package driver

import (
	"context"
	"database/sql/driver"
	"io"
	"sync"

	"github.com/seqshim/seqshim/rewrite"
)

// An INSERT that leaves out a column whose default draws from a managed
// sequence would make PostgreSQL draw from its own sequence; package
// rewrite plans the statement that fills the column (Planner.Implicit)
// from the table's description. The driver reads that description from
// the catalog once per table and keeps it, and the plans derived from it,
// until this process sees a statement that changes the catalog.

// catalog caches tables and the Bind plans derived from INSERTs on them.
// It is shared by every connection of a Connector.
type catalog struct {
	mu     sync.RWMutex // read on every INSERT, written once per text and table
	tables map[string]*rewrite.Table
	plans  map[string]*rewrite.Plan // by SQL text; nil value: nothing to add
	limit  int
}

func newCatalog(limit int) *catalog {
	return &catalog{tables: make(map[string]*rewrite.Table), plans: make(map[string]*rewrite.Plan), limit: limit}
}

// forget drops everything, after DDL.
func (c *catalog) forget() {
	c.mu.Lock()
	clear(c.tables)
	clear(c.plans)
	c.mu.Unlock()
}

// columnsQuery lists a table's columns with the sequence their default
// draws from: pg_get_serial_sequence covers serial and identity columns,
// the default expression covers DEFAULT nextval('s') on other sequences.
const columnsQuery = `SELECT a.attname, a.attidentity::text,
	coalesce(pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname), ''),
	coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// implicit returns the plan to run for p, a plan that NeedsTables: p
// itself, or the Implicit or Refuse plan rewrite derives from the tables
// p writes to. The result is kept per SQL text until the catalog changes.
func (c *conn) implicit(ctx context.Context, p *rewrite.Plan) (*rewrite.Plan, error) {
	cat := c.c.catalog
	cat.mu.RLock()
	ip, ok := cat.plans[p.Original]
	cat.mu.RUnlock()
	if ok {
		return ip, nil
	}
	ip, err := c.c.planner.Implicit(p, func(name rewrite.Name) (*rewrite.Table, error) { return c.table(ctx, name) })
	if err != nil {
		return nil, err
	}
	cat.mu.Lock()
	if len(cat.plans) >= cat.limit {
		clear(cat.plans) // bounded: the working set is rebuilt at once
	}
	cat.plans[p.Original] = ip
	cat.mu.Unlock()
	return ip, nil
}

// table reads a table's columns from the catalog, once.
func (c *conn) table(ctx context.Context, name rewrite.Name) (*rewrite.Table, error) {
	cat := c.c.catalog
	key := name.Key()
	cat.mu.RLock()
	t, ok := cat.tables[key]
	cat.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := c.readTable(ctx, name)
	if err != nil {
		return nil, err
	}
	cat.mu.Lock()
	cat.tables[key] = t
	cat.mu.Unlock()
	return t, nil
}

// readTable describes a table from the catalog.
func (c *conn) readTable(ctx context.Context, name rewrite.Name) (*rewrite.Table, error) {
	rows, err := c.queryInner(ctx, columnsQuery, []driver.NamedValue{
		{Ordinal: 1, Value: name.Schema}, {Ordinal: 2, Value: name.Name}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &rewrite.Table{}
	vals := make([]driver.Value, 4)
	for {
		if err := rows.Next(vals); err == io.EOF {
			return t, nil
		} else if err != nil {
			return nil, err
		}
		t.Columns = append(t.Columns, c.c.tableColumn(asString(vals[0]), asString(vals[1]), asString(vals[2]), asString(vals[3])))
	}
}

// tableColumn describes a column from its pg_attribute.attidentity, its
// pg_get_serial_sequence and its default expression.
func (c *Connector) tableColumn(name, identity, serialSeq, def string) rewrite.TableColumn {
	col := rewrite.TableColumn{Name: name}
	switch identity {
	case "a":
		col.Identity = rewrite.IdentityAlways
	case "d":
		col.Identity = rewrite.IdentityByDefault
	}
	// An identity column draws from its sequence; any other column only
	// through its default (a serial's sequence stays owned by the column
	// after DROP DEFAULT).
	if identity == "" {
		col.Seq, _ = c.planner.DefaultSequence(def)
	} else if n, err := rewrite.ParseName(serialSeq, c.cfg.Schema); err == nil {
		col.Seq = n
	}
	return col
}

func asString(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
