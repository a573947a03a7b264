package seqcache

import (
	"errors"
	"fmt"
)

// Codes of sequence errors. They are the SQLSTATEs PostgreSQL reports for
// the same conditions, so that a caller can handle them as it handles
// PostgreSQL's; the driver, not this package, words PostgreSQL's messages.
const (
	CodeUndefinedTable    = "42P01" // unknown sequence
	CodeDuplicateTable    = "42P07" // sequence already exists
	CodeSequenceLimit     = "2200H" // nextval reached the limit without cycle
	CodeNumericOutOfRange = "22003" // setval or a parameter out of range
	CodeObjectNotInState  = "55000" // currval or lastval before nextval
	CodeInvalidParameter  = "22023" // a bad sequence definition
	CodeConnectionFailure = "08006" // the store could not be reached
	CodeInternalError     = "XX000" // the store holds what it cannot read
	CodeQueryCanceled     = "57014" // the caller's context was canceled
)

// Error is a sequence error: what happened (Code), to which sequence, with
// which values, and why (Err). Its Error text names the sequence by its
// store key; the driver reports it with PostgreSQL's wording, naming the
// relation as the statement did.
type Error struct {
	Code     string // one of the Code constants
	Sequence string // the store key of the sequence concerned, when there is one
	// Value is setval's value (CodeNumericOutOfRange) or the limit reached
	// (CodeSequenceLimit).
	Value int64
	// Min and Max are the sequence's bounds (CodeNumericOutOfRange).
	Min, Max int64
	// Ascending is the sequence's direction: with CodeSequenceLimit, Value
	// is its maximum when true, its minimum when false.
	Ascending bool
	Message   string // the primary message
	Detail    string
	Hint      string // the way out
	Err       error  // the underlying cause, if any
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

// SQLState returns the code, a PostgreSQL SQLSTATE.
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
		Hint:     "create it in the store, or import it from PostgreSQL (package migrate)",
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
		Code:      CodeSequenceLimit,
		Sequence:  name,
		Value:     limit,
		Ascending: max,
		Message:   fmt.Sprintf("nextval: reached %s value of sequence %q (%d)", which, name, limit),
		Hint:      "create the sequence again with a wider limit or with CYCLE",
	}
}

// OutOfRange returns the error for setval outside the sequence's bounds.
func OutOfRange(name string, v, min, max int64) *Error {
	return &Error{
		Code:     CodeNumericOutOfRange,
		Sequence: name,
		Value:    v,
		Min:      min,
		Max:      max,
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
