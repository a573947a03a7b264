package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/seqshim/seqshim/seqcache"
)

// maxAttempts bounds the re-planning of one sequence when the native side
// draws past the planned cap before the cap is applied.
const maxAttempts = 4

// PlanImport computes the import plan of the sequences opts selects,
// without changing anything: what will be created and capped, and what is
// already done. Steps that cannot be carried out have ActionFail and Err.
func PlanImport(ctx context.Context, db DB, store seqcache.Store, opts Options) ([]Step, error) {
	natives, err := selectNative(ctx, db, opts)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(natives))
	for i, n := range natives {
		keys[i] = n.Key()
	}
	inStore, err := storeSequences(ctx, store, keys, len(opts.Only) > 0)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, len(natives))
	for i, n := range natives {
		var e *seqcache.Sequence
		if s, ok := inStore[n.Key()]; ok {
			e = &s
		}
		steps[i] = planImport(n, e, opts.gap())
	}
	return steps, nil
}

// Import imports the sequences opts selects: each is planned again and
// carried out in its own transaction (see the package documentation). It
// returns every step, carried out or not, and the errors of those that
// failed, joined; each names its sequence and the fix.
func Import(ctx context.Context, db DB, store seqcache.Store, opts Options) ([]Step, error) {
	plan, err := PlanImport(ctx, db, store, opts)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, len(plan))
	var errs []error
	for i, p := range plan {
		if p.Action == ActionFail {
			steps[i] = p
			errs = append(errs, p.Err)
			continue
		}
		st, err := importOne(ctx, db, store, p.Key, opts, false)
		steps[i] = st
		if err != nil {
			errs = append(errs, err)
		}
	}
	return steps, errors.Join(errs...)
}

// ImportOne is the driver's lazy import: it imports the database sequence
// with store key ("schema.name") when the store does not have it, as Import
// does, and returns at once when it does (another instance won the race;
// the store's conditional create settles it). Only, Allow and Deny are not
// consulted: the caller imports what it manages.
//
// When the database's sequence cannot be capped for lack of privilege
// (42501), the sequence is created in the store all the same and the step's
// Warning, also logged at level WARN, holds the exact statement for the
// sequence's owner to run; until then instances still on native sequences
// may reach the store's values after gap-1 more draws.
//
// A sequence the database does not have is a *seqcache.Error with SQLSTATE
// 42P01.
func ImportOne(ctx context.Context, db DB, store seqcache.Store, key string, opts Options) (Step, error) {
	return importOne(ctx, db, store, key, opts, true)
}

func importOne(ctx context.Context, db DB, store seqcache.Store, key string, opts Options, lazy bool) (Step, error) {
	log := opts.logger()
	for attempt := 1; ; attempt++ {
		st, retry, err := importTx(ctx, db, store, key, opts, lazy)
		if retry && attempt < maxAttempts {
			log.InfoContext(ctx, "migrate: the database's sequence moved past the planned cap; planning again",
				"sequence", key, "attempt", attempt)
			continue
		}
		if retry {
			err = &Error{Sequence: key, Code: codeObjectNotInState, Err: err,
				Reason: fmt.Sprintf("the sequence changed while it was being capped, %d times (native instances drew more than the gap %d meanwhile)", attempt, opts.gap()),
				Fix:    "import it with a larger --gap, or when fewer native instances draw from it"}
			st.Action, st.Err = ActionFail, err
		}
		switch {
		case err != nil && errors.Is(err, seqcache.ErrUnknownSequence):
			// Not in the database either: the caller reports 42P01.
			log.DebugContext(ctx, "migrate: no such sequence", "sequence", key)
		case err != nil:
			log.ErrorContext(ctx, "migrate: import failed", "sequence", key, "err", err)
		case st.Applied:
			log.InfoContext(ctx, "migrate: imported", "sequence", key, "action", string(st.Action),
				"store_next", st.StoreNext, "database_limit", st.Cap, "note", st.Note)
		}
		if st.Warning != "" {
			log.WarnContext(ctx, "migrate: "+st.Warning, "sequence", key)
		}
		return st, err
	}
}

