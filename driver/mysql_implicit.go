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
// gives the column its values (see rewrite.PlanMySQLImplicit). What a
// table's columns are is read from information_schema once per table and
// kept until this process sees DDL; a table the store lacks is left to
// MariaDB until then too.

// myTable is what the driver knows of a table; nil: not managed.
type myTable = rewrite.MySQLTable

// myDerived is the plan to run for a text: the planner's, or the one
// that fills an AUTO_INCREMENT column, with the caller's parameters that
// give that column its value.
type myDerived struct {
	plan   *rewrite.Plan
	caller []int
	stmt   rewrite.MySQLStatement
}

type myPlanKey struct {
	sql  string
	zero bool // the session's 0 generates a value
}

// myCatalog caches, for every connection of a Connector, the statements'
// descriptions, the tables and the derived plans.
type myCatalog struct {
	mu     sync.RWMutex
	stmts  map[string]rewrite.MySQLStatement
	tables map[string]*myTable
	plans  map[myPlanKey]*myDerived
	limit  int
}

func newMyCatalog(limit int) *myCatalog {
	return &myCatalog{stmts: make(map[string]rewrite.MySQLStatement), tables: make(map[string]*myTable),
		plans: make(map[myPlanKey]*myDerived), limit: limit}
}

// forget drops the tables and derived plans, after DDL.
func (m *myCatalog) forget() {
	m.mu.Lock()
	clear(m.tables)
	clear(m.plans)
	m.mu.Unlock()
}

// describe returns the statement's description, computed once per text.
func (m *myCatalog) describe(sql, schema string) rewrite.MySQLStatement {
	m.mu.RLock()
	d, ok := m.stmts[sql]
	m.mu.RUnlock()
	if ok {
		return d
	}
	d = rewrite.DescribeMySQL(sql, schema)
	m.mu.Lock()
	if len(m.stmts) >= m.limit {
		clear(m.stmts)
	}
	m.stmts[sql] = d
	m.mu.Unlock()
	return d
}

// plan returns how to run query on this connection.
func (c *myConn) plan(ctx context.Context, query string) (*myDerived, error) {
	p := c.c.planner.Plan(query)
	m := c.c.my
	st := m.describe(query, c.c.cfg.Schema)
	if st.Insert == nil || p.Kind != rewrite.Pass && p.Kind != rewrite.Bind {
		return &myDerived{plan: p, stmt: st}, nil
	}
	t, err := c.table(ctx, st.Insert.Table)
	if err != nil || t == nil {
		return &myDerived{plan: p, stmt: st}, err
	}
	zero, err := c.zeroGenerates(ctx)
	if err != nil {
		return nil, err
	}
	key := myPlanKey{query, zero}
	m.mu.RLock()
	d := m.plans[key]
	m.mu.RUnlock()
	if d != nil {
		return d, nil
	}
	tc := *t
	tc.ZeroGenerates = zero
	ip, caller := rewrite.PlanMySQLImplicit(p, st.Insert, &tc)
	d = &myDerived{plan: ip, caller: caller, stmt: st}
	m.mu.Lock()
	if len(m.plans) >= m.limit {
		clear(m.plans)
	}
	m.plans[key] = d
	m.mu.Unlock()
	return d, nil
}

// table returns the managed table n, or nil.
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

// readTable reads n's columns and whether its AUTO_INCREMENT is managed.
func (c *Connector) readTable(ctx context.Context, n rewrite.Name) (*myTable, error) {
	key := n.Key()
	if !c.cfg.managed(key) {
		return nil, nil
	}
	rows, err := c.metaDB().QueryContext(ctx, `SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, n.Schema, n.Name)
	if err != nil {
		return nil, fmt.Errorf("seqshim: reading the columns of %s: %w", key, err)
	}
	defer rows.Close()
	t := &myTable{Seq: n, Key: key}
	for rows.Next() {
		var col, extra string
		if err := rows.Scan(&col, &extra); err != nil {
			return nil, err
		}
		t.Columns = append(t.Columns, col)
		if strings.Contains(strings.ToLower(extra), "auto_increment") {
			t.Auto = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if t.Auto == "" {
		return nil, nil
	}
	if _, err := c.shared.cache.Get(ctx, key); err != nil {
		if errors.Is(err, seqcache.ErrUnknownSequence) {
			return nil, nil // not imported: MariaDB keeps the table's AUTO_INCREMENT
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

// checkCaller refuses a statement whose caller parameter would make
// MariaDB generate the AUTO_INCREMENT value: NULL, or 0 where 0 generates.
func (c *myConn) checkCaller(d *myDerived, args []driver.NamedValue) error {
	for _, n := range d.caller {
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
				"seqshim: the INSERT into %s gives its AUTO_INCREMENT column %v through parameter %d, which MariaDB would generate; seqshim gives those values only for a column left out or written NULL or DEFAULT in the SQL: leave the column out of the INSERT",
				d.stmt.Insert.Table.Key(), v, n), nil)
		}
	}
	return nil
}

// after updates what the connection knows once a statement has run.
func (c *myConn) after(d *myDerived) {
	if d.stmt.DDL {
		c.c.my.forget()
	}
	if d.stmt.Set {
		c.modeKnown = false
	}
}
