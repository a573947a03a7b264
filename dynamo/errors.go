package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/seqcache"
)

// ErrTableSchema is returned (wrapped) by EnsureTable when the table exists
// with another key schema than seqshim's.
var ErrTableSchema = errors.New("dynamo: table has an incompatible key schema")

// fail maps an AWS error about sequence name to a *seqcache.Error that
// wraps it. A failed condition means the sequence is not (or no longer)
// there: 42P01. nil stays nil.
func (s *Store) fail(name string, err error) error {
	if err == nil {
		return nil
	}
	var se *seqcache.Error
	if errors.As(err, &se) {
		return err
	}
	var (
		ccf *types.ConditionalCheckFailedException
		rnf *types.ResourceNotFoundException
	)
	switch {
	case errors.As(err, &ccf):
		e := seqcache.UnknownSequence(name)
		e.Err = err
		return e
	case errors.Is(err, context.Canceled):
		return &seqcache.Error{
			Code:     seqcache.CodeQueryCanceled,
			Sequence: name,
			Message:  "canceling statement due to user request",
			Err:      err,
		}
	case errors.As(err, &rnf):
		e := seqcache.Unavailable(name, err)
		e.Detail = fmt.Sprintf("DynamoDB table %q does not exist", s.table)
		e.Hint = "create it with Store.EnsureTable, or Open with Options.CreateTable"
		return e
	default:
		return seqcache.Unavailable(name, err)
	}
}

// internal reports an item the store cannot read (XX000).
func internal(name string, err error) error {
	return &seqcache.Error{
		Code:     seqcache.CodeInternalError,
		Sequence: name,
		Message:  "sequence item unreadable",
		Err:      err,
	}
}
