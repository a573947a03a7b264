package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/seqcache"
)

// DefaultTable is the table used when Options.Table is empty.
const DefaultTable = "seqshim_sequences"

// Options configure a Store.
type Options struct {
	// Table is the DynamoDB table; default DefaultTable.
	Table string
	// Namespace, when set, prefixes every key ("namespace/schema.seq") so
	// that one table serves many databases. It must not contain "/".
	Namespace string
	// ClientOptions adjust the DynamoDB client (retries, middleware,
	// endpoint) on top of the aws.Config.
	ClientOptions []func(*dynamodb.Options)
	// CreateTable makes Open call EnsureTable.
	CreateTable bool
}

// Store is the DynamoDB seqcache.Store. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  string
	ns     string

	specs sync.Map // sequence name -> known: definitions learnt from reads

	// writeOnce is the retry policy of requests that must not be applied
	// twice (SetValue, GiveBack): retried only when throttled.
	writeOnce func(*dynamodb.Options)
}

// known is a sequence definition and the incarnation it belongs to.
type known struct {
	spec seqcache.Spec
	cid  string
}

var _ seqcache.Store = (*Store)(nil)

// New returns a Store using cfg, which normally comes from
// config.LoadDefaultConfig: the standard chain (AWS_REGION, credentials,
// profiles, roles, AWS_ENDPOINT_URL_DYNAMODB).
func New(cfg aws.Config, opts Options) (*Store, error) {
	if strings.Contains(opts.Namespace, "/") {
		return nil, fmt.Errorf("dynamo: namespace %q must not contain '/'", opts.Namespace)
	}
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	client := dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){shortRetries}, opts.ClientOptions...)...)
	maxAttempts := client.Options().RetryMaxAttempts
	return &Store{
		client:    client,
		table:     table,
		ns:        opts.Namespace,
		writeOnce: throttleOnly(maxAttempts),
	}, nil
}

// Open loads the AWS configuration from the standard chain and returns a
// Store; with opts.CreateTable it also makes sure the table exists.
func Open(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: loading AWS configuration: %w", err)
	}
	s, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	if opts.CreateTable {
		if err := s.EnsureTable(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// MaxRetryBackoff bounds the SDK's pause between two attempts of one
// request. The SDK's default (up to 20 s, about 1 s for the first retry)
// would stretch one request past seqcache's attempt deadline (1 s): the
// cache then counts the store as unreachable and retries on its own
// schedule instead, so the SDK's retries are kept short.
const MaxRetryBackoff = 100 * time.Millisecond

// shortBackoff is the SDK backoff of a Store: full jitter, from 10 ms
// doubling up to MaxRetryBackoff.
var shortBackoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
	d := min(10*time.Millisecond<<min(attempt, 10), MaxRetryBackoff)
	return rand.N(d) + 1, nil
})

// shortRetries is the default retryer of a Store's client: the SDK's
// standard retryer with shortBackoff. Options.ClientOptions can replace it.
func shortRetries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.Backoff = shortBackoff })
}

// throttleOnly retries a request only when DynamoDB throttled it, that is,
// when it was certainly not applied.
func throttleOnly(maxAttempts int) func(*dynamodb.Options) {
	r := retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = shortBackoff
		if maxAttempts > 0 {
			o.MaxAttempts = maxAttempts
		}
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.RetryableErrorCode{Codes: retry.DefaultThrottleErrorCodes},
		}
	})
	return func(o *dynamodb.Options) { o.Retryer = r }
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// Namespace returns the namespace ("" for none).
func (s *Store) Namespace() string { return s.ns }

// Client returns the DynamoDB client.
func (s *Store) Client() *dynamodb.Client { return s.client }

func (s *Store) key(name string) string {
	if s.ns == "" {
		return name
	}
	return s.ns + "/" + name
}

func (s *Store) keyAttr(name string) item { return item{attrKey: str(s.key(name))} }

// own is the condition that the item exists and belongs to this namespace.
func (s *Store) own() (cond string, values item) {
	if s.ns == "" {
		return "attribute_exists(#name) AND attribute_not_exists(#ns)", item{}
	}
	return "#ns = :ns", item{":ns": str(s.ns)}
}

