// Package migrate moves PostgreSQL sequences into a seqshim store and back
// without downtime: import (database to store), export (the rollback,
// store to database) and status (are the two sides disjoint?).
// MySQLImport, MySQLExport and MySQLStatus do the same for MariaDB's
// sequences and AUTO_INCREMENT tables (see mysql.go: an AUTO_INCREMENT
// cannot be capped, so its unique key turns a collision into error 1062).
//
// # Import
//
// For each sequence of pg_sequences (every parameter: start, increment,
// min, max, cycle, cache, last_value and, when last_value is NULL,
// is_called read from the sequence itself), import creates the sequence in
// the store at
//
//	start = last + gap*increment
//
// where last is the sequence's last_value column: the last value handed
// out, or, for a sequence never called (or set with setval(s, v, false)),
// the value its next nextval would return. It then caps the database's
// own sequence just below that start,
//
//	ALTER SEQUENCE s MAXVALUE <start - increment> [NO CYCLE]     (ascending)
//	ALTER SEQUENCE s MINVALUE <start - increment> [NO CYCLE]     (descending)
//
// so that instances still on native sequences keep gap-1 more values (gap
// for a never-called sequence) and then fail with 2200H instead of running
// into the values seqshim hands out. CYCLE is switched off by the cap so
// that the native side fails loudly rather than wrapping early; the store
// keeps the sequence's real limits and CYCLE, which export restores.
//
// When fewer values remain from the database's next value to its limit
// than that needs (the store would start past the limit), the database
// keeps half of what remains, rounded down, and the step carries a
// Warning; a gap that fits is used as given. A cap that would meet the
// other limit moves it one value out of the way, since PostgreSQL wants
// MINVALUE < MAXVALUE; a CYCLE sequence at its limit restarts from its
// other limit, the value its next nextval returns. A sequence with no
// value left and no CYCLE is not imported: *Error with 2200H.
//
// # Exact handover
//
// With Options.Gap = ExactHandover (gap 0) the store starts at the value
// the database's next nextval would return, and the database's sequence
// is stopped exactly where it stands: capped at its last value or, when
// it was never called (or wraps), set with RESTART WITH and setval to the
// value before, called, so that its next nextval fails with 2200H. The
// RESTART is applied only after the sequence's lock is taken and its
// position read again, so that a value handed out meanwhile is never
// handed out twice.
//
// # Errors
//
// Failures are *Error values: the sequence, a SQLSTATE that fits the
// reason (42501 no privilege, 55P03 lock timeout, 55000 a limit in the way
// or the sequence changed meanwhile, 2200H nothing left, 08006 the store
// could not be reached, or PostgreSQL's own), the reason and the fix.
//
// Each sequence is imported in one PostgreSQL transaction that holds a
// transaction-level advisory lock on the sequence's key (so importers,
// including the driver's lazy import, take turns), applies the cap first
// and creates the store sequence second, then commits. ALTER SEQUENCE
// blocks the native side's nextval until the commit, so the last value
// cannot move between the cap and the creation, and a failed creation
// rolls the cap back. The store's conditional create settles racing
// importers outside that lock (42P07): the sequence found is compared with
// the database and never moved backwards.
//
// When the store already has the sequence, import caps the database below
// the lowest value the store has handed out or will hand out (a sequence
// never called, whose next nextval returns last_value, is stopped just
// before it: RESTART and setval, called). If the
// database has already gone past it (the sequence was created in the
// store by hand, or the cap could not be applied and native instances kept
// drawing), import stops the database's sequence at its last value (every
// further native nextval fails with 2200H) and moves the store forward
// past it, and says that the values in between may have been handed out by
// both sides.
//
// Import is idempotent: a second run finds every sequence done and changes
// nothing.
//
// # Export
//
// Export is the rollback: for each sequence in the store it lifts the cap
// (MINVALUE, MAXVALUE and CYCLE back to the store's definition) and moves
// the database's sequence past everything the store has reserved, plus the
// gap: the next native value becomes store next + gap*increment, and START
// WITH is set to it, recording where the database's values resume. It never
// moves the database's sequence backwards, and a second run changes nothing.
//
// # Status
//
// Status puts each sequence in one state: in the database only, in the
// store only, imported (the database's limit is before every value of the
// store), exported (the database's next value is past the store's next),
// or overlap: a value one side may still hand out is one the other side
// has handed out or may hand out. The database is taken to have handed out
// the values from its START to its last value: a sequence whose store was
// created behind it is an overlap, one that export moved is not.
package migrate
