package driver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/seqcache"
)

// Error is a sequence error as PostgreSQL would report it. errors.As
// reaches its *pgconn.PgError, so code written for pgx keeps working, and
// errors.Is reaches the seqcache error beneath (seqcache.ErrLimitReached,
// ...) and its cause.
type Error struct {
	PgErr *pgconn.PgError
	Err   error // the seqcache error or other cause, if any
}

func (e *Error) Error() string { return e.PgErr.Error() }

// Unwrap returns the *pgconn.PgError and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.PgErr}
	}
	return []error{e.PgErr, e.Err}
}

// SQLState returns the SQLSTATE.
func (e *Error) SQLState() string { return e.PgErr.Code }

func pgErr(code, msg, hint string, cause error) *Error {
	return &Error{PgErr: &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR",
		Code: code, Message: msg, Hint: hint}, Err: cause}
}

// seqErr turns a store or cache error about the sequence named rel (as
// PostgreSQL names it in messages: without schema) into PostgreSQL's error.
// Errors that carry no SQLSTATE are store failures: 08006.
func seqErr(rel string, err error) error {
	if me := (*migrate.Error)(nil); errors.As(err, &me) {
		return importErr(rel, me)
	}
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) {
		return err // PostgreSQL's own error, from a lazy import
	}
	var se *seqcache.Error
	if !errors.As(err, &se) {
		return pgErr(seqcache.CodeConnectionFailure,
			fmt.Sprintf("seqshim: sequence store failed for %q", rel),
			"check the store endpoint and credentials", err)
	}
	switch se.Code {
	case seqcache.CodeUndefinedTable:
		return pgErr(se.Code, fmt.Sprintf("relation %q does not exist", rel),
			"create the sequence in the store with `seqshim create` or `seqshim import`", err)
	default:
		// seqcache words its messages as PostgreSQL does, naming the
		// sequence by its store key; PostgreSQL names the relation.
		msg := strings.Replace(se.Message, strconv.Quote(se.Sequence), strconv.Quote(rel), 1)
		return pgErr(se.Code, msg, se.Hint, err)
	}
}

// importErr is a lazy import that could not be done: its own SQLSTATE
// (42501, 55P03, 55000, 2200H, ...), its reason and its fix, so that the
// caller learns what the log says.
func importErr(rel string, me *migrate.Error) error {
	msg := fmt.Sprintf("seqshim: cannot import sequence %q from PostgreSQL: %s", rel, me.Reason)
	if me.Code == seqcache.CodeSequenceLimit {
		msg = me.Reason // nothing left to hand over: PostgreSQL's nextval says the same
	}
	e := pgErr(me.Code, msg, me.Fix, me)
	if me.Err != nil {
		e.PgErr.Detail = me.Err.Error()
	}
	return e
}
