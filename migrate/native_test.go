package migrate

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDroppedMeanwhile(t *testing.T) {
	dropped := &pgconn.PgError{Code: "XX000", Message: "could not open relation with OID 16411"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{dropped, true},
		{fmt.Errorf("reading: %w", dropped), true},
		{&pgconn.PgError{Code: "XX000", Message: "cache lookup failed for relation 16411"}, false},
		{&pgconn.PgError{Code: "42P01", Message: "could not open relation with OID 16411"}, false},
		{errors.New("could not open relation with OID 16411"), false},
		{nil, false},
	} {
		if got := droppedMeanwhile(tc.err); got != tc.want {
			t.Errorf("droppedMeanwhile(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