func (s *Store) remember(st state) {
	s.specs.Store(st.Name, known{spec: st.Spec, cid: st.cid})
}

func (s *Store) lookup(name string) (known, bool) {
	k, ok := s.specs.Load(name)
	if !ok {
		return known{}, false
	}
	return k.(known), true
}

// Create implements seqcache.Store.
func (s *Store) Create(ctx context.Context, spec seqcache.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	cid := newCID()
	cond := "attribute_not_exists(#name)"
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                s.encode(spec, cid),
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names(cond),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if getS(ccf.Item, attrCID) == cid {
			return nil // our own write, applied before a retry
		}
		e := seqcache.Exists(spec.Name)
		e.Err = err
		return e
	}
	if err != nil {
		return s.fail(spec.Name, err)
	}
	s.specs.Store(spec.Name, known{spec: spec, cid: cid})
	return nil
}

// Get implements seqcache.Store, with a consistent read.
func (s *Store) Get(ctx context.Context, name string) (seqcache.Sequence, error) {
	st, err := s.read(ctx, name)
	return st.Sequence, err
}

// read is a consistent read of a sequence.
func (s *Store) read(ctx context.Context, name string) (state, error) {
	if name == "" {
		return state{}, seqcache.UnknownSequence(name)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            s.keyAttr(name),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return state{}, s.fail(name, err)
	}
	return s.found(name, out.Item)
}

// found decodes an item read for name: 42P01 when there is none.
func (s *Store) found(name string, it item) (state, error) {
	st, ok, err := s.decode(it)
	if err != nil {
		return state{}, internal(name, err)
	}
	if !ok {
		return state{}, seqcache.UnknownSequence(name)
	}
	s.remember(st)
	return st, nil
}

// List implements seqcache.Store: a consistent scan of this namespace,
// page by page, sorted by name.
func (s *Store) List(ctx context.Context) ([]seqcache.Sequence, error) {
	filter, values := "#ns = :ns", item{":ns": str(s.ns)}
	if s.ns == "" {
		filter, values = "attribute_not_exists(#ns)", nil
	}
	pages := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          &filter,
		ExpressionAttributeNames:  names(filter),
		ExpressionAttributeValues: values,
	})
	var seqs []seqcache.Sequence
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("", err)
		}
		for _, it := range page.Items {
			st, ok, err := s.decode(it)
			if err != nil {
				return nil, internal(getS(it, attrSeq), err)
			}
			if ok {
				s.remember(st)
				seqs = append(seqs, st.Sequence)
			}
		}
	}
	slices.SortFunc(seqs, func(a, b seqcache.Sequence) int { return strings.Compare(a.Name, b.Name) })
	return seqs, nil
}

// Drop implements seqcache.Store. A Drop retried after a lost response
// may report 42P01 for the sequence it has just removed.
func (s *Store) Drop(ctx context.Context, name string) error {
	s.specs.Delete(name)
	if name == "" {
		return seqcache.UnknownSequence(name)
	}
	cond, values := s.own()
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       s.keyAttr(name),
		ConditionExpression:       &cond,
		ExpressionAttributeNames:  names(cond),
		ExpressionAttributeValues: nilIfEmpty(values),
	})
	return s.fail(name, err)
}

// SetValue implements seqcache.Store (setval). It reads the sequence to
// check the bounds, then writes next on the same incarnation. It is not
// retried after an ambiguous failure (see the package documentation).
func (s *Store) SetValue(ctx context.Context, name string, v int64, called bool) error {
	st, err := s.read(ctx, name)
	if err != nil {
		return err
	}
	if _, _, err := st.Spec.SetValue(v, called); err != nil {
		return err
	}
	next := strconv.FormatInt(v, 10)
	if called {
		next = sum(v, st.Increment) // beyond the limit means exhausted
	}
	// A new epoch: blocks reserved before can no longer be given back.
	update, cond := "SET #next = :next ADD #epoch :one", "#cid = :cid"
	_, err = s.update(ctx, name, update, cond, item{
		":next": numStr(next),
		":cid":  str(st.cid),
		":one":  num(1),
	}, types.ReturnValueNone, s.writeOnce)
	return s.fail(name, err)
}

func nilIfEmpty(m item) item {
	if len(m) == 0 {
		return nil
	}
	return m
}
