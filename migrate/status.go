package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/seqshim/seqshim/seqcache"
)

// Phase is where a sequence stands in the migration.
type Phase string

// Phases reported by Status.
const (
	PhaseDatabaseOnly Phase = "database-only" // not in the store
	PhaseStoreOnly    Phase = "store-only"    // not in the database
	// PhaseImported: the database's limit comes before every value the
	// store has handed out or will.
	PhaseImported Phase = "imported"
	// PhaseExported: the database's values, from its START (which export
	// sets) to its next value, are past the store's next.
	PhaseExported Phase = "exported"
	// PhaseOverlap: a value one side may still hand out is one the other
	// side has handed out or may hand out.
	PhaseOverlap Phase = "overlap"
)

// State is one sequence's migration state.
type State struct {
	Key    string
	Native *Native            // nil when the database does not have it
	Store  *seqcache.Sequence // nil when the store does not have it
	Phase  Phase
	// Margin: imported, the values the database can still hand out before
	// its cap; exported, the values the store can still hand out before it
	// reaches the database's next value. 0 otherwise.
	Margin int64
	// Overlap is true in PhaseOverlap: ranges could overlap.
	Overlap bool
	Note    string
}

// Status returns the state of the sequences opts selects that the database
// or the store has, ordered by key. Only keys neither side has are errors.
func Status(ctx context.Context, db DB, store seqcache.Store, opts Options) ([]State, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	var seqs []seqcache.Sequence
	if len(opts.Only) > 0 {
		for _, k := range opts.Only {
			s, err := getSequence(ctx, store, k)
			if err != nil {
				return nil, err
			}
			if s != nil {
				seqs = append(seqs, *s)
			}
		}
	} else {
		all, err := store.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: listing the store: %w", err)
		}
		seqs = all
	}
	var only map[string]bool
	if len(opts.Only) > 0 {
		only = make(map[string]bool)
		for _, k := range opts.Only {
			only[k] = true
		}
	}
	natives, err := readNative(ctx, db, nil, func(key string) bool {
		return (only == nil || only[key]) && opts.managed(key)
	})
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*State)
	for _, n := range natives {
		n := n
		byKey[n.Key()] = &State{Key: n.Key(), Native: &n}
	}
	for _, s := range seqs {
		if !opts.managed(s.Name) {
			continue
		}
		s := s
		st := byKey[s.Name]
		if st == nil {
			st = &State{Key: s.Name}
			byKey[s.Name] = st
		}
		st.Store = &s
	}
	var errs []error
	for _, k := range opts.Only {
		if byKey[k] == nil {
			e := seqcache.UnknownSequence(k)
			e.Hint = "neither the database nor the store has it: check the name, --schema and --namespace"
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]State, 0, len(byKey))
	for _, st := range byKey {
		out = append(out, classify(*st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// classify fills st's phase, margin and note from its two sides.
func classify(st State) State {
	n, e := st.Native, st.Store
	switch {
	case e == nil:
		st.Phase, st.Note = PhaseDatabaseOnly, "not in the store: the database hands out its values (the driver imports it on first use, or import it)"
		return st
	case n == nil:
		st.Phase, st.Note = PhaseStoreOnly, "not in the database"
		return st
	}
	overlap := func(why string) State {
		st.Phase, st.Overlap = PhaseOverlap, true
		st.Note = why + fmt.Sprintf(": fix: import (--only %s) caps the database below the store, "+
			"or export (--only %s) moves it past the store", st.Key, st.Key)
		return st
	}
	if e.Increment != n.Increment {
		return overlap(fmt.Sprintf("INCREMENT is %d in the store, %d in the database", e.Increment, n.Increment))
	}
	asc := n.Ascending()
	low := e.Start
	if !e.Exhausted && before(asc, e.Next, low) {
		low = e.Next
	}
	next, hasNext := n.Next()
	if before(asc, n.Limit(), low) {
		st.Phase = PhaseImported
		if hasNext {
			st.Margin = remainingBetween(*n, next, n.Limit()) + 1
		}
		st.Note = fmt.Sprintf("the database can hand out %d more value(s) before its %s %d; the store's first value is %d, next %s",
			st.Margin, limitWord(*n), n.Limit(), low, nextText(*e))
		return st
	}
	switch {
	case !hasNext && !n.Cycle && n.Called && !e.Exhausted && before(asc, n.LastValue, e.Next):
		// Stopped by import at its last value, the store past it.
		st.Phase = PhaseImported
		st.Note = fmt.Sprintf("the database is stopped at its %s %d (its nextval fails with 2200H); the store's next %d is past it",
			limitWord(*n), n.Limit(), e.Next)
		if !before(asc, n.LastValue, low) {
			st.Note += fmt.Sprintf("; values from %d to %d may have been handed out by both before", low, n.LastValue)
		}
		return st
	case e.Exhausted && !e.Cycle && !hasNext:
		st.Phase = PhaseExported
		st.Note = "both sides are exhausted"
		return st
	case !e.Exhausted && hasNext && before(asc, e.Next, next) && !before(asc, n.Start, e.Next):
		// The database's values (from its START, which export sets, to its
		// last) are all past the store's.
		st.Phase = PhaseExported
		st.Margin = remainingBetween(*n, e.Next, n.Start)
		st.Note = fmt.Sprintf("the database resumed at %d (START), past the store's next %d: the store can hand out %d more value(s) before it reaches the database's values",
			n.Start, e.Next, st.Margin)
		return st
	}
	return overlap(fmt.Sprintf("the database (next %s, %s %d) can hand out values the store has handed out or will (first %d, next %s)",
		nativeNextText(*n), limitWord(*n), n.Limit(), low, nextText(*e)))
}