// importTx imports one sequence in one transaction. retry reports that the
// native side moved past the cap before it was applied.
func importTx(ctx context.Context, db DB, store seqcache.Store, key string, opts Options, lazy bool) (st Step, retry bool, err error) {
	st = Step{Key: key, Action: ActionFail}
	fail := func(err error) (Step, bool, error) {
		st.Action, st.Err = ActionFail, err
		return st, false, err
	}
	tx, err := begin(ctx, db, key, opts)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	n, err := readOne(ctx, tx, key)
	if err != nil {
		return fail(err)
	}
	e, err := getSequence(ctx, store, key)
	if err != nil {
		return fail(err)
	}
	if e != nil && lazy {
		st = Step{Key: key, Action: ActionDone, Native: &n, Store: e, StoreNext: e.Next, Cap: n.Limit(),
			Note: "already in the store"}
		return st, false, tx.Commit()
	}
	st = planImport(n, e, opts.gap())
	if st.Action == ActionFail {
		return st, false, st.Err
	}
	if st.Action == ActionDone {
		return st, false, tx.Commit()
	}
	moved, err := lockUnmoved(ctx, tx, st)
	if err == nil && moved {
		return st, true, errMoved
	}
	if err == nil {
		err = apply(ctx, tx, st)
	}
	if err != nil {
		switch code(err) {
		case "22023": // RESTART value (last_value) beyond the new limit: it moved.
			return st, true, err
		case codeInsufficientPrivilege:
			if lazy && st.Action == ActionCreate && st.keep > 0 {
				tx.Rollback()
				return createUncapped(ctx, store, st, err)
			}
			return fail(failure(key, codeInsufficientPrivilege, "cannot cap the database's sequence",
				fmt.Sprintf("run import as the sequence's owner, or have the owner run: %s; nothing was changed", strings.Join(st.SQL, "; ")), err))
		}
		return fail(dbError(key, err))
	}
	switch st.Action {
	case ActionCreate:
		err := store.Create(ctx, st.Spec)
		if errors.Is(err, seqcache.ErrExists) {
			// Created meanwhile outside our lock: compare, and cap below it.
			return settleExisting(ctx, tx, store, st, opts)
		}
		if err != nil {
			return fail(storeError(key, "creating it in the store (the database's cap was rolled back)", err))
		}
	case ActionStop:
		if err := moveForward(ctx, store, st); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(commitError(st, err))
	}
	st.Applied = true
	return st, false, nil
}

// settleExisting handles 42P07 from the store's create: the sequence found
// there is compared with the database (already capped for our start in
// tx) and the database capped below it.
func settleExisting(ctx context.Context, tx *sql.Tx, store seqcache.Store, first Step, opts Options) (Step, bool, error) {
	key := first.Key
	n, err := readOne(ctx, tx, key)
	if err != nil {
		return Step{Key: key, Action: ActionFail, Err: err}, false, err
	}
	e, err := getSequence(ctx, store, key)
	if err == nil && e == nil {
		err = errorf(key, codeObjectNotInState, "run import again", "the store reported it exists, then that it does not (dropped meanwhile?)")
	}
	if err != nil {
		return Step{Key: key, Action: ActionFail, Err: err}, false, err
	}
	st := planImport(n, e, opts.gap())
	st.Native = first.Native // as read before our cap
	st.SQL = append(append([]string(nil), first.SQL...), st.SQL...)
	st.Note = "created meanwhile by another importer; " + st.Note
	if st.Action == ActionFail {
		return st, false, st.Err
	}
	if st.Action == ActionDone {
		st.Action = ActionCap // our own cap stands
	} else if err := execAll(ctx, tx, st.SQL[len(first.SQL):]); err != nil {
		st.Action, st.Err = ActionFail, dbError(key, err)
		return st, false, st.Err
	}
	if st.Action == ActionStop {
		if err := moveForward(ctx, store, st); err != nil {
			st.Action, st.Err = ActionFail, err
			return st, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		st.Action, st.Err = ActionFail, commitError(st, err)
		return st, false, st.Err
	}
	st.Applied = true
	return st, false, nil
}

// createUncapped is the lazy import without privilege to cap: create the
// store's sequence and warn with the statement to run.
func createUncapped(ctx context.Context, store seqcache.Store, st Step, capErr error) (Step, bool, error) {
	err := store.Create(ctx, st.Spec)
	if errors.Is(err, seqcache.ErrExists) {
		st.Action, st.SQL, st.Note = ActionDone, nil, "created meanwhile by another instance"
		return st, false, nil
	}
	if err != nil {
		st.Action, st.Err = ActionFail, storeError(st.Key, "creating it in the store", err)
		return st, false, st.Err
	}
	st.Applied = true
	st.Warning = fmt.Sprintf("sequence %s was imported into the store at %d but the database's own sequence could not be capped (%v): "+
		"native instances can draw %d more values before they reach the store's; have the sequence's owner run: %s",
		st.Key, st.Spec.Start, capErr, nativeLeft(*st.Native, st.Cap), st.SQL[0])
	st.Note = "created in the store at " + strconv.FormatInt(st.Spec.Start, 10) + "; the database is NOT capped"
	return st, false, nil
}

// moveForward moves the store to st.StoreNext by reserving (and dropping)
// the values before it: a reservation only ever moves forward, so values
// reserved meanwhile by others are never handed out again.
func moveForward(ctx context.Context, store seqcache.Store, st Step) error {
	if st.Store == nil || st.Store.Exhausted || st.StoreNext == st.Store.Next {
		return nil
	}
	// One reservation of every value before StoreNext; shorter only when
	// others reserved meanwhile and it ends on the limit.
	n := remainingBetween(*st.Native, st.Store.Next, st.StoreNext)
	if n <= 0 {
		return nil
	}
	if _, err := store.Reserve(ctx, st.Key, n); err != nil {
		return storeError(st.Key, fmt.Sprintf("moving the store forward to %d", st.StoreNext), err)
	}
	return nil
}

// begin starts the transaction of one sequence: lock_timeout, then the
// advisory lock on the key that importers and exporters share.
func begin(ctx context.Context, db DB, key string, opts Options) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, failure(key, codeConnectionFailure, "starting a transaction on the database", "", err)
	}
	ms := strconv.FormatInt(opts.lockTimeout().Milliseconds(), 10) + "ms"
	if _, err := tx.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, true)", ms); err != nil {
		tx.Rollback()
		return nil, failure(key, codeConnectionFailure, "setting lock_timeout", "", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "seqshim.migrate:"+key); err != nil {
		tx.Rollback()
		return nil, dbError(key, err)
	}
	return tx, nil
}

