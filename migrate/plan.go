package migrate

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seqshim/seqshim/internal/checked"
	"github.com/seqshim/seqshim/internal/selector"
	"github.com/seqshim/seqshim/seqcache"
)

// DefaultGap is the gap when Options.Gap is 0.
//
// After import, instances still on native sequences can draw gap-1 more
// values before the cap makes them fail, so the gap must cover the native
// side's inserts for the whole rollout: a million lasts 16 minutes at 1,000
// inserts a second. It costs nothing that matters: 1e6 of 9.2e18 values of
// a bigint sequence, 0.05% of an integer one; a sequence with fewer values
// left than the gap is an error that says which --gap fits.
const DefaultGap = 1_000_000

// DefaultLockTimeout is the lock_timeout when Options.LockTimeout is 0.
const DefaultLockTimeout = 5 * time.Second

// Options select the sequences and tune a migration.
type Options struct {
	// Gap is the number of values between the two sides: import starts the
	// store at last_value + Gap*increment; export moves the database to
	// store next + Gap*increment. 0 means DefaultGap.
	Gap int64
	// Only limits the migration to these store keys ("schema.name"); each
	// must exist (import: in the database; export: in the store).
	Only []string
	// Allow and Deny are the driver's seqshim.allow and seqshim.deny:
	// path.Match patterns on "schema.name" (a pattern without a dot is in
	// Schema). Sequences the driver does not manage are left alone. A
	// malformed pattern is an error wrapping path.ErrBadPattern.
	Allow, Deny []string
	// Schema is the schema of patterns without one; rewrite.DefaultSchema
	// when empty.
	Schema string
	// LockTimeout bounds the wait for the sequence's lock (ALTER SEQUENCE
	// waits for transactions that called nextval to end, and native nextval
	// calls queue behind it): 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// Logger receives what was done and the warnings; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) gap() int64 {
	if o.Gap <= 0 {
		return DefaultGap
	}
	return o.Gap
}

