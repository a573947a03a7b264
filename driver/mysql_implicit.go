package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// An INSERT that leaves a managed AUTO_INCREMENT column to MariaDB would
// make MariaDB generate the value. A table's AUTO_INCREMENT is managed when
// the store has a sequence named after the table (db.table, put there by
// `seqshim import`) and the allow/deny lists let it; the driver then
// gives the column its values (see rewrite's Planner.Implicit). What a
// table's columns are is read from information_schema once per table and
// kept until this process sees DDL; a table the store lacks is left to
// MariaDB until then too.

// myTable is what the driver knows of a table: its columns, and its
// AUTO_INCREMENT column when the store has the table's sequence.
type myTable struct {
	cols []string
	auto string // "" when none, or not imported
	seq  rewrite.Name
}

type myPlanKey struct {
	sql  string
	db   string // the session's database after USE, "" before
	zero bool   // the session's 0 generates a value
}

// myCatalog caches, for every connection of a Connector, the tables and
// the plans derived from INSERTs on them.
type myCatalog struct {
	mu       sync.RWMutex
	tables   map[string]*myTable
	plans    map[myPlanKey]*rewrite.Plan
	planners map[string]*rewrite.Planner // by database, for sessions moved by USE
	limit    int
}

func newMyCatalog(limit int) *myCatalog {
	return &myCatalog{tables: make(map[string]*myTable), plans: make(map[myPlanKey]*rewrite.Plan),
		planners: make(map[string]*rewrite.Planner), limit: limit}
}

