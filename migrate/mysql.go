package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/seqshim/seqshim/seqcache"
)

// MariaDB (and MySQL) migration. A MariaDB database has two kinds of
// counters seqshim can take over, both keyed "database.name" in the store:
//
//   - sequences (CREATE SEQUENCE, MariaDB 10.3 and later): import creates
//     the store's sequence past next_not_cached_value (every value below it
//     may have been handed out, from the server's cache too) by the gap,
//     and caps MariaDB's sequence just below with ALTER SEQUENCE ...
//     MAXVALUE (MINVALUE when descending) NOCYCLE, which also drops the
//     server's cached values: a stray native NEXTVAL past the cap fails with
//     4084 ("has run out") instead of colliding;
//   - AUTO_INCREMENT tables: import creates the store's sequence past the
//     table's counter and its largest id by the gap. An AUTO_INCREMENT
//     counter has no limit to lower, so MariaDB cannot be capped: instances
//     still inserting natively draw ids below the store's start for the
//     length of the gap, and past it the column's unique key turns a
//     collision into error 1062 (duplicate entry), never a silent
//     duplicate. Import therefore requires a PRIMARY KEY or UNIQUE index on
//     the column alone. MariaDB also moves the counter past every id
//     inserted (seqshim's too), so native inserts after a switch draw past
//     seqshim's ids, and a later store value equal to one of them fails
//     with 1062 as well.
//
// Export moves MariaDB past the store by the gap (ALTER SEQUENCE ... RESTART
// WITH, or ALTER TABLE ... AUTO_INCREMENT =) and restores a sequence's
// limits; it never moves MariaDB back. Status reports where each stands.

// MySQL is a database handle on MariaDB or MySQL, such as *sql.DB over
// go-sql-driver/mysql.
type MySQL interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// mysqlObject is a MariaDB sequence or AUTO_INCREMENT table read as a
// Native, with what the table kind needs besides.
type mysqlObject struct {
	Native
	table  bool   // an AUTO_INCREMENT table
	column string // its AUTO_INCREMENT column
	unique bool   // a PRIMARY KEY or UNIQUE index on the column alone
}