func (o Options) lockTimeout() time.Duration {
	if o.LockTimeout <= 0 {
		return DefaultLockTimeout
	}
	return o.LockTimeout
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// selector is the driver's selection by Allow and Deny.
func (o Options) selector() selector.Selector {
	return selector.Selector{Schema: o.Schema, Allow: o.Allow, Deny: o.Deny}
}

// check reports a malformed Allow or Deny pattern.
func (o Options) check() error {
	if err := o.selector().Validate(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// managed reports whether key passes Only, Allow and Deny.
func (o Options) managed(key string) bool {
	if len(o.Only) > 0 && !contains(o.Only, key) {
		return false
	}
	return o.selector().Match(key)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Action is what a Step does.
type Action string

// Actions of import and export steps.
const (
	// ActionCreate (import): create the sequence in the store and cap the
	// database below it.
	ActionCreate Action = "create"
	// ActionCap (import): the store has the sequence; cap the database below
	// the store's values.
	ActionCap Action = "cap"
	// ActionStop (import): the database has gone past the store's first
	// value; stop it at its last value and move the store past it.
	ActionStop Action = "stop"
	// ActionRestore (export): lift the cap and move the database past the
	// store.
	ActionRestore Action = "restore"
	// ActionDone: nothing to do.
	ActionDone Action = "done"
	// ActionSkip: the sequence is on one side only (export: not in the
	// store or not in the database).
	ActionSkip Action = "skip"
	// ActionFail: the sequence cannot be migrated; Err says why and how to
	// fix it.
	ActionFail Action = "fail"
)

// Step is the plan for one sequence, and after Import or Export what was
// done.
type Step struct {
	Key    string
	Action Action
	// Native is the database's sequence (nil when absent); Store is the
	// store's before the step (nil when absent).
	Native *Native
	Store  *seqcache.Sequence
	// Spec is the sequence created in the store (ActionCreate).
	Spec seqcache.Spec
	// Cap is the database's limit after the step (MAXVALUE when ascending,
	// MINVALUE when descending); StoreNext is the store's next value after
	// it; NativeNext is the database's next value after it (export).
	Cap, StoreNext, NativeNext int64
	// NativeExhausted: the database's sequence has no next value after the
	// step (NativeNext is meaningless).
	NativeExhausted bool
	// SQL is the statements the step runs on the database, as run
	// (setval's arguments are bind parameters, shown here as literals).
	SQL []string
	// Note explains the step for people; Warning says what needs a human.
	Note, Warning string
	// Applied is true once the step has been carried out.
	Applied bool
	// Err is why the step cannot be (or could not be) carried out; it names
	// the sequence and the fix.
	Err error

	setval *int64 // export: setval(s, *setval, true), the last of SQL
}

// planImport computes the import step for n given the store's sequence
// (nil when absent). It does no I/O.
func planImport(n Native, e *seqcache.Sequence, gap int64) Step {
	st := Step{Key: n.Key(), Native: &n, Store: e}
	if n.Increment == 0 || gap < 1 {
		st.Action, st.Err = ActionFail, fmt.Errorf("sequence %s: bad increment %d or gap %d", n.Key(), n.Increment, gap)
		return st
	}
	if e == nil {
		return planCreate(st, n, gap)
	}
	return planExisting(st, n, *e, gap)
}

// planCreate: the store lacks the sequence.
func planCreate(st Step, n Native, gap int64) Step {
	base := n.LastValue
	fail := func(err error) Step {
		st.Action, st.Err = ActionFail, err
		return st
	}
	left := remainingAfter(n, base)
	start, ok := addMul(base, gap, n.Increment)
	if !ok || start < n.MinValue || start > n.MaxValue {
		return fail(fmt.Errorf("sequence %s: %s %d leaves %d value(s) before its %s %d, fewer than the gap %d: "+
			"fix: import it with --gap %d or less (--only %s), or widen its limit first (ALTER SEQUENCE %s %s ...)",
			n.Key(), lastWord(n), base, left, limitWord(n), n.Limit(), gap, max(left, 1), n.Key(), n.Ident(), limitWord(n)))
	}
	limit := start - n.Increment
	if !inside(n, limit) {
		return fail(fmt.Errorf("sequence %s: a gap of %d would cap it at %d, its %s, which PostgreSQL refuses: fix: use --gap %d or more",
			n.Key(), gap, limit, otherLimitWord(n), gap+1))
	}
	spec := seqcache.Spec{
		Name: n.Key(), Start: start, Increment: n.Increment,
		MinValue: n.MinValue, MaxValue: n.MaxValue, Cycle: n.Cycle, Cache: max(n.Cache, 1),
	}
	if err := spec.Validate(); err != nil {
		return fail(fmt.Errorf("sequence %s: %w", n.Key(), err))
	}
	st.Action, st.Spec, st.Cap, st.StoreNext = ActionCreate, spec, limit, start
	st.SQL = []string{capSQL(n, limit)}
	st.Note = fmt.Sprintf("create in the store at %d; cap the database at %s %d (%s %d, %d value(s) left to native instances)",
		start, limitWord(n), limit, lastWord(n), base, nativeLeft(n, limit))
	return st
}

// planExisting: the store has the sequence.
func planExisting(st Step, n Native, e seqcache.Sequence, gap int64) Step {
	fail := func(err error) Step {
		st.Action, st.Err = ActionFail, err
		return st
	}
	if e.Increment != n.Increment {
		return fail(fmt.Errorf("sequence %s: the store has it with INCREMENT %d, the database with %d: "+
			"fix: drop it from the store (if nothing uses it yet) and import again, or leave it out (--only)",
			n.Key(), e.Increment, n.Increment))
	}
	asc := n.Ascending()
	low := e.Start // the first value, in the sequence's direction, the store may hand out
	if !e.Exhausted && before(asc, e.Next, low) {
		low = e.Next // set back below its start
	}
	st.StoreNext = e.Next
	var notes []string
	if e.Cache != max(n.Cache, 1) {
		notes = append(notes, fmt.Sprintf("CACHE is %d in the store, %d in the database", e.Cache, n.Cache))
	}
	safe, ok := checked.Add(low, -n.Increment) // the last value before the store's
	if ok && !before(asc, safe, n.LastValue) {
		// The database is still before the store: cap it at safe.
		st.Cap = min2(asc, safe, n.Limit())
		if st.Cap == n.Limit() && !n.Cycle {
			st.Action = ActionDone
			st.Note = joinNotes(fmt.Sprintf("already imported: store first value %d, next %s; database %s %d, %s %d",
				low, nextText(e), limitWord(n), n.Limit(), lastWord(n), n.LastValue), notes)
			return st
		}
		if !inside(n, st.Cap) {
			return fail(fmt.Errorf("sequence %s: the store starts at %d, so the database would have to be capped at %d, its %s, which PostgreSQL refuses: "+
				"fix: move the store forward (setval in the store) and import again", n.Key(), low, st.Cap, otherLimitWord(n)))
		}
		st.Action = ActionCap
		st.SQL = []string{capSQL(n, st.Cap)}
		st.Note = joinNotes(fmt.Sprintf("already in the store (first value %d, next %s); cap the database at %s %d (%s %d)",
			low, nextText(e), limitWord(n), st.Cap, lastWord(n), n.LastValue), notes)
		return st
	}
	// The database has reached the store's values: stop it where it is and
	// move the store past it.
	stop := n.LastValue
	if !inside(n, stop) {
		return fail(fmt.Errorf("sequence %s: the database (%s %d) has reached the store's values (first %d) and cannot be stopped at its %s: "+
			"fix: move the database with setval past the store's next value (%s) and check the status again",
			n.Key(), lastWord(n), stop, low, otherLimitWord(n), nextText(e)))
	}
	st.Cap = min2(asc, stop, n.Limit())
	needAlter := st.Cap != n.Limit() || n.Cycle
	needMove := !e.Exhausted && !before(asc, stop, e.Next)
	if needMove {
		to, ok := addMul(stop, gap, n.Increment)
		if !ok || !e.InRange(to) {
			return fail(fmt.Errorf("sequence %s: the database (%s %d) has reached the store's values and the store has no room for a gap of %d past it: "+
				"fix: a smaller --gap, or setval both sides by hand", n.Key(), lastWord(n), stop, gap))
		}
		st.StoreNext = to
	}
	if !needAlter && !needMove {
		st.Action = ActionDone
		st.Note = joinNotes(fmt.Sprintf("already stopped: database %s %d at its %s %d; store next %s",
			limitWord(n), n.Limit(), lastWord(n), stop, nextText(e)), notes)
		return st
	}
	st.Action = ActionStop
	if needAlter {
		st.SQL = []string{capSQL(n, st.Cap)}
	}
	st.Note = fmt.Sprintf("the database (%s %d) has reached the store's values (first %d, next %s): "+
		"stop the database at %s %d (its nextval fails with 2200H from now on)", lastWord(n), stop, low, nextText(e), limitWord(n), st.Cap)
	if needMove {
		st.Note += fmt.Sprintf(" and move the store forward to %d", st.StoreNext)
	}
	st.Note = joinNotes(st.Note, notes)
	if e.Exhausted || e.Next != e.Start {
		st.Warning = fmt.Sprintf("sequence %s: values from %d to %d may have been handed out by both the database and the store: check the tables that use it for duplicates",
			n.Key(), low, stop)
	}
	return st
}

// planExport computes the export step for n and the store's e. It does no
// I/O.
func planExport(n Native, e seqcache.Sequence, gap int64) Step {
	st := Step{Key: n.Key(), Native: &n, Store: &e, StoreNext: e.Next}
	if e.Increment != n.Increment {
		st.Action = ActionFail
		st.Err = fmt.Errorf("sequence %s: the store has it with INCREMENT %d, the database with %d: nothing to export safely: "+
			"fix: align them by hand (ALTER SEQUENCE %s INCREMENT ...)", n.Key(), e.Increment, n.Increment, n.Ident())
		return st
	}
	if gap < 1 {
		st.Action, st.Err = ActionFail, fmt.Errorf("sequence %s: bad gap %d", n.Key(), gap)
		return st
	}
	asc := n.Ascending()
	// target is the database's next value: store next + gap*increment;
	// when that is past the limit, the database is left exhausted at it.
	target, ok := addMul(e.Next, gap, e.Increment)
	clipped := e.Exhausted || !ok || !e.InRange(target)
	setTo := e.Limit() // setval(s, setTo, true)
	if !clipped {
		setTo = target - e.Increment
	}
	// The database's next value once the store's limits are back.
	cur, curOK := n.LastValue, true
	if n.Called {
		cur, curOK = checked.Add(n.LastValue, n.Increment)
		curOK = curOK && e.InRange(cur)
	}
	var move bool
	if clipped {
		move = !n.Called || n.LastValue != setTo
	} else {
		move = curOK && before(asc, cur, target)
	}
	restore := n.MinValue != e.MinValue || n.MaxValue != e.MaxValue || n.Cycle != e.Cycle
	st.Cap = e.Limit()
	switch {
	case move && clipped:
		st.NativeExhausted = true
	case move:
		st.NativeNext = target
	case curOK:
		st.NativeNext = cur
	default:
		st.NativeExhausted = true
	}
	// START WITH records where the database's values resume, past the
	// store's: it is how Status tells an exported sequence (it jumped over
	// the store's values) from one that walked through them.
	startTo := setTo
	if !clipped {
		startTo = target
	}
	if clauses := exportClauses(n, e, restore, move, startTo); clauses != "" {
		st.SQL = append(st.SQL, "ALTER SEQUENCE "+n.Ident()+clauses)
	}
	if move {
		st.SQL = append(st.SQL, fmt.Sprintf("SELECT setval(%s, %d, true)", quoteLiteral(n.Ident()), setTo))
		st.setval = &setTo
	}
	if !restore && !move {
		st.Action = ActionDone
		st.Note = fmt.Sprintf("already exported: database %s %d, next %s; store next %s",
			limitWord(n), n.Limit(), nativeNextText(n), nextText(e))
		return st
	}
	st.Action = ActionRestore
	var what []string
	if restore {
		what = append(what, fmt.Sprintf("restore MINVALUE %d MAXVALUE %d %s", e.MinValue, e.MaxValue, cycleWord(e.Cycle)))
	}
	switch {
	case move && clipped:
		what = append(what, fmt.Sprintf("set the database to its %s %d: fewer than %d values remain after the store's next %s",
			limitWord(n), setTo, gap, nextText(e)))
		if !e.Cycle {
			st.Warning = fmt.Sprintf("sequence %s: the store has (nearly) reached its %s %d: the database's nextval will fail with 2200H",
				n.Key(), limitWord(n), setTo)
		}
	case move:
		what = append(what, fmt.Sprintf("move the database's next value to %d (store next %d + %d*%d)",
			target, e.Next, gap, e.Increment))
	default:
		what = append(what, fmt.Sprintf("the database's next value is already past the store's next %s", nextText(e)))
	}
	st.Note = strings.Join(what, "; ")
	return st
}

// capSQL caps n at limit: MAXVALUE (ascending) or MINVALUE (descending),
// START WITH moved inside when it is beyond, and NO CYCLE.
func capSQL(n Native, limit int64) string {
	var b strings.Builder
	b.WriteString("ALTER SEQUENCE ")
	b.WriteString(n.Ident())
	b.WriteString(" ")
	b.WriteString(limitWord(n))
	b.WriteString(" ")
	b.WriteString(strconv.FormatInt(limit, 10))
	if before(n.Ascending(), limit, n.Start) {
		b.WriteString(" START WITH ")
		b.WriteString(strconv.FormatInt(limit, 10))
	}
	if n.Cycle {
		b.WriteString(" NO CYCLE")
	}
	return b.String()
}

// exportClauses are the ALTER SEQUENCE clauses of an export: the store's
// limits and CYCLE back (restore), START WITH the database's next value
// (move).
func exportClauses(n Native, e seqcache.Sequence, restore, move bool, start int64) string {
	var b strings.Builder
	if restore {
		b.WriteString(" MINVALUE " + strconv.FormatInt(e.MinValue, 10) +
			" MAXVALUE " + strconv.FormatInt(e.MaxValue, 10) + " " + cycleWord(e.Cycle))
	}
	if move && start != n.Start {
		b.WriteString(" START WITH " + strconv.FormatInt(start, 10))
	}
	return b.String()
}

func cycleWord(c bool) string {
	if c {
		return "CYCLE"
	}
	return "NO CYCLE"
}

// quoteLiteral quotes s as an SQL string literal, for display: statements
// run with setval's arguments as bind parameters.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func limitWord(n Native) string {
	if n.Ascending() {
		return "MAXVALUE"
	}
	return "MINVALUE"
}

func otherLimitWord(n Native) string {
	if n.Ascending() {
		return "MINVALUE"
	}
	return "MAXVALUE"
}

// lastWord names n.LastValue.
func lastWord(n Native) string {
	if n.Called {
		return "last value"
	}
	return "never called, next value"
}

func nextText(e seqcache.Sequence) string {
	if e.Exhausted {
		return "exhausted"
	}
	return strconv.FormatInt(e.Next, 10)
}

func nativeNextText(n Native) string {
	if v, ok := n.Next(); ok {
		return strconv.FormatInt(v, 10)
	}
	return "exhausted"
}

func joinNotes(s string, notes []string) string {
	if len(notes) == 0 {
		return s
	}
	return s + "; " + strings.Join(notes, "; ")
}

// inside reports whether v can be n's cap: strictly beyond the other limit
// (PostgreSQL wants MINVALUE < MAXVALUE) and within the limit.
func inside(n Native, v int64) bool {
	if n.Ascending() {
		return v > n.MinValue && v <= n.MaxValue
	}
	return v < n.MaxValue && v >= n.MinValue
}

// before reports whether a comes before b in the direction of the sequence.
func before(asc bool, a, b int64) bool {
	if asc {
		return a < b
	}
	return a > b
}

// min2 is the one of a and b that comes first in the direction.
func min2(asc bool, a, b int64) int64 {
	if before(asc, a, b) {
		return a
	}
	return b
}

// nativeLeft is the number of values n can still hand out with limit.
func nativeLeft(n Native, limit int64) int64 {
	if !n.Called {
		if before(n.Ascending(), limit, n.LastValue) {
			return 0
		}
		return remainingBetween(n, n.LastValue, limit) + 1
	}
	return remainingBetween(n, n.LastValue, limit)
}

// remainingAfter is the number of values after v up to n's limit.
func remainingAfter(n Native, v int64) int64 {
	return remainingBetween(n, v, n.Limit())
}

// remainingBetween is the number of values after from up to to, inclusive,
// in steps of n's increment (0 when to is not beyond from).
func remainingBetween(n Native, from, to int64) int64 {
	var span uint64
	if n.Ascending() {
		if to <= from {
			return 0
		}
		span = uint64(to) - uint64(from)
	} else {
		if to >= from {
			return 0
		}
		span = uint64(from) - uint64(to)
	}
	steps := span / checked.Abs(n.Increment)
	if steps > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(steps)
}

// addMul is a + k*inc with overflow detection.
func addMul(a, k, inc int64) (int64, bool) {
	if k == 0 || inc == 0 {
		return a, true
	}
	p, ok := checked.Mul(k, inc)
	if !ok {
		return 0, false
	}
	return checked.Add(a, p)
}
