package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/seqcache"
)

// SQLSTATEs of import and export failures beside seqcache's codes.
const (
	codeInsufficientPrivilege = "42501"                       // may not read or alter the sequence
	codeLockNotAvailable      = "55P03"                       // lock_timeout while waiting for the sequence
	codeObjectNotInState      = seqcache.CodeObjectNotInState // a limit in the way, or the sequence changed meanwhile
	codeSequenceLimit         = seqcache.CodeSequenceLimit    // nothing left to hand over
	codeQueryCanceled         = seqcache.CodeQueryCanceled
	codeConnectionFailure     = seqcache.CodeConnectionFailure // the store (or the database) could not be reached
)

// Error is a sequence that could not be imported or exported: why, and the
// fix. Code is the SQLSTATE that fits the reason (42501 no privilege,
// 55P03 a lock timeout, 55000 a limit in the way or the sequence changed
// meanwhile, 2200H nothing left to hand over, 08006 the store could not be
// reached, or PostgreSQL's own code), so that the driver's lazy import can
// give the caller the reason and not only a log line. errors.Is and
// errors.As reach the cause.
type Error struct {
	Sequence string // store key, "schema.name"
	Code     string // SQLSTATE
	Reason   string // what went wrong, for people
	Fix      string // what to do about it; may be empty
	Err      error  // the cause, if any
}

func (e *Error) Error() string {
	msg := "sequence " + e.Sequence + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += ": fix: " + e.Fix
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// SQLState returns the SQLSTATE.
func (e *Error) SQLState() string { return e.Code }

// failure builds an *Error whose code is the cause's when it has one (a
// PostgreSQL or store error), else code.
func failure(key, code, reason, fix string, cause error) *Error {
	if c := codeOf(cause); c != "" {
		code = c
	}
	return &Error{Sequence: key, Code: code, Reason: reason, Fix: fix, Err: cause}
}

// codeOf is the SQLSTATE carried by err: PostgreSQL's, a store error's, or
// 57014 for a cancelled or expired context; "" otherwise.
func codeOf(err error) string {
	var pg *pgconn.PgError
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &pg):
		return pg.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return codeQueryCanceled
	}
	return seqcache.CodeOf(err)
}

// storeError is a failed store request during a migration: the store's own
// code, else 08006 (it could not be reached).
func storeError(key, what string, err error) *Error {
	return failure(key, codeConnectionFailure, what, "", err)
}

// dbError is a failed statement on the database: PostgreSQL's code, with
// the fix for a lock timeout.
func dbError(key string, err error) *Error {
	if code(err) == codeLockNotAvailable {
		return failure(key, codeLockNotAvailable, "waiting for the sequence's lock",
			"a long transaction that called nextval on it holds its lock: run again when it has ended, or raise --lock-timeout", err)
	}
	return failure(key, codeConnectionFailure, "on the database", "", err)
}

// errorf is an *Error with code and a formatted reason.
func errorf(key, code, fix, format string, args ...any) *Error {
	return &Error{Sequence: key, Code: code, Reason: fmt.Sprintf(format, args...), Fix: fix}
}
