package driver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/seqcache"
)

// TestSeqErr: seqcache's errors become PostgreSQL's, worded as PostgreSQL
// words them and naming the relation as the statement did, with errors.Is
// still reaching the seqcache sentinel and errors.As the PgError.
func TestSeqErr(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	bad := seqcache.Spec{Name: "app.s", Increment: 0, MinValue: 1, MaxValue: 10, Start: 1, Cache: 1}.Validate()
	tests := []struct {
		rel  string
		err  error
		code string
		msg  string
		is   error
	}{
		{"s", seqcache.UnknownSequence("public.s"), codeUndefinedTable, `relation "s" does not exist`, seqcache.ErrUnknownSequence},
		{"S x", seqcache.Exists("app.S x"), codeDuplicateTable, `relation "S x" already exists`, seqcache.ErrExists},
		{"up", seqcache.LimitReached("public.up", 1004, true), codeSequenceGeneratorLimitExceeded,
			`nextval: reached maximum value of sequence "up" (1004)`, seqcache.ErrLimitReached},
		{"down", fmt.Errorf("wrapped: %w", seqcache.LimitReached("public.down", -3016, false)), codeSequenceGeneratorLimitExceeded,
			`nextval: reached minimum value of sequence "down" (-3016)`, seqcache.ErrLimitReached},
		{"s", seqcache.OutOfRange("public.s", 5, 10, 1000), codeNumericValueOutOfRange,
			`setval: value 5 is out of bounds for sequence "s" (10..1000)`, seqcache.ErrOutOfRange},
		{"s", seqcache.NotCalled("public.s"), codeObjectNotInPrerequisiteState,
			`currval of sequence "s" is not yet defined in this session`, seqcache.ErrNotCalled},
		{"", seqcache.NotCalled(""), codeObjectNotInPrerequisiteState, "lastval is not yet defined in this session", seqcache.ErrNotCalled},
		{"s", seqcache.Unavailable("public.s", cause), codeConnectionFailure, `sequence store unavailable for "s"`, cause},
		{"s", bad, codeInvalidParameterValue, `sequence "s": INCREMENT must not be zero`, seqcache.ErrInvalidSpec},
		{"s", &seqcache.Error{Code: seqcache.CodeQueryCanceled, Sequence: "public.s", Message: "canceling statement due to user request", Err: context.Canceled},
			codeQueryCanceled, "canceling statement due to user request", context.Canceled},
		{"s", seqcache.ErrClosed, codeConnectionDoesNotExist, "sequence cache is closed", seqcache.ErrClosed},
		{"s", cause, codeConnectionFailure, `seqshim: sequence store failed for "s"`, cause},
	}
	for _, tc := range tests {
		err := seqErr(tc.rel, tc.err)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Message != tc.msg || pe.Severity != "ERROR" {
			t.Errorf("seqErr(%q, %v) = %+v, want %s %q", tc.rel, tc.err, pe, tc.code, tc.msg)
		}
		if !errors.Is(err, tc.is) {
			t.Errorf("seqErr(%q, %v): errors.Is(%v) is false", tc.rel, tc.err, tc.is)
		}
	}
	// PostgreSQL's own errors pass unchanged.
	own := &pgconn.PgError{Code: "42501", Message: "permission denied for sequence s"}
	if err := seqErr("s", fmt.Errorf("import: %w", own)); !errors.Is(err, own) {
		t.Errorf("PostgreSQL's error became %v", err)
	}
}

// TestSQLStates: seqErr passes seqcache's codes through and compares them
// with the driver's constants, so each pair must be equal; and every
// constant is the SQLSTATE of the PostgreSQL condition it is named after.
func TestSQLStates(t *testing.T) {
	for _, c := range []struct{ seqcache, driver string }{
		{seqcache.CodeUndefinedTable, codeUndefinedTable},
		{seqcache.CodeDuplicateTable, codeDuplicateTable},
		{seqcache.CodeSequenceLimit, codeSequenceGeneratorLimitExceeded},
		{seqcache.CodeNumericOutOfRange, codeNumericValueOutOfRange},
		{seqcache.CodeObjectNotInState, codeObjectNotInPrerequisiteState},
		{seqcache.CodeInvalidParameter, codeInvalidParameterValue},
		{seqcache.CodeConnectionFailure, codeConnectionFailure},
		{seqcache.CodeInternalError, codeInternalError},
		{seqcache.CodeQueryCanceled, codeQueryCanceled},
		{seqcache.ErrClosed.Code, codeConnectionDoesNotExist},
	} {
		if c.seqcache != c.driver {
			t.Errorf("seqcache's code %s, the driver's %s", c.seqcache, c.driver)
		}
	}
	// From PostgreSQL's src/backend/utils/errcodes.txt.
	for name, c := range map[string]struct{ got, want string }{
		"connection_does_not_exist":         {codeConnectionDoesNotExist, "08003"},
		"connection_failure":                {codeConnectionFailure, "08006"},
		"protocol_violation":                {codeProtocolViolation, "08P01"},
		"feature_not_supported":             {codeFeatureNotSupported, "0A000"},
		"numeric_value_out_of_range":        {codeNumericValueOutOfRange, "22003"},
		"invalid_parameter_value":           {codeInvalidParameterValue, "22023"},
		"sequence_generator_limit_exceeded": {codeSequenceGeneratorLimitExceeded, "2200H"},
		"invalid_text_representation":       {codeInvalidTextRepresentation, "22P02"},
		"in_failed_sql_transaction":         {codeInFailedSQLTransaction, "25P02"},
		"datatype_mismatch":                 {codeDatatypeMismatch, "42804"},
		"invalid_name":                      {codeInvalidName, "42602"},
		"undefined_table":                   {codeUndefinedTable, "42P01"},
		"duplicate_table":                   {codeDuplicateTable, "42P07"},
		"object_not_in_prerequisite_state":  {codeObjectNotInPrerequisiteState, "55000"},
		"query_canceled":                    {codeQueryCanceled, "57014"},
		"internal_error":                    {codeInternalError, "XX000"},
	} {
		if c.got != c.want {
			t.Errorf("%s is %s in PostgreSQL, %s here", name, c.want, c.got)
		}
	}
}
