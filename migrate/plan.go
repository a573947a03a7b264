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
// a bigint sequence, 0.05% of an integer one. A sequence with fewer values
// left than the gap is split: the database keeps half of what remains, the
// store the rest (see Import).
const DefaultGap = 1_000_000

// ExactHandover as Options.Gap asks for a gap of 0: import stops the
// database's sequence exactly where it stands (its next nextval fails with
// 2200H, also when it was never called) and the store continues with the
// value PostgreSQL would have returned next; export moves the database to
// exactly the store's next value. Choose it when no instance still draws
// from the other side: tests, a single instance, a cutover with the old
// instances stopped.
const ExactHandover = -1

// DefaultLockTimeout is the lock_timeout when Options.LockTimeout is 0.
const DefaultLockTimeout = 5 * time.Second

// Options select the sequences and tune a migration.
type Options struct {
	// Gap is the number of values between the two sides: import starts the
	// store at last_value + Gap*increment; export moves the database to
	// store next + Gap*increment. 0 means DefaultGap; ExactHandover (any
	// negative value) means a gap of 0.
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

// gap is the gap to use: 0 for ExactHandover.
func (o Options) gap() int64 {
	switch {
	case o.Gap < 0:
		return 0
	case o.Gap == 0:
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

	setval   *int64 // setval(s, *setval, true), the last of SQL
	keep     int64  // import: the values the database keeps before its cap
	restarts bool   // import: SQL sets the database's position (RESTART)
}

// planImport computes the import step for n given the store's sequence
// (nil when absent). gap 0 is an exact handover. It does no I/O.
func planImport(n Native, e *seqcache.Sequence, gap int64) Step {
	st := Step{Key: n.Key(), Native: &n, Store: e}
	if n.Increment == 0 || gap < 0 {
		st.Action, st.Err = ActionFail, errorf(n.Key(), codeObjectNotInState, "", "bad increment %d or gap %d", n.Increment, gap)
		return st
	}
	if e == nil {
		return planCreate(st, n, gap)
	}
	return planExisting(st, n, *e, gap)
}

// planCreate: the store lacks the sequence. The database keeps the values
// from its next one up to a cap (gap-1 of them after a called sequence's
// last value, gap when it was never called, none with gap 0), and the
// store starts right after the cap. When fewer values remain than that
// needs, the database keeps half of what remains (see fitKeep).
func planCreate(st Step, n Native, gap int64) Step {
	fail := func(err error) Step {
		st.Action, st.Err = ActionFail, err
		return st
	}
	next, wraps, ok := n.handover()
	if !ok {
		return fail(&Error{Sequence: n.Key(), Code: codeSequenceLimit,
			Reason: fmt.Sprintf("nothing is left to hand over: its last value is its %s", limitWord(n)),
			Fix:    fmt.Sprintf("widen its limit (ALTER SEQUENCE %s %s ...) or setval it on the database, then import it", n.Ident(), limitWord(n)),
			Err:    seqcache.LimitReached(n.Key(), n.Limit(), n.Ascending())})
	}
	keep := gap // values the database keeps
	if gap > 0 && n.Called && !wraps {
		keep = gap - 1 // last + gap*increment, as documented
	}
	left := remainingBetween(n, next, n.Limit()) // values after next
	if keep > left {
		fitted := left/2 + left%2 // half of left+1, rounded down
		st.Warning = fmt.Sprintf("sequence %s: %d value(s) remain from its next value %d to its %s %d, too few for the gap %d: "+
			"the database keeps %d and the store starts at %d (half each); import it with a gap that fits to choose otherwise",
			n.Key(), sat(left+1), next, limitWord(n), n.Limit(), gap, fitted, mustAddMul(next, fitted, n.Increment))
		keep = fitted
	}
	start := mustAddMul(next, keep, n.Increment)
	limit, ok := checked.Add(start, -n.Increment)
	if !ok {
		return fail(errorf(n.Key(), codeObjectNotInState, "move its start first (setval on the database, or ALTER SEQUENCE ... RESTART)",
			"its next value %d is the smallest a bigint holds: the database's sequence cannot be stopped before it", next))
	}
	c := capping{limit: limit}
	switch {
	case keep == 0 && (!n.Called || wraps):
		// Stop it exactly: called at the cap, so its next nextval fails.
		c.restart, c.called = &limit, true
	case wraps:
		c.restart = &next // from its other limit, as CYCLE would
	}
	sql, ok := c.sql(n)
	if !ok {
		return fail(errorf(n.Key(), codeObjectNotInState, "move its start first (setval on the database, or ALTER SEQUENCE ... RESTART)",
			"capping it at %d needs its %s moved past the range a bigint holds", limit, otherLimitWord(n)))
	}
	spec := seqcache.Spec{
		Name: n.Key(), Start: start, Increment: n.Increment,
		MinValue: n.MinValue, MaxValue: n.MaxValue, Cycle: n.Cycle, Cache: max(n.Cache, 1),
	}
	if err := spec.Validate(); err != nil {
		return fail(failure(n.Key(), codeObjectNotInState, "its definition", "", err))
	}
	st.Action, st.Spec, st.Cap, st.StoreNext, st.keep = ActionCreate, spec, limit, start, keep
	st.SQL, st.restarts = sql, c.restart != nil
	if c.called {
		st.setval = c.restart
	}
	st.Note = fmt.Sprintf("create in the store at %d; cap the database at %s %d (%s %d, %d value(s) left to native instances)",
		start, limitWord(n), limit, lastWord(n), n.LastValue, keep)
	if keep == 0 {
		st.Note = fmt.Sprintf("exact handover: create in the store at %d, the value the database would hand out next; stop the database at %s %d (its next nextval fails with 2200H)",
			start, limitWord(n), limit)
	}
	return st
}

// handover is the value the database's next nextval returns, and whether
// it wraps to the other limit to get there (CYCLE); ok is false when that
// nextval fails with 2200H.
func (n Native) handover() (next int64, wraps, ok bool) {
	if v, ok := n.Next(); ok {
		return v, false, true
	}
	if !n.Cycle {
		return 0, false, false
	}
	if n.Ascending() {
		return n.MinValue, true, true
	}
	return n.MaxValue, true, true
}

// capping is how import changes the database's sequence: its limit in its
// direction, and when its position must change too, RESTART WITH it
// (followed by setval(s, restart, true) when called).
type capping struct {
	limit   int64
	restart *int64
	called  bool
}

// sql returns the statements that apply c to n; false when the other limit
// would have to leave the int64 range. The other limit moves out of the way
// when the cap would reach it (PostgreSQL wants MINVALUE < MAXVALUE); export
// restores both.
func (c capping) sql(n Native) ([]string, bool) {
	var b strings.Builder
	b.WriteString("ALTER SEQUENCE " + n.Ident() + " " + limitWord(n) + " " + strconv.FormatInt(c.limit, 10))
	if !inside(n, c.limit) {
		step := int64(-1) // MINVALUE below an ascending cap
		if !n.Ascending() {
			step = 1
		}
		other, ok := checked.Add(c.limit, step)
		if !ok {
			return nil, false
		}
		b.WriteString(" " + otherLimitWord(n) + " " + strconv.FormatInt(other, 10))
	}
	if before(n.Ascending(), c.limit, n.Start) {
		b.WriteString(" START WITH " + strconv.FormatInt(c.limit, 10))
	}
	if c.restart != nil {
		b.WriteString(" RESTART WITH " + strconv.FormatInt(*c.restart, 10))
	}
	if n.Cycle {
		b.WriteString(" NO CYCLE")
	}
	out := []string{b.String()}
	if c.called {
		out = append(out, fmt.Sprintf("SELECT setval(%s, %d, true)", quoteLiteral(n.Ident()), *c.restart))
	}
	return out, true
}

// mustAddMul is addMul for results known to be in range.
func mustAddMul(a, k, inc int64) int64 {
	v, _ := addMul(a, k, inc)
	return v
}

// sat is n, or MaxInt64 when n overflowed.
func sat(n int64) int64 {
	if n < 0 {
		return math.MaxInt64
	}
	return n
}

// failed is st failing with err.
func failed(st Step, err error) Step {
	st.Action, st.Err = ActionFail, err
	return st
}

// planExisting: the store has the sequence.
func planExisting(st Step, n Native, e seqcache.Sequence, gap int64) Step {
	if e.Increment != n.Increment {
		return failed(st, errorf(n.Key(), codeObjectNotInState,
			"drop it from the store (if nothing uses it yet) and import again, or leave it out (--only)",
			"the store has it with INCREMENT %d, the database with %d", e.Increment, n.Increment))
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
	if safe, ok := checked.Add(low, -n.Increment); ok && !before(asc, safe, n.LastValue) {
		return planCapBelow(st, n, e, low, safe, notes)
	}
	return planStop(st, n, e, low, gap, notes)
}

// planCapBelow: the database is still before the store's first value low;
// cap it at safe, the value just before.
func planCapBelow(st Step, n Native, e seqcache.Sequence, low, safe int64, notes []string) Step {
	st.Cap = min2(n.Ascending(), safe, n.Limit())
	if st.Cap == n.Limit() && !n.Cycle {
		st.Action = ActionDone
		st.Note = joinNotes(fmt.Sprintf("already imported: store first value %d, next %s; database %s %d, %s %d",
			low, nextText(e), limitWord(n), n.Limit(), lastWord(n), n.LastValue), notes)
		return st
	}
	sql, ok := capping{limit: st.Cap}.sql(n)
	if !ok {
		return failed(st, errorf(n.Key(), codeObjectNotInState, "move the store forward (setval in the store) and import again",
			"the store starts at %d, so the database would have to be capped at %d, beyond the range of its %s", low, st.Cap, otherLimitWord(n)))
	}
	st.Action = ActionCap
	st.SQL = sql
	st.Note = joinNotes(fmt.Sprintf("already in the store (first value %d, next %s); cap the database at %s %d (%s %d)",
		low, nextText(e), limitWord(n), st.Cap, lastWord(n), n.LastValue), notes)
	return st
}

// planStop: the database has reached the store's values from low on; stop
// it where it is and move the store past it.
func planStop(st Step, n Native, e seqcache.Sequence, low, gap int64, notes []string) Step {
	asc := n.Ascending()
	fail := func(err error) Step { return failed(st, err) }
	stop := n.LastValue // the last value the database handed out
	var c capping
	if !n.Called {
		// Its next nextval returns LastValue, which the store may have
		// handed out: stop it just before, called there.
		v, ok := checked.Add(n.LastValue, -n.Increment)
		if !ok {
			return fail(errorf(n.Key(), codeObjectNotInState, fmt.Sprintf("move the database with setval past the store's next value (%s)", nextText(e)),
				"the database's next value %d has reached the store's values and nothing comes before it", n.LastValue))
		}
		stop = v
		c.restart, c.called = &stop, true
	}
	st.Cap = min2(asc, stop, n.Limit())
	c.limit = st.Cap
	capSQL, capOK := c.sql(n)
	if !capOK {
		return fail(errorf(n.Key(), codeObjectNotInState,
			fmt.Sprintf("move the database with setval past the store's next value (%s) and check the status again", nextText(e)),
			"the database (%s %d) has reached the store's values (first %d) and cannot be stopped there", lastWord(n), stop, low))
	}
	needAlter := st.Cap != n.Limit() || n.Cycle || c.restart != nil
	needMove := !e.Exhausted && !before(asc, stop, e.Next)
	if needMove {
		// Past stop, which the database may hand out when never called: by
		// the gap, or half the store's room when the gap does not fit.
		room := remainingBetween(n, stop, e.Limit())
		k := min(max(gap, 1), max(room/2, 1))
		to, ok := addMul(stop, k, n.Increment)
		if room == 0 || !ok || !e.InRange(to) {
			return fail(errorf(n.Key(), codeObjectNotInState, "setval both sides by hand",
				"the database (%s %d) has reached the store's values and the store has no value left past it", lastWord(n), stop))
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
		st.SQL, st.restarts = capSQL, c.restart != nil
		if c.called {
			st.setval = c.restart
		}
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
		st.Err = errorf(n.Key(), codeObjectNotInState, fmt.Sprintf("align them by hand (ALTER SEQUENCE %s INCREMENT ...)", n.Ident()),
			"the store has it with INCREMENT %d, the database with %d: nothing to export safely", e.Increment, n.Increment)
		return st
	}
	if gap < 0 {
		st.Action, st.Err = ActionFail, errorf(n.Key(), codeObjectNotInState, "", "bad gap %d", gap)
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
