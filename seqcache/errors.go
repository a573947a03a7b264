package seqcache

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by sequence errors, as PostgreSQL reports them.
const (
	CodeUndefinedTable       = "42P01" // unknown sequence
	CodeDuplicateTable       = "42P07" // sequence already exists
	CodeSequenceLimit        = "2200H" // nextval reached the limit without cycle
	CodeNumericOutOfRange    = "22003" // setval or a parameter out of range
	CodeObjectNotInState     = "55000" // currval or lastval before nextval
	CodeInvalidParameter     = "22023" // a bad sequence definition
	CodeFeatureNotSupported  = "0A000" // a statement seqshim cannot answer
	CodeConnectionFailure    = "08006" // the store could not be reached
	CodeInternalError        = "XX000"
	CodeQueryCanceled        = "57014"
	CodeInsufficientResource = "53000"
)

// Error is a sequence error carrying a PostgreSQL SQLSTATE, so that callers
// can keep the error handling they wrote for PostgreSQL.
type Error struct {
	Code     string // SQLSTATE, one of the Code constants
	Sequence string // the sequence concerned, when there is one
	Message  string // PostgreSQL-style primary message
	Detail   string
	Hint     string // the way out
	Err      error  // the underlying cause, if any
}

// Sentinels for errors.Is: an *Error matches a sentinel with the same Code.
var (
	ErrUnknownSequence = &Error{Code: CodeUndefinedTable, Message: "sequence does not exist"}
	ErrExists          = &Error{Code: CodeDuplicateTable, Message: "sequence already exists"}
	ErrLimitReached    = &Error{Code: CodeSequenceLimit, Message: "sequence reached its limit"}
	ErrOutOfRange      = &Error{Code: CodeNumericOutOfRange, Message: "value out of range"}
	ErrNotCalled       = &Error{Code: CodeObjectNotInState, Message: "nextval not yet called"}
	ErrInvalidSpec     = &Error{Code: CodeInvalidParameter, Message: "invalid sequence definition"}
	ErrUnavailable     = &Error{Code: CodeConnectionFailure, Message: "sequence store unavailable"}
)

func (e *Error) Error() string {
	msg := e.Message
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return fmt.Sprintf("%s (SQLSTATE %s)", msg, e.Code)
}

// SQLState returns the PostgreSQL error code.
func (e *Error) SQLState() string { return e.Code }

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrLimitReached) works for any sequence.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// UnknownSequence returns the error for a sequence the store does not have.
func UnknownSequence(name string) *Error {
	return &Error{
		Code:     CodeUndefinedTable,
		Sequence: name,
		Message:  fmt.Sprintf("relation %q does not exist", name),
		Hint:     "create it with `seqshim create` or import it with `seqshim import`",
	}
}

// Exists returns the error for creating a sequence that already exists.
func Exists(name string) *Error {
	return &Error{
		Code:     CodeDuplicateTable,
		Sequence: name,
		Message:  fmt.Sprintf("relation %q already exists", name),
	}
}

// LimitReached returns the error for a sequence without CYCLE that has
// handed out its last value. max is true for ascending sequences.
func LimitReached(name string, limit int64, max bool) *Error {
	which := "minimum"
	if max {
		which = "maximum"
	}
	return &Error{
		Code:     CodeSequenceLimit,
		Sequence: name,
		Message:  fmt.Sprintf("nextval: reached %s value of sequence %q (%d)", which, name, limit),
		Hint:     "raise the limit with `seqshim setval`/ALTER SEQUENCE or create the sequence with CYCLE",
	}
}

// OutOfRange returns the error for setval outside the sequence's bounds.
func OutOfRange(name string, v, min, max int64) *Error {
	return &Error{
		Code:     CodeNumericOutOfRange,
		Sequence: name,
		Message:  fmt.Sprintf("setval: value %d is out of bounds for sequence %q (%d..%d)", v, name, min, max),
	}
}

// NotCalled returns the error for currval before nextval in a session.
// An empty name is lastval's error.
func NotCalled(name string) *Error {
	if name == "" {
		return &Error{
			Code:    CodeObjectNotInState,
			Message: "lastval is not yet defined in this session",
			Hint:    "call nextval first on this connection",
		}
	}
	return &Error{
		Code:     CodeObjectNotInState,
		Sequence: name,
		Message:  fmt.Sprintf("currval of sequence %q is not yet defined in this session", name),
		Hint:     "call nextval first on this connection",
	}
}

// Unavailable wraps a store failure (network, deadline) with SQLSTATE 08006.
func Unavailable(name string, err error) *Error {
	return &Error{
		Code:     CodeConnectionFailure,
		Sequence: name,
		Message:  fmt.Sprintf("sequence store unavailable for %q", name),
		Err:      err,
		Hint:     "check the store endpoint and credentials, or raise the context deadline",
	}
}

// CodeOf returns the SQLSTATE of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
