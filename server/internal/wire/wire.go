// Package wire is what the seqshim server and its client share: the
// conversions between seqcache's types and the protocol's, errors carried
// as status details, and the block arithmetic of Reserve's after.
package wire

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seqshim/seqshim/internal/checked"
	"github.com/seqshim/seqshim/seqcache"
	pb "github.com/seqshim/seqshim/server/seqshimpb"
)

// SQLSTATEs of the server tier's own refusals, as PostgreSQL names them.
const (
	CodeInvalidAuthorization  = "28000" // no valid token
	CodeInsufficientPrivilege = "42501" // a token used outside its namespaces
)

func EncodeSpec(s seqcache.Spec) *pb.Spec {
	return &pb.Spec{Name: s.Name, Start: s.Start, Increment: s.Increment, MinValue: s.MinValue,
		MaxValue: s.MaxValue, Cycle: s.Cycle, Cache: s.Cache, Ordered: s.Ordered}
}

func DecodeSpec(s *pb.Spec) seqcache.Spec {
	return seqcache.Spec{Name: s.GetName(), Start: s.GetStart(), Increment: s.GetIncrement(),
		MinValue: s.GetMinValue(), MaxValue: s.GetMaxValue(), Cycle: s.GetCycle(),
		Cache: s.GetCache(), Ordered: s.GetOrdered()}
}

func EncodeSequence(s seqcache.Sequence) *pb.Sequence {
	return &pb.Sequence{Spec: EncodeSpec(s.Spec), Next: s.Next, Exhausted: s.Exhausted, Epoch: s.Epoch}
}

func DecodeSequence(s *pb.Sequence) seqcache.Sequence {
	return seqcache.Sequence{Spec: DecodeSpec(s.GetSpec()), Next: s.GetNext(), Exhausted: s.GetExhausted(), Epoch: s.GetEpoch()}
}

func EncodeBlock(b seqcache.Block) *pb.Block {
	return &pb.Block{First: b.First, Count: b.Count, Increment: b.Increment, Epoch: b.Epoch}
}

func DecodeBlock(b *pb.Block) seqcache.Block {
	return seqcache.Block{First: b.GetFirst(), Count: b.GetCount(), Increment: b.GetIncrement(), Epoch: b.GetEpoch()}
}

// grpcCodes maps SQLSTATEs to the gRPC code a status carries, so that
// generic gRPC tooling sees a sensible class; the SQLSTATE itself travels
// in the SequenceError detail.
var grpcCodes = map[string]codes.Code{
	seqcache.CodeUndefinedTable:    codes.NotFound,
	seqcache.CodeDuplicateTable:    codes.AlreadyExists,
	seqcache.CodeSequenceLimit:     codes.OutOfRange,
	seqcache.CodeNumericOutOfRange: codes.OutOfRange,
	seqcache.CodeInvalidParameter:  codes.InvalidArgument,
	seqcache.CodeObjectNotInState:  codes.FailedPrecondition,
	seqcache.CodeConnectionFailure: codes.Unavailable,
	seqcache.CodeQueryCanceled:     codes.Canceled,
	seqcache.CodeInternalError:     codes.Internal,
	CodeInvalidAuthorization:       codes.Unauthenticated,
	CodeInsufficientPrivilege:      codes.PermissionDenied,
	"08003":                        codes.Unavailable, // seqcache.ErrClosed: the server is stopping
}

// Status turns a store error into a gRPC status error whose detail is
// the *seqcache.Error, cause flattened into its text.
func Status(err error) error {
	if err == nil {
		return nil
	}
	var e *seqcache.Error
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, err.Error())
		}
		return status.Error(codes.Internal, err.Error())
	}
	c, ok := grpcCodes[e.Code]
	if !ok {
		c = codes.Internal
	}
	detail := e.Detail
	if e.Err != nil {
		detail = joinDetail(detail, e.Err.Error())
	}
	st, derr := status.New(c, err.Error()).WithDetails(&pb.SequenceError{
		Code: e.Code, Sequence: e.Sequence, Message: e.Message, Detail: detail, Hint: e.Hint,
	})
	if derr != nil {
		return status.Error(c, err.Error())
	}
	return st.Err()
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}

// ErrorOf rebuilds the *seqcache.Error a server sent, or returns nil
// when err carries none (a transport failure, not an answer).
func ErrorOf(err error) *seqcache.Error {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, d := range st.Details() {
		if se, ok := d.(*pb.SequenceError); ok {
			return &seqcache.Error{Code: se.GetCode(), Sequence: se.GetSequence(), Message: se.GetMessage(),
				Detail: se.GetDetail(), Hint: se.GetHint()}
		}
	}
	return nil
}

// ServiceName is the gRPC service, also the name its health is reported under.
const ServiceName = "seqshim.v1.Sequences"

// NotPast counts the leading values of b that are not past after (none
// when b is of another epoch or increment).
func NotPast(b, after seqcache.Block) int64 {
	if b.Epoch != after.Epoch || b.Increment != after.Increment || b.Count <= 0 {
		return 0
	}
	last := after.Last()
	if (b.Increment > 0 && b.First > last) || (b.Increment < 0 && b.First < last) {
		return 0
	}
	return min(b.Count, StepsTo(b.First, last, b.Increment)+1)
}

// StepsTo is how many increments lead from v to w (w not before v),
// capped at seqcache.MaxNextN.
func StepsTo(v, w, inc int64) int64 {
	var span uint64
	if inc > 0 {
		if w < v {
			return 0
		}
		span = uint64(w) - uint64(v)
	} else {
		if w > v {
			return 0
		}
		span = uint64(v) - uint64(w)
	}
	return int64(min(span/checked.Abs(inc), seqcache.MaxNextN))
}

// LoadCertPool reads PEM certificates into a pool.
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seqshim: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("seqshim: CA %s: no PEM certificate", path)
	}
	return pool, nil
}
