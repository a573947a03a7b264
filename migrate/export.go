package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/seqshim/seqshim/seqcache"
)

// PlanExport computes the export plan (the rollback) of the store's
// sequences that opts selects, without changing anything. A sequence the
// database does not have is skipped (ActionSkip).
func PlanExport(ctx context.Context, db DB, store seqcache.Store, opts Options) ([]Step, error) {
	seqs, err := selectStore(ctx, store, opts)
	if err != nil {
		return nil, err
	}
	natives, err := nativeMap(ctx, db, seqs)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, len(seqs))
	for i, e := range seqs {
		n, ok := natives[e.Name]
		if !ok {
			e := e
			steps[i] = Step{Key: e.Name, Action: ActionSkip, Store: &e, StoreNext: e.Next,
				Note: "not in the database: nothing to export"}
			continue
		}
		steps[i] = planExport(n, e, opts.gap())
	}
	return steps, nil
}

// Export carries out the export plan, one transaction per sequence under
// the same advisory lock as Import: the cap is lifted (the store's MINVALUE,
// MAXVALUE and CYCLE) and the database's sequence moved with setval so that
// its next value is the store's next + gap*increment, never backwards. It
// returns every step and the errors of those that failed, joined.
//
// Instances still on seqshim keep drawing from the store after export: the
// gap must cover what they reserve until they are gone.
func Export(ctx context.Context, db DB, store seqcache.Store, opts Options) ([]Step, error) {
	plan, err := PlanExport(ctx, db, store, opts)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, len(plan))
	var errs []error
	for i, p := range plan {
		if p.Action == ActionFail || p.Action == ActionSkip {
			steps[i] = p
			if p.Err != nil {
				errs = append(errs, p.Err)
			}
			continue
		}
		st, err := exportTx(ctx, db, store, p.Key, opts)
		steps[i] = st
		log := opts.logger()
		switch {
		case err != nil:
			errs = append(errs, err)
			log.ErrorContext(ctx, "migrate: export failed", "sequence", p.Key, "err", err)
		case st.Applied:
			log.InfoContext(ctx, "migrate: exported", "sequence", p.Key, "note", st.Note)
		}
		if st.Warning != "" {
			log.WarnContext(ctx, "migrate: "+st.Warning, "sequence", p.Key)
		}
	}
	return steps, errors.Join(errs...)
}

func exportTx(ctx context.Context, db DB, store seqcache.Store, key string, opts Options) (Step, error) {
	st := Step{Key: key, Action: ActionFail}
	fail := func(err error) (Step, error) {
		st.Action, st.Err = ActionFail, err
		return st, err
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
	if err == nil && e == nil {
		err = errorf(key, codeObjectNotInState, "", "no longer in the store (dropped meanwhile?)")
	}
	if err != nil {
		return fail(err)
	}
	st = planExport(n, *e, opts.gap())
	switch st.Action {
	case ActionFail:
		return st, st.Err
	case ActionDone:
		return st, tx.Commit()
	}
	if err := apply(ctx, tx, st); err != nil {
		if code(err) == codeInsufficientPrivilege {
			return fail(failure(key, codeInsufficientPrivilege, "cannot change the database's sequence",
				"run export as the sequence's owner, or have the owner run it", err))
		}
		return fail(dbError(key, err))
	}
	if err := tx.Commit(); err != nil {
		return fail(failure(key, codeConnectionFailure, "committing", "run export again", err))
	}
	st.Applied = true
	return st, nil
}

// selectStore returns the store's sequences that opts selects, by key. A
// key of Only the store lacks is 42P01.
func selectStore(ctx context.Context, store seqcache.Store, opts Options) ([]seqcache.Sequence, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	var out []seqcache.Sequence
	if len(opts.Only) > 0 {
		var errs []error
		for _, k := range opts.Only {
			s, err := getSequence(ctx, store, k)
			switch {
			case err != nil:
				errs = append(errs, err)
			case s == nil:
				e := seqcache.UnknownSequence(k)
				e.Hint = "it is not in the store: check the name, --schema and --namespace"
				errs = append(errs, e)
			case !opts.managed(k):
				errs = append(errs, excluded(k))
			default:
				out = append(out, *s)
			}
		}
		return out, errors.Join(errs...)
	}
	all, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: listing the store: %w", err)
	}
	for _, s := range all {
		if opts.managed(s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

// nativeMap reads the database's sequences that seqs name, by key.
func nativeMap(ctx context.Context, db DB, seqs []seqcache.Sequence) (map[string]Native, error) {
	want := make(map[string]bool, len(seqs))
	for _, s := range seqs {
		want[s.Name] = true
	}
	all, err := readNative(ctx, db, nil, func(key string) bool { return want[key] })
	if err != nil {
		return nil, err
	}
	m := make(map[string]Native, len(all))
	for _, n := range all {
		m[n.Key()] = n
	}
	return m, nil
}