// planner returns the planner of the session: the Connector's, or after
// USE another database one whose unqualified names are in that database.
func (c *myConn) planner() *rewrite.Planner {
	if c.db == "" || c.db == c.c.cfg.Schema {
		return c.c.planner
	}
	m := c.c.my
	m.mu.RLock()
	p := m.planners[c.db]
	m.mu.RUnlock()
	if p != nil {
		return p
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p = m.planners[c.db]; p == nil {
		if len(m.planners) >= 64 {
			clear(m.planners)
		}
		p = rewrite.NewPlanner(c.c.plannerOptions(c.db))
		m.planners[c.db] = p
	}
	return p
}

// forget drops the tables and derived plans, after DDL.
func (m *myCatalog) forget() {
	m.mu.Lock()
	clear(m.tables)
	clear(m.plans)
	m.mu.Unlock()
}

// plan returns how to run query on this connection: the planner's plan,
// or for an INSERT into a table whose AUTO_INCREMENT seqshim manages, the
// plan rewrite derives from the table's description.
func (c *myConn) plan(ctx context.Context, query string) (*rewrite.Plan, error) {
	planner := c.planner()
	p := planner.Plan(query)
	if !p.NeedsTables() {
		return p, nil
	}
	zero, err := c.zeroGenerates(ctx)
	if err != nil {
		return nil, err
	}
	m := c.c.my
	key := myPlanKey{query, c.db, zero}
	m.mu.RLock()
	d := m.plans[key]
	m.mu.RUnlock()
	if d != nil {
		return d, nil
	}
	d, err = planner.Implicit(p, func(n rewrite.Name) (*rewrite.Table, error) {
		t, err := c.table(ctx, n)
		if err != nil {
			return nil, err
		}
		desc := &rewrite.Table{ZeroGenerates: zero}
		for _, col := range t.cols {
			tc := rewrite.TableColumn{Name: col}
			if col == t.auto {
				tc.Seq = t.seq
			}
			desc.Columns = append(desc.Columns, tc)
		}
		return desc, nil
	})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if len(m.plans) >= m.limit {
		clear(m.plans)
	}
	m.plans[key] = d
	m.mu.Unlock()
	return d, nil
}

// table returns what the driver knows of table n.
func (c *myConn) table(ctx context.Context, n rewrite.Name) (*myTable, error) {
	m := c.c.my
	key := n.Key()
	m.mu.RLock()
	t, ok := m.tables[key]
	m.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := c.c.readTable(ctx, n)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.tables[key] = t
	m.mu.Unlock()
	return t, nil
}

// readTable reads n's columns and AUTO_INCREMENT column; the latter counts
// only when the store has the sequence n (seqshim import puts it there).
// Whether the allow/deny lists manage it is the planner's to decide.
func (c *Connector) readTable(ctx context.Context, n rewrite.Name) (*myTable, error) {
	key := n.Key()
	rows, err := c.metaDB().QueryContext(ctx, `SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, n.Schema, n.Name)
	if err != nil {
		return nil, fmt.Errorf("seqshim: reading the columns of %s: %w", key, err)
	}
	defer rows.Close()
	t := &myTable{seq: n}
	for rows.Next() {
		var col, extra string
		if err := rows.Scan(&col, &extra); err != nil {
			return nil, err
		}
		t.cols = append(t.cols, col)
		if strings.Contains(strings.ToLower(extra), "auto_increment") {
			t.auto = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if t.auto == "" || !c.cfg.managed(key) {
		return t, nil
	}
	if _, err := c.shared.cache.Get(ctx, key); err != nil {
		if errors.Is(err, seqcache.ErrUnknownSequence) {
			t.auto = "" // not imported: MariaDB keeps the table's AUTO_INCREMENT
			return t, nil
		}
		return nil, mySeqErr(n, err)
	}
	return t, nil
}

// metaDB returns plain connections to the base driver, for catalog reads
// outside the caller's connection and transaction.
func (c *Connector) metaDB() *sql.DB {
	c.importOnce.Do(func() {
		c.importDB = sql.OpenDB(unclosable{c.base})
		c.importDB.SetMaxOpenConns(2)
	})
	return c.importDB
}

// zeroGenerates reports whether 0 in an AUTO_INCREMENT column generates a
// value in this session: sql_mode without NO_AUTO_VALUE_ON_ZERO. It is read
// once, and again after a SET statement.
func (c *myConn) zeroGenerates(ctx context.Context) (bool, error) {
	if c.modeKnown {
		return c.zeroGen, nil
	}
	rows, err := base(c).query(ctx, "SELECT @@SESSION.sql_mode", nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	vals := make([]driver.Value, 1)
	if err := rows.Next(vals); err != nil && err != io.EOF {
		return false, err
	}
	var mode string
	switch v := vals[0].(type) {
	case []byte:
		mode = string(v)
	case string:
		mode = v
	}
	c.zeroGen, c.modeKnown = !strings.Contains(strings.ToUpper(mode), "NO_AUTO_VALUE_ON_ZERO"), true
	return c.zeroGen, nil
}

// checkNulls refuses an execution whose parameter would make MariaDB
// generate a managed AUTO_INCREMENT value: NULL, or 0 where 0 generates.
func (c *myConn) checkNulls(p *rewrite.Plan, args []driver.NamedValue) error {
	for _, n := range p.NullChecks {
		v, err := myArgAt(args, n)
		if err != nil {
			return err
		}
		zero := false
		switch x := v.(type) {
		case int64:
			zero = x == 0
		case uint64:
			zero = x == 0
		case string:
			zero = x == "0"
		}
		if v == nil || zero && c.zeroGen {
			return myErr(erNotSupported, "42000", fmt.Sprintf(
				"seqshim: this INSERT gives its AUTO_INCREMENT column %v through parameter %d, which MariaDB would turn into a value of its own; seqshim gives the values of a column left out or written NULL or DEFAULT in the SQL: leave the column out of the INSERT (%.80s)",
				v, n, p.Original), nil)
		}
	}
	return nil
}

// after acts on what a statement did once it has run: DDL may change a
// table's columns or AUTO_INCREMENT; SET may change sql_mode.
func (c *myConn) after(p *rewrite.Plan) {
	for _, f := range p.Facts {
		switch f.Kind {
		case rewrite.CatalogChange:
			c.c.my.forget()
		case rewrite.Setting:
			if f.Command == "USE" {
				c.db = f.Value
			} else {
				c.modeKnown = false
			}
		}
	}
}
