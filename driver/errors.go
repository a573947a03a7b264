package driver

import (
	"errors"
	"fmt"

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
// Errors that are not *seqcache.Error are store failures: 08006.
func seqErr(rel string, err error) error {
	if me := (*migrate.Error)(nil); errors.As(err, &me) {
		return importErr(rel, me)
	}
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) {
		return err // PostgreSQL's own error, from a lazy import
	}
	var se *seqcache.Error
	if !errors.As(err, &se) {
		return pgErr(codeConnectionFailure,
			fmt.Sprintf("seqshim: sequence store failed for %q", rel),
			"check the store endpoint and credentials", err)
	}
	hint := se.Hint
	if se.Code == codeUndefinedTable {
		hint = "create the sequence in the store with `seqshim create` or `seqshim import`"
	}
	return pgErr(se.Code, seqMessage(se, rel), hint, err)
}

// seqMessage is PostgreSQL's message for se, naming the sequence rel as
// the statement did. se names it by its store key ("schema.name"), which
// PostgreSQL's messages do not.
func seqMessage(se *seqcache.Error, rel string) string {
	switch se.Code {
	case codeUndefinedTable:
		return fmt.Sprintf("relation %q does not exist", rel)
	case codeDuplicateTable:
		return fmt.Sprintf("relation %q already exists", rel)
	case codeSequenceGeneratorLimitExceeded:
		which := "minimum"
		if se.Ascending {
			which = "maximum"
		}
		return fmt.Sprintf("nextval: reached %s value of sequence %q (%d)", which, rel, se.Value)
	case codeNumericValueOutOfRange:
		return fmt.Sprintf("setval: value %d is out of bounds for sequence %q (%d..%d)", se.Value, rel, se.Min, se.Max)
	case codeObjectNotInPrerequisiteState:
		if se.Sequence == "" {
			return "lastval is not yet defined in this session"
		}
		return fmt.Sprintf("currval of sequence %q is not yet defined in this session", rel)
	case codeConnectionFailure:
		return fmt.Sprintf("sequence store unavailable for %q", rel)
	case codeInvalidParameterValue:
		if se.Sequence != "" && se.Detail != "" { // a bad definition (seqcache.Spec.Validate)
			return fmt.Sprintf("sequence %q: %s", rel, se.Detail)
		}
	}
	return se.Message // names no sequence: canceled, closed, unreadable
}

// importErr is a lazy import that could not be done: its own SQLSTATE
// (42501, 55P03, 55000, 2200H, ...), its reason and its fix, so that the
// caller learns what the log says.
func importErr(rel string, me *migrate.Error) error {
	msg := fmt.Sprintf("seqshim: cannot import sequence %q from PostgreSQL: %s", rel, me.Reason)
	detail := ""
	if me.Err != nil {
		detail = me.Err.Error()
	}
	if se := (*seqcache.Error)(nil); errors.As(me.Err, &se) && se.Code == me.Code {
		// Nothing left to hand over: PostgreSQL's nextval says the same.
		msg, detail = seqMessage(se, rel), "seqshim: "+me.Reason
	}
	e := pgErr(me.Code, msg, me.Fix, me)
	e.PgErr.Detail = detail
	return e
}
