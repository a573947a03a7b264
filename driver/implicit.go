package driver

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/seqshim/seqshim/rewrite"
)

// An INSERT that leaves out a column whose default draws from a managed
// sequence (serial, bigserial, identity, DEFAULT nextval('s')) would make
// PostgreSQL draw from its own sequence. The driver adds the column and
// one bind parameter per row, filled from the cache, so the statement
// becomes a Bind plan. What a table's columns are is read from the
// catalog once per table and kept until this process sees DDL pass.

// column is a table column as the catalog describes it.
type column struct {
	name     string
	seq      rewrite.Name // the managed sequence of its default; zero if none
	identity bool         // GENERATED ... AS IDENTITY
	always   bool         // GENERATED ALWAYS AS IDENTITY
}

// table is what the driver knows of a table: its columns in order, and
// whether any draws from a managed sequence.
type table struct {
	cols    []column
	managed bool
}

// catalog caches tables and the Bind plans derived from INSERTs on them.
// It is shared by every connection of a Connector.
type catalog struct {
	mu     sync.RWMutex // read on every INSERT, written once per text and table
	tables map[string]*table
	plans  map[string]*rewrite.Plan // by SQL text; nil value: nothing to add
	limit  int
}

func newCatalog(limit int) *catalog {
	return &catalog{tables: make(map[string]*table), plans: make(map[string]*rewrite.Plan), limit: limit}
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

// implicit returns the plan to run for p, a statement with INSERTs: p
// itself when no managed sequence column is left out, else a Bind plan
// that fills them, or a Refuse plan when they cannot be filled. The
// result is kept per SQL text until DDL is seen.
func (c *conn) implicit(ctx context.Context, p *rewrite.Plan) (*rewrite.Plan, error) {
	cat := c.c.catalog
	cat.mu.RLock()
	ip, ok := cat.plans[p.Original]
	cat.mu.RUnlock()
	if ok {
		if ip == nil {
			return p, nil
		}
		return ip, nil
	}
	ip, err := c.derive(ctx, p)
	if err != nil {
		return nil, err
	}
	cat.mu.Lock()
	if len(cat.plans) >= cat.limit {
		clear(cat.plans) // bounded: the working set is rebuilt at once
	}
	cat.plans[p.Original] = ip
	cat.mu.Unlock()
	if ip == nil {
		return p, nil
	}
	return ip, nil
}

// derive returns the plan that replaces p, or nil when p stands.
func (c *conn) derive(ctx context.Context, p *rewrite.Plan) (*rewrite.Plan, error) {
	for _, name := range p.OtherInserts {
		t, err := c.table(ctx, name)
		if err != nil {
			return nil, err
		}
		if col, ok := t.firstManaged(); ok {
			return refusedPlan(p, fmt.Sprintf("INSERT INTO %s inside WITH or in a string of several statements may leave %s to its default, which PostgreSQL would draw from its own sequence %s; send that INSERT as a statement of its own",
				name, col.name, col.seq.Key())), nil
		}
	}
	if p.Copy != nil && p.Copy.Columns != nil {
		t, err := c.table(ctx, p.Copy.Table)
		if err != nil {
			return nil, err
		}
		for _, col := range t.cols {
			if col.seq != (rewrite.Name{}) && !slices.Contains(p.Copy.Columns, col.name) {
				return refusedPlan(p, fmt.Sprintf("COPY %s leaves %s to its default, which PostgreSQL would draw from its own sequence %s; add the column to the COPY and its values to the data, or insert with INSERT ... VALUES",
					p.Copy.Table, col.name, col.seq.Key())), nil
			}
		}
	}
	if p.Insert == nil {
		return nil, nil
	}
	t, err := c.table(ctx, p.Insert.Table)
	if err != nil || !t.managed {
		return nil, err
	}
	return c.c.fill(p, t)
}

func (t *table) firstManaged() (column, bool) {
	for _, col := range t.cols {
		if col.seq != (rewrite.Name{}) {
			return col, true
		}
	}
	return column{}, false
}

// table reads a table's columns from the catalog, once.
func (c *conn) table(ctx context.Context, name rewrite.Name) (*table, error) {
	cat := c.c.catalog
	key := name.Key()
	cat.mu.RLock()
	t, ok := cat.tables[key]
	cat.mu.RUnlock()
	if ok {
		return t, nil
	}
	rows, err := c.queryInner(ctx, columnsQuery, []driver.NamedValue{
		{Ordinal: 1, Value: name.Schema}, {Ordinal: 2, Value: name.Name}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t = &table{}
	vals := make([]driver.Value, 4)
	for {
		if err := rows.Next(vals); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		identity := asString(vals[1])
		col := column{name: asString(vals[0]), identity: identity != "", always: identity == "a"}
		// An identity column draws from its sequence; any other column only
		// through its default (a serial's sequence stays owned by the
		// column after DROP DEFAULT).
		seq := c.c.defaultSequence(asString(vals[3]))
		if identity != "" {
			seq = asString(vals[2])
		}
		if seq != "" {
			if n, err := rewrite.ParseName(seq, c.c.cfg.Schema); err == nil && c.c.cfg.managed(n.Key()) {
				col.seq, t.managed = n, true
			}
		}
		t.cols = append(t.cols, col)
	}
	cat.mu.Lock()
	cat.tables[key] = t
	cat.mu.Unlock()
	return t, nil
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

// defaultSequence returns the sequence a column default such as
// nextval('s'::regclass) draws from, as written, or "".
func (c *Connector) defaultSequence(expr string) string {
	if !strings.Contains(expr, "nextval") {
		return ""
	}
	p := c.planner.Plan("SELECT " + expr)
	if p.Kind != rewrite.Local || len(p.Calls) != 1 || p.Calls[0].Func != rewrite.Nextval || p.Calls[0].NameParam != 0 {
		return ""
	}
	return p.Calls[0].Seq.Key()
}

// target is a managed sequence column the statement leaves to its default.
type target struct {
	col     column
	pos     int  // position in the statement's column list, -1 when left out
	missing bool // not in the list: the column is added
}

// fill derives the Bind plan that gives every row of p a value for each
// managed sequence column the statement leaves to its default. It returns
// nil when there is none.
func (c *Connector) fill(p *rewrite.Plan, t *table) (*rewrite.Plan, error) {
	ins := p.Insert
	given := make(map[string]int) // column name -> position in the statement's list
	for i, col := range ins.Columns {
		given[col.Name] = i
	}
	if ins.Columns == nil && !ins.DefaultValues && ins.Rows != nil {
		// Without a column list, values fill the table's columns in order.
		for i := range t.cols {
			if i < maxRowLen(ins.Rows) {
				given[t.cols[i].name] = i
			}
		}
	}
	var targets []target
	for _, col := range t.cols {
		if col.seq == (rewrite.Name{}) {
			continue
		}
		pos, listed := given[col.name]
		if !listed {
			targets = append(targets, target{col, -1, true})
			continue
		}
		for _, row := range ins.Rows {
			if pos < len(row.Values) && row.Values[pos].Default {
				targets = append(targets, target{col, pos, false})
				break
			}
		}
	}
	if len(targets) == 0 && ins.Overriding != "USER" {
		return nil, nil
	}
	seqs := make([]string, len(targets))
	for i, tg := range targets {
		seqs[i] = tg.col.seq.Key()
	}
	if ins.Overriding == "USER" {
		for _, col := range t.cols {
			if col.seq != (rewrite.Name{}) && col.identity {
				return refusedPlan(p, fmt.Sprintf("OVERRIDING USER VALUE makes PostgreSQL draw %s.%s from its own sequence %s; drop the clause", ins.Table, col.name, col.seq.Key())), nil
			}
		}
	}
	switch {
	case ins.Select:
		return refusedPlan(p, fmt.Sprintf("INSERT ... SELECT into %s leaves %s to its default, which PostgreSQL would draw from its own sequence %s; list the column and select nextval('%s') for it, or insert with VALUES",
			ins.Table, targets[0].col.name, seqs[0], seqs[0])), nil
	}

	q := &rewrite.Plan{Kind: rewrite.Bind, Original: p.Original, NumParams: p.NumParams, Insert: ins}
	q.Calls = append(q.Calls, p.Calls...)
	edits := slices.Clone(p.Edits)
	next := p.NumParams + len(p.Calls) + 1
	param := func(seq rewrite.Name) string {
		q.Calls = append(q.Calls, rewrite.Call{Func: rewrite.Nextval, Seq: seq, Key: seq.Key(), Param: next})
		next++
		return "$" + strconv.Itoa(next-1)
	}

	var added []column // columns added to the statement's list
	override := ""     // GENERATED ALWAYS columns take a value only with this
	for _, tg := range targets {
		if tg.missing {
			added = append(added, tg.col)
		}
		if tg.col.always && ins.Overriding == "" {
			override = "OVERRIDING SYSTEM VALUE "
		}
	}
	if ins.DefaultValues {
		// INSERT INTO t DEFAULT VALUES -> INSERT INTO t (id) VALUES ($n)
		var vals []string
		for _, col := range added {
			vals = append(vals, param(col.seq))
		}
		edits = append(edits, rewrite.Edit{Start: ins.TargetEnd, End: ins.TargetEnd, Text: " (" + quoteColumns(added) + ")"})
		edits = append(edits, rewrite.Edit{Start: ins.Source.Start, End: ins.Source.End, Text: override + "VALUES (" + strings.Join(vals, ", ") + ")"})
	} else {
		if len(added) > 0 {
			if ins.Columns == nil {
				// Name the columns the values fill, then the added ones.
				n := maxRowLen(ins.Rows)
				listed := make([]column, 0, n+len(added))
				listed = append(listed, t.cols[:min(n, len(t.cols))]...)
				edits = append(edits, rewrite.Edit{Start: ins.TargetEnd, End: ins.TargetEnd,
					Text: " (" + quoteColumns(append(listed, added...)) + ")"})
			} else {
				end := ins.ColumnList.End - 1 // before the closing parenthesis
				edits = append(edits, rewrite.Edit{Start: end, End: end, Text: ", " + quoteColumns(added)})
			}
		}
		for _, row := range ins.Rows {
			for _, tg := range targets {
				if !tg.missing && tg.pos < len(row.Values) && row.Values[tg.pos].Default {
					v := row.Values[tg.pos].Span
					edits = append(edits, rewrite.Edit{Start: v.Start, End: v.End, Text: param(tg.col.seq)})
				}
			}
			var extra []string
			for _, col := range added {
				extra = append(extra, param(col.seq))
			}
			if len(extra) > 0 {
				end := row.Span.End - 1
				edits = append(edits, rewrite.Edit{Start: end, End: end, Text: ", " + strings.Join(extra, ", ")})
			}
		}
		if override != "" {
			edits = append(edits, rewrite.Edit{Start: ins.Source.Start, End: ins.Source.Start, Text: override})
		}
	}
	slices.SortStableFunc(edits, func(a, b rewrite.Edit) int { return a.Start - b.Start })
	q.Edits = edits
	q.SQL = apply(p.Original, edits)
	slices.SortStableFunc(q.Calls, func(a, b rewrite.Call) int { return a.Param - b.Param })
	return q, nil
}

func maxRowLen(rows []rewrite.Row) int {
	n := 0
	for _, r := range rows {
		n = max(n, len(r.Values))
	}
	return n
}

func quoteColumns(cols []column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
	}
	return strings.Join(names, ", ")
}

// apply makes the edits, sorted and not overlapping, to s.
func apply(s string, edits []rewrite.Edit) string {
	var b strings.Builder
	at := 0
	for _, e := range edits {
		b.WriteString(s[at:e.Start])
		b.WriteString(e.Text)
		at = e.End
	}
	b.WriteString(s[at:])
	return b.String()
}

func refusedPlan(p *rewrite.Plan, reason string) *rewrite.Plan {
	return &rewrite.Plan{Kind: rewrite.Refuse, Original: p.Original, SQL: p.Original, Reason: reason, Insert: p.Insert}
}
