package driver

import (
	"context"
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
	// plans are by SQL text, and by role and search_path too for a text
	// whose tables are unqualified (onPath).
	plans  map[planKey]*rewrite.Plan
	onPath map[string]bool
	limit  int
}

// planKey is a derived plan's SQL text, with the role and search_path its
// unqualified tables were resolved with ("" when it has none).
type planKey struct{ text, user, path string }

func newCatalog(limit int) *catalog {
	return &catalog{tables: make(map[string]*rewrite.Table), plans: make(map[planKey]*rewrite.Plan),
		onPath: make(map[string]bool), limit: limit}
}

// forget drops everything, after DDL.
func (c *catalog) forget() {
	c.mu.Lock()
	clear(c.tables)
	clear(c.plans)
	clear(c.onPath)
	c.mu.Unlock()
}

// plan returns the plan derived for key, and whether the text's plans
// depend on the search_path.
func (c *catalog) plan(key planKey) (p *rewrite.Plan, onPath, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.onPath[key.text] && key.path == "" && key.user == "" {
		return nil, true, false
	}
	p, ok = c.plans[key]
	return p, c.onPath[key.text], ok
}

func (c *catalog) keep(key planKey, p *rewrite.Plan) {
	c.mu.Lock()
	if len(c.plans) >= c.limit {
		clear(c.plans) // bounded: the working set is rebuilt at once
		clear(c.onPath)
	}
	c.plans[key] = p
	if key.path != "" || key.user != "" {
		c.onPath[key.text] = true
	}
	c.mu.Unlock()
}

// columnsQuery lists a table's columns with the sequence their default
// draws from: pg_get_serial_sequence covers serial and identity columns,
// the default expression covers DEFAULT nextval('s') on other sequences.
// The sequence a default's nextval('s') names is also read from pg_depend,
// qualified: pg_get_expr leaves it unqualified when it is visible in the
// search_path of the connection that reads it.
const columnsQuery = `SELECT a.attname, a.attidentity::text,
	coalesce(pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname), ''),
	coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
	coalesce((SELECT format('%I.%I', sn.nspname, s.relname) FROM pg_depend dep
		JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
		JOIN pg_namespace sn ON sn.oid = s.relnamespace
		WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid AND dep.refclassid = 'pg_class'::regclass
		LIMIT 1), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// implicit returns the plan to run for p, a plan that NeedsTables: p
// itself, or the Implicit or Refuse plan rewrite derives from the tables
// p writes to. An unqualified table resolves in the connection's
// search_path, as PostgreSQL resolves it. The result is kept per SQL text
// (and role and search_path, when a table is unqualified) until the
// catalog changes; not when a table is temporary.
func (c *conn) implicit(ctx context.Context, p *rewrite.Plan) (*rewrite.Plan, error) {
	cat := c.c.catalog
	key := planKey{text: p.Original}
	ip, onPath, ok := cat.plan(key)
	if onPath {
		if err := c.knowPath(ctx); err != nil {
			return nil, err
		}
		key.user, key.path = c.names.user, c.names.path
		ip, _, ok = cat.plan(key)
	}
	if ok {
		return ip, nil
	}
	resolved, temp := false, false
	ip, err := c.c.planner.Implicit(p, func(name rewrite.Name) (*rewrite.Table, error) {
		if !name.Qualified() {
			rel, err := c.resolve(ctx, name.Name)
			if err != nil {
				return nil, err
			}
			resolved, temp = true, temp || rel.temp
			if rel.schema == "" {
				return &rewrite.Table{}, nil // PostgreSQL reports it
			}
			name.Schema = rel.schema
		}
		return c.table(ctx, name)
	})
	if err != nil || temp {
		return ip, err
	}
	if resolved {
		key.user, key.path = c.names.user, c.names.path
	}
	cat.keep(key, ip)
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
	rows, err := c.internalQuery(ctx, columnsQuery, name.Schema, name.Name)
	if err != nil {
		return nil, err
	}
	t := &rewrite.Table{}
	for _, r := range rows {
		t.Columns = append(t.Columns, c.c.tableColumn(r[0], r[1], r[2], r[3], r[4]))
	}
	return t, nil
}

// tableColumn describes a column from its pg_attribute.attidentity, its
// pg_get_serial_sequence, its default expression and the sequence that
// expression depends on.
func (c *Connector) tableColumn(name, identity, serialSeq, def, defSeq string) rewrite.TableColumn {
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
		if seq, ok := c.planner.DefaultSequence(def); ok {
			col.Seq = seq
			if n, err := rewrite.ParseName(defSeq, c.cfg.Schema); err == nil && defSeq != "" {
				col.Seq = n // qualified, whatever the reading connection's path
			}
		}
	} else if n, err := rewrite.ParseName(serialSeq, c.cfg.Schema); err == nil {
		col.Seq = n
	}
	return col
}