func quoteMy(parts ...string) string {
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// readMySQL reads the sequences and AUTO_INCREMENT tables of schema (the
// connection's database when empty) that keep accepts.
func readMySQL(ctx context.Context, db MySQL, schema string, keep func(string) bool) ([]mysqlObject, error) {
	if schema == "" {
		if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("migrate: reading the database name: %w", err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT t.TABLE_NAME, t.TABLE_TYPE, COALESCE(t.AUTO_INCREMENT, 0), COALESCE(c.COLUMN_NAME, ''), COALESCE(c.COLUMN_TYPE, '')
		FROM information_schema.TABLES t
		LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
			AND c.EXTRA LIKE '%auto_increment%'
		WHERE t.TABLE_SCHEMA = ? AND (t.TABLE_TYPE = 'SEQUENCE' OR c.COLUMN_NAME IS NOT NULL)
		ORDER BY t.TABLE_NAME`, schema)
	if err != nil {
		return nil, fmt.Errorf("migrate: reading information_schema: %w", err)
	}
	type found struct {
		name, kind, column, ctype string
		counter                   uint64
	}
	var all []found
	for rows.Next() {
		var f found
		if err := rows.Scan(&f.name, &f.kind, &f.counter, &f.column, &f.ctype); err != nil {
			rows.Close()
			return nil, fmt.Errorf("migrate: reading information_schema: %w", err)
		}
		if keep == nil || keep(schema+"."+f.name) {
			all = append(all, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: reading information_schema: %w", err)
	}
	out := make([]mysqlObject, 0, len(all))
	for _, f := range all {
		o := mysqlObject{Native: Native{Schema: schema, Name: f.name}}
		if f.kind == "SEQUENCE" {
			err = readMySQLSequence(ctx, db, &o)
		} else {
			o.table, o.column = true, f.column
			err = readMySQLTable(ctx, db, &o, f.counter, f.ctype)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// readMySQLSequence reads a sequence's parameters and position. Every value
// below next_not_cached_value may have been handed out.
func readMySQLSequence(ctx context.Context, db MySQL, o *mysqlObject) error {
	var next int64
	var cache uint64
	var cycle int
	err := db.QueryRowContext(ctx, "SELECT next_not_cached_value, minimum_value, maximum_value, start_value, increment, cache_size, cycle_option FROM "+
		quoteMy(o.Schema, o.Name)).Scan(&next, &o.MinValue, &o.MaxValue, &o.Start, &o.Increment, &cache, &cycle)
	if err != nil {
		return fmt.Errorf("migrate: reading sequence %s: %w", o.Key(), err)
	}
	o.DataType, o.Cycle, o.Cache = "bigint", cycle != 0, int64(min(cache, math.MaxInt64))
	if o.Increment == 0 {
		return fmt.Errorf("migrate: sequence %s has INCREMENT 0, which follows @@auto_increment_increment: "+
			"seqshim needs a fixed increment: fix: ALTER SEQUENCE %s INCREMENT BY 1 (or the increment the servers use)", o.Key(), quoteMy(o.Schema, o.Name))
	}
	if next == o.Start {
		o.LastValue, o.Called = next, false // never called (or restarted)
	} else {
		o.LastValue, o.Called = next-o.Increment, true
	}
	return nil
}

// readMySQLTable reads an AUTO_INCREMENT table's counter, largest id and
// unique key. Its next id is past both.
func readMySQLTable(ctx context.Context, db MySQL, o *mysqlObject, counter uint64, ctype string) error {
	var largest sql.NullInt64
	q := "SELECT MAX(" + quoteMy(o.column) + ") FROM " + quoteMy(o.Schema, o.Name)
	if err := db.QueryRowContext(ctx, q).Scan(&largest); err != nil {
		return fmt.Errorf("migrate: reading table %s: %w", o.Key(), err)
	}
	var step uint64
	if err := db.QueryRowContext(ctx, "SELECT @@auto_increment_increment").Scan(&step); err != nil {
		return fmt.Errorf("migrate: reading @@auto_increment_increment: %w", err)
	}
	var uniques int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT INDEX_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
		GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = ?) k`, o.Schema, o.Name, o.column).Scan(&uniques)
	if err != nil {
		return fmt.Errorf("migrate: reading the indexes of %s: %w", o.Key(), err)
	}
	o.unique = uniques > 0
	o.DataType, o.Start, o.Increment, o.MinValue, o.Cache = ctype, 1, int64(max(step, 1)), 1, 1
	o.MaxValue = typeMax(ctype)
	next := int64(min(counter, math.MaxInt64))
	if largest.Valid && largest.Int64 >= next {
		next = largest.Int64 + 1
	}
	if next <= 1 {
		o.LastValue, o.Called = 1, false
	} else {
		o.LastValue, o.Called = next-1, true
	}
	return nil
}

// typeMax is the largest value of an integer column type, capped at the
// store's int64.
func typeMax(ctype string) int64 {
	t := strings.ToLower(ctype)
	unsigned := strings.Contains(t, "unsigned")
	switch {
	case strings.HasPrefix(t, "tinyint"):
		return map[bool]int64{false: math.MaxInt8, true: math.MaxUint8}[unsigned]
	case strings.HasPrefix(t, "smallint"):
		return map[bool]int64{false: math.MaxInt16, true: math.MaxUint16}[unsigned]
	case strings.HasPrefix(t, "mediumint"):
		return map[bool]int64{false: 1<<23 - 1, true: 1<<24 - 1}[unsigned]
	case strings.HasPrefix(t, "int"):
		return map[bool]int64{false: math.MaxInt32, true: math.MaxUint32}[unsigned]
	}
	return math.MaxInt64
}

// mysqlSelect reads what opts selects and checks Only.
func mysqlSelect(ctx context.Context, db MySQL, opts Options) ([]mysqlObject, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	objs, err := readMySQL(ctx, db, opts.Schema, opts.managed)
	if err != nil {
		return nil, err
	}
	for _, k := range opts.Only {
		if !slicesContainsKey(objs, k) {
			e := seqcache.UnknownSequence(k)
			e.Hint = "the database has no sequence or AUTO_INCREMENT table of that name: check the name and --schema"
			return nil, e
		}
	}
	return objs, nil
}

func slicesContainsKey(objs []mysqlObject, key string) bool {
	for _, o := range objs {
		if o.Key() == key {
			return true
		}
	}
	return false
}

// mysqlPlanImport is planImport with MariaDB's statements.
func mysqlPlanImport(o mysqlObject, e *seqcache.Sequence, gap int64) Step {
	if o.table && !o.unique {
		return Step{Key: o.Key(), Native: &o.Native, Store: e, Action: ActionFail, Err: fmt.Errorf(
			"table %s: its AUTO_INCREMENT column %s has no PRIMARY KEY or UNIQUE index of its own; AUTO_INCREMENT cannot be capped, and without such a key an id drawn by both sides would be a silent duplicate: fix: add one (ALTER TABLE %s ADD UNIQUE (%s)) or leave the table out (--only, --deny)",
			o.Key(), o.column, quoteMy(o.Schema, o.Name), quoteMy(o.column))}
	}
	st := planImport(o.Native, e, gap)
	if st.Action == ActionFail || st.Action == ActionDone {
		return st
	}
	if o.table {
		st.SQL = nil // nothing to cap
		st.Cap = o.MaxValue
		next, _ := o.Next()
		st.Note = fmt.Sprintf("create in the store at %d (MariaDB's next id %d); AUTO_INCREMENT cannot be capped: native inserts reach the store's ids after %d more, and the unique key on %s then fails them with 1062",
			st.StoreNext, next, remainingBetween(o.Native, o.LastValue, st.StoreNext-o.Increment), o.column)
		if st.Action == ActionStop {
			st.Action, st.Err = ActionFail, fmt.Errorf("table %s: MariaDB's ids have reached the store's (store next %d); fix: move the store forward by hand (seqshim setval) past MAX(%s) and import again",
				o.Key(), st.StoreNext, o.column)
		}
		return st
	}
	st.SQL = []string{mysqlCapSQL(o.Native, st.Cap)}
	return st
}

// mysqlCapSQL caps a MariaDB sequence at limit: MAXVALUE (MINVALUE when
// descending), START WITH moved inside when it is beyond, and NOCYCLE.
func mysqlCapSQL(n Native, limit int64) string {
	s := "ALTER SEQUENCE " + quoteMy(n.Schema, n.Name) + " " + limitWord(n) + " " + strconv.FormatInt(limit, 10)
	if before(n.Ascending(), limit, n.Start) {
		s += " START WITH " + strconv.FormatInt(limit, 10)
	}
	if n.Cycle {
		s += " NOCYCLE"
	}
	return s
}

// MySQLPlanImport returns what MySQLImport would do, changing nothing.
func MySQLPlanImport(ctx context.Context, db MySQL, store seqcache.Store, opts Options) ([]Step, error) {
	objs, err := mysqlSelect(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, 0, len(objs))
	for _, o := range objs {
		e, err := getSequence(ctx, store, o.Key())
		if err != nil {
			return nil, err
		}
		steps = append(steps, mysqlPlanImport(o, e, opts.gap()))
	}
	return steps, nil
}

// MySQLImport imports the sequences and AUTO_INCREMENT tables opts selects:
// each is capped first (sequences), then created in the store. A lock
// named after the key (GET_LOCK) makes concurrent importers take turns.
// Steps that cannot be done are returned with their Err, and joined in the
// error.
func MySQLImport(ctx context.Context, db *sql.DB, store seqcache.Store, opts Options) ([]Step, error) {
	objs, err := mysqlSelect(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	var steps []Step
	var errs []error
	for _, o := range objs {
		st, err := mysqlImportOne(ctx, db, store, o.Key(), opts)
		if err != nil {
			errs = append(errs, err)
		}
		steps = append(steps, st)
	}
	return steps, errors.Join(errs...)
}

func mysqlImportOne(ctx context.Context, db *sql.DB, store seqcache.Store, key string, opts Options) (Step, error) {
	st := Step{Key: key, Action: ActionFail}
	conn, unlock, err := mysqlLock(ctx, db, key, opts)
	if err != nil {
		st.Err = err
		return st, err
	}
	defer unlock()
	only := opts
	only.Only = []string{key}
	objs, err := mysqlSelect(ctx, conn, only)
	if err != nil {
		st.Err = err
		return st, err
	}
	e, err := getSequence(ctx, store, key)
	if err != nil {
		st.Err = err
		return st, err
	}
	st = mysqlPlanImport(objs[0], e, opts.gap())
	if st.Action == ActionFail || st.Action == ActionDone {
		return st, st.Err
	}
	for _, q := range st.SQL {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			st.Action, st.Err = ActionFail, fmt.Errorf("sequence %s: %s: %w; nothing else was changed", key, q, err)
			return st, st.Err
		}
	}
	switch st.Action {
	case ActionCreate:
		if err := store.Create(ctx, st.Spec); err != nil {
			st.Action, st.Err = ActionFail, fmt.Errorf("%s: creating it in the store: %w; the cap stays (it only limits MariaDB): fix: run import again", key, err)
			return st, st.Err
		}
	case ActionStop:
		if err := moveForward(ctx, store, st); err != nil {
			st.Action, st.Err = ActionFail, err
			return st, err
		}
	}
	st.Applied = true
	return st, nil
}

// ErrNotSequence: MySQLImportSequence was given the name of a table.
var ErrNotSequence = errors.New("not a SEQUENCE")

// MySQLImportSequence imports the MariaDB sequence key ("db.name") as
// MySQLImport does, and nothing else: it is the driver's lazy import. A
// name the database lacks is seqcache's UnknownSequence error; the name of
// a table (whose AUTO_INCREMENT only `seqshim import` takes) is
// ErrNotSequence.
func MySQLImportSequence(ctx context.Context, db *sql.DB, store seqcache.Store, key string, opts Options) (Step, error) {
	schema, _, _ := strings.Cut(key, ".")
	opts.Schema, opts.Only = schema, []string{key}
	objs, err := mysqlSelect(ctx, db, opts)
	if err == nil && objs[0].table {
		err = fmt.Errorf("%s: %w", key, ErrNotSequence)
	}
	if err != nil {
		return Step{Key: key, Action: ActionFail, Err: err}, err
	}
	return mysqlImportOne(ctx, db, store, key, opts)
}

// mysqlLock takes the migration lock of key on a connection of its own.
func mysqlLock(ctx context.Context, db *sql.DB, key string, opts Options) (*sql.Conn, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	name := "seqshim:" + key
	if len(name) > 64 { // MariaDB's limit on lock names
		name = name[:64]
	}
	var got sql.NullInt64
	secs := max(1, int(opts.lockTimeout().Seconds()))
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, secs).Scan(&got); err != nil || got.Int64 != 1 {
		conn.Close()
		if err == nil {
			err = fmt.Errorf("%s: another import or export holds its lock %q for more than %ds: fix: wait for it, or raise --lock-timeout", key, name, secs)
		}
		return nil, nil, err
	}
	return conn, func() {
		conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", name)
		conn.Close()
	}, nil
}

// mysqlPlanExport is planExport with MariaDB's statements.
func mysqlPlanExport(o mysqlObject, e seqcache.Sequence, gap int64) Step {
	st := planExport(o.Native, e, gap)
	if st.Action != ActionRestore {
		return st
	}
	if st.NativeExhausted {
		st.Action, st.Err = ActionFail, fmt.Errorf("%s: the store has (nearly) reached its limit %d: fix: export it by hand once the store is no longer used", o.Key(), e.Limit())
		return st
	}
	if o.table {
		st.SQL = []string{"ALTER TABLE " + quoteMy(o.Schema, o.Name) + " AUTO_INCREMENT = " + strconv.FormatInt(st.NativeNext, 10)}
		return st
	}
	cycle := "NOCYCLE"
	if e.Cycle {
		cycle = "CYCLE"
	}
	st.SQL = []string{fmt.Sprintf("ALTER SEQUENCE %s MINVALUE %d MAXVALUE %d %s START WITH %d RESTART WITH %d",
		quoteMy(o.Schema, o.Name), e.MinValue, e.MaxValue, cycle, st.NativeNext, st.NativeNext)}
	return st
}

// MySQLPlanExport returns what MySQLExport would do, changing nothing.
func MySQLPlanExport(ctx context.Context, db MySQL, store seqcache.Store, opts Options) ([]Step, error) {
	objs, err := mysqlSelect(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	var steps []Step
	for _, o := range objs {
		e, err := getSequence(ctx, store, o.Key())
		if err != nil {
			return nil, err
		}
		if e == nil {
			steps = append(steps, Step{Key: o.Key(), Native: &o.Native, Action: ActionSkip, Note: "not in the store"})
			continue
		}
		steps = append(steps, mysqlPlanExport(o, *e, opts.gap()))
	}
	return steps, nil
}

// MySQLExport moves MariaDB's sequences and AUTO_INCREMENT counters past
// the store by the gap (the rollback of MySQLImport), never backwards.
func MySQLExport(ctx context.Context, db *sql.DB, store seqcache.Store, opts Options) ([]Step, error) {
	plan, err := MySQLPlanExport(ctx, db, store, opts)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, st := range plan {
		if st.Action != ActionRestore {
			if st.Err != nil {
				errs = append(errs, st.Err)
			}
			continue
		}
		conn, unlock, err := mysqlLock(ctx, db, st.Key, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		only := opts
		only.Only = []string{st.Key}
		objs, err := mysqlSelect(ctx, conn, only)
		var e *seqcache.Sequence
		if err == nil {
			e, err = getSequence(ctx, store, st.Key)
		}
		if err == nil && e != nil {
			st = mysqlPlanExport(objs[0], *e, opts.gap()) // again, under the lock
			for _, q := range st.SQL {
				if err = execMy(ctx, conn, q); err != nil {
					break
				}
			}
			st.Applied = err == nil && st.Action == ActionRestore
		}
		unlock()
		if err != nil {
			st.Action, st.Err = ActionFail, err
			errs = append(errs, err)
		}
		plan[i] = st
	}
	return plan, errors.Join(errs...)
}

func execMy(ctx context.Context, conn *sql.Conn, q string) error {
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// MySQLStatus returns where each MariaDB sequence and AUTO_INCREMENT table
// stands against the store, ordered by key.
func MySQLStatus(ctx context.Context, db MySQL, store seqcache.Store, opts Options) ([]State, error) {
	objs, err := mysqlSelect(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	var out []State
	for _, o := range objs {
		e, err := getSequence(ctx, store, o.Key())
		if err != nil {
			return nil, err
		}
		n := o.Native
		st := State{Key: o.Key(), Native: &n, Store: e}
		if o.table && e != nil {
			st = tableState(o, st, *e)
		} else {
			st = classify(st)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// tableState classifies an AUTO_INCREMENT table, which has no cap:
// imported while MariaDB's next id is before the store's first.
func tableState(o mysqlObject, st State, e seqcache.Sequence) State {
	next, _ := o.Next()
	low := e.Start
	if !e.Exhausted && e.Next < low {
		low = e.Next
	}
	if next < low {
		st.Phase, st.Margin = PhaseImported, low-next
		st.Note = fmt.Sprintf("AUTO_INCREMENT is not capped: native inserts have %d id(s) left before the store's first %d; past that the unique key on %s fails them with 1062",
			st.Margin, low, o.column)
		return st
	}
	if !e.Exhausted && next > e.Next {
		st.Phase, st.Margin = PhaseExported, next-e.Next
		st.Note = fmt.Sprintf("MariaDB's next id %d is past the store's next %d: the store can hand out %d more before it reaches MariaDB's ids",
			next, e.Next, st.Margin)
		return st
	}
	st.Phase, st.Overlap = PhaseOverlap, true
	st.Note = fmt.Sprintf("MariaDB's next id %d has reached the store's ids (first %d, next %s); the unique key on %s turns a collision into 1062: fix: export (--only %s) moves the counter past the store",
		next, low, nextText(e), o.column, o.Key())
	return st
}