// errMoved: the database's sequence moved between the read and the lock.
var errMoved = errors.New("the database's sequence moved after it was read")

// lockUnmoved, for a step that sets the database's sequence's position
// (RESTART), takes the sequence's lock first (a no-op ALTER SEQUENCE, which
// native nextval calls wait for) and reports whether its position moved
// since st was planned: RESTART would otherwise hide a value handed out
// meanwhile.
func lockUnmoved(ctx context.Context, tx *sql.Tx, st Step) (moved bool, err error) {
	if !st.restarts {
		return false, nil
	}
	q := "ALTER SEQUENCE " + st.Native.Ident() + " NO CYCLE"
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return false, fmt.Errorf("%s: %w", q, err)
	}
	now := *st.Native
	if err := readState(ctx, tx, &now); err != nil {
		return false, err
	}
	return now.LastValue != st.Native.LastValue || now.Called != st.Native.Called, nil
}

// apply runs st.SQL on tx, setval's arguments as bind parameters.
func apply(ctx context.Context, tx *sql.Tx, st Step) error {
	for i, q := range st.SQL {
		var err error
		if st.setval != nil && i == len(st.SQL)-1 {
			_, err = tx.ExecContext(ctx, "SELECT setval($1, $2, true)", st.Native.Ident(), *st.setval)
		} else {
			_, err = tx.ExecContext(ctx, q)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func readOne(ctx context.Context, q querier, key string) (Native, error) {
	ns, err := readNative(ctx, q, []string{key}, nil)
	if err != nil {
		return Native{}, err
	}
	return ns[0], nil
}

func execAll(ctx context.Context, tx *sql.Tx, stmts []string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func commitError(st Step, err error) error {
	if st.Action == ActionCreate {
		return failure(st.Key, codeConnectionFailure, fmt.Sprintf("created in the store at %d but the database's cap was not committed", st.Spec.Start),
			fmt.Sprintf("import it again (--only %s)", st.Key), err)
	}
	return failure(st.Key, codeConnectionFailure, "committing", "run the command again", err)
}

// getSequence reads a sequence from the store: nil when absent.
func getSequence(ctx context.Context, store seqcache.Store, key string) (*seqcache.Sequence, error) {
	s, err := store.Get(ctx, key)
	if errors.Is(err, seqcache.ErrUnknownSequence) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError(key, "reading the store", err)
	}
	return &s, nil
}

// storeSequences returns the store's sequences by key: with byKey, one Get
// per key; otherwise one List.
func storeSequences(ctx context.Context, store seqcache.Store, keys []string, byKey bool) (map[string]seqcache.Sequence, error) {
	out := make(map[string]seqcache.Sequence)
	if byKey {
		for _, k := range keys {
			s, err := getSequence(ctx, store, k)
			if err != nil {
				return nil, err
			}
			if s != nil {
				out[k] = *s
			}
		}
		return out, nil
	}
	all, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: listing the store: %w", err)
	}
	for _, s := range all {
		out[s.Name] = s
	}
	return out, nil
}

// selectNative reads the database's sequences that opts selects. A key of
// Only that the database lacks, or that Allow/Deny exclude, is an error.
func selectNative(ctx context.Context, db DB, opts Options) ([]Native, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	var errs []error
	out, err := readNative(ctx, db, opts.Only, func(key string) bool {
		if opts.managed(key) {
			return true
		}
		if len(opts.Only) > 0 {
			errs = append(errs, excluded(key))
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

func excluded(key string) error {
	return fmt.Errorf("sequence %s is excluded by --allow/--deny (seqshim.allow, seqshim.deny): "+
		"the driver leaves it to PostgreSQL: fix: leave it out of --only, or change the patterns", key)
}

// notInDatabase is 42P01 for a key pg_sequences does not list.
func notInDatabase(key string) error {
	e := seqcache.UnknownSequence(key)
	e.Message = fmt.Sprintf("sequence %q does not exist in the database", key)
	e.Hint = "check the name and --schema (unquoted names fold to lower case)"
	return e
}
