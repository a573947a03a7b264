package dynamo_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/seqcache/storetest"
)

// TestConformance runs seqcache's store suite, each case in a fresh
// namespace of the shared table.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seqcache.Store { return newStore(t) })
}

// TestConformanceNoNamespace runs the suite without a namespace, each case
// on a table of its own.
func TestConformanceNoNamespace(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seqcache.Store {
		cfg := testenv.AWSConfig(t)
		s, err := dynamo.New(cfg, dynamo.Options{Table: newTable(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConformanceFreshClients runs the suite with a new Store (and SDK
// client) for every call, so that no definition is ever known in advance:
// every reservation takes the read and compare-and-set path first.
func TestConformanceFreshClients(t *testing.T) {
	storetest.Run(t, func(t *testing.T) seqcache.Store {
		return &freshStore{t: t, ns: testenv.UniqueName("f")}
	})
}

// freshStore opens a new dynamo.Store for each call.
type freshStore struct {
	t  *testing.T
	ns string
}

func (f *freshStore) s() *dynamo.Store { return openStore(f.t, f.ns) }

func (f *freshStore) Create(ctx context.Context, spec seqcache.Spec) error {
	return f.s().Create(ctx, spec)
}
func (f *freshStore) Get(ctx context.Context, name string) (seqcache.Sequence, error) {
	return f.s().Get(ctx, name)
}
func (f *freshStore) List(ctx context.Context) ([]seqcache.Sequence, error) { return f.s().List(ctx) }
func (f *freshStore) Drop(ctx context.Context, name string) error           { return f.s().Drop(ctx, name) }
func (f *freshStore) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	return f.s().Reserve(ctx, name, n)
}
func (f *freshStore) SetValue(ctx context.Context, name string, v int64, called bool) error {
	return f.s().SetValue(ctx, name, v, called)
}
func (f *freshStore) GiveBack(ctx context.Context, name string, tail seqcache.Block) (bool, error) {
	return f.s().GiveBack(ctx, name, tail)
}

func TestEnsureTable(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	ctx := t.Context()
	name := testenv.UniqueName("seqshim_test_")
	tables.Store(name, cfg)
	s, err := dynamo.New(cfg, dynamo.Options{Table: name})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := s.EnsureTable(ctx); err != nil {
			t.Fatalf("EnsureTable: %v", err)
		}
	}
	out, err := s.Client().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	tbl := out.Table
	if tbl.TableStatus != types.TableStatusActive {
		t.Errorf("status %s, want ACTIVE", tbl.TableStatus)
	}
	if len(tbl.KeySchema) != 1 || *tbl.KeySchema[0].AttributeName != "name" || tbl.KeySchema[0].KeyType != types.KeyTypeHash {
		t.Errorf("key schema %+v, want name HASH", tbl.KeySchema)
	}
	if bm := tbl.BillingModeSummary; bm != nil && bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode %s, want PAY_PER_REQUEST", bm.BillingMode)
	}

	// A table with another key schema is a clear error.
	other := testenv.UniqueName("seqshim_test_")
	tables.Store(other, cfg)
	_, err = s.Client().CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &other,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := dynamo.New(cfg, dynamo.Options{Table: other})
	err = bad.EnsureTable(ctx)
	if !errors.Is(err, dynamo.ErrTableSchema) {
		t.Fatalf("EnsureTable on a pk/sk table = %v, want ErrTableSchema", err)
	}
	t.Logf("schema error: %v", err)
}

func TestMissingTable(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	s, err := dynamo.New(cfg, dynamo.Options{Table: testenv.UniqueName("seqshim_absent_")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Reserve(t.Context(), "public.s", 1)
	var rnf *types.ResourceNotFoundException
	if !errors.Is(err, seqcache.ErrUnavailable) || !errors.As(err, &rnf) {
		t.Fatalf("Reserve on a missing table = %v, want 08006 wrapping ResourceNotFoundException", err)
	}
	t.Logf("missing table: %v", err)
}

func TestNamespaceValidation(t *testing.T) {
	if _, err := dynamo.New(aws.Config{}, dynamo.Options{Namespace: "a/b"}); err == nil {
		t.Fatal("New accepted a namespace with '/'")
	}
	s, err := dynamo.New(aws.Config{Region: "us-east-1"}, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Table() != dynamo.DefaultTable || s.Table() != "seqshim_sequences" {
		t.Fatalf("default table %q", s.Table())
	}
}

// TestItemLayout reads the raw item: its key, namespace, sequence name and
// definition fields plus next, the layout other tools reading the table
// rely on.
func TestItemLayout(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	mustDefine(t, s, "public.orders_id_seq", seqcache.Start(10), seqcache.Increment(5),
		seqcache.MaxValue(1000), seqcache.CacheSize(20), seqcache.Cycle())
	if b := mustReserve(t, s, "public.orders_id_seq", 3); b != (seqcache.Block{First: 10, Count: 3, Increment: 5}) {
		t.Fatalf("block %+v", b)
	}
	out, err := s.Client().GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table()),
		Key:            map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: s.Namespace() + "/public.orders_id_seq"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"name": s.Namespace() + "/public.orders_id_seq", "ns": s.Namespace(), "seq": "public.orders_id_seq",
		"start": "10", "increment": "5", "minvalue": "1", "maxvalue": "1000", "cache": "20",
		"cycle": "true", "ordered": "false", "next": "25",
	}
	for k, v := range want {
		if got := render(out.Item[k]); got != v {
			t.Errorf("item[%s] = %q, want %q", k, got, v)
		}
	}
	if _, ok := out.Item["cid"].(*types.AttributeValueMemberS); !ok {
		t.Errorf("item has no cid: %v", out.Item)
	}
}

func render(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			return "true"
		}
		return "false"
	}
	return "?"
}

// TestExhaustedBeyondInt64 checks that a sequence ending on MaxInt64
// stores next = 2^63 exactly and reads back as exhausted.
func TestExhaustedBeyondInt64(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	mustDefine(t, s, "public.top", seqcache.Start(math.MaxInt64-9))
	if b := mustReserve(t, s, "public.top", 5); b.First != math.MaxInt64-9 || b.Count != 5 {
		t.Fatalf("block %+v", b)
	}
	// Fast path, ending exactly on the limit.
	if b := mustReserve(t, s, "public.top", 5); b.First != math.MaxInt64-4 || b.Count != 5 {
		t.Fatalf("block %+v", b)
	}
	out, err := s.Client().GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table()),
		Key:            map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: s.Namespace() + "/public.top"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := render(out.Item["next"]); got != "9223372036854775808" {
		t.Fatalf("stored next = %s, want 2^63", got)
	}
	sq, err := s.Get(ctx, "public.top")
	if err != nil || !sq.Exhausted {
		t.Fatalf("Get = %+v, %v; want exhausted", sq, err)
	}
	_, err = s.Reserve(ctx, "public.top", 1)
	if !errors.Is(err, seqcache.ErrLimitReached) {
		t.Fatalf("Reserve after the limit = %v, want 2200H", err)
	}
	// Descending, down to MinInt64.
	mustDefine(t, s, "public.bottom", seqcache.Increment(-3), seqcache.Start(math.MinInt64+5))
	if b := mustReserve(t, s, "public.bottom", 10); b != (seqcache.Block{First: math.MinInt64 + 5, Count: 2, Increment: -3}) {
		t.Fatalf("block %+v", b)
	}
	if sq, _ := s.Get(ctx, "public.bottom"); !sq.Exhausted {
		t.Fatalf("descending sequence not exhausted: %+v", sq)
	}
}

// TestNamespaces checks that stores with different namespaces on one table
// never see each other's sequences.
func TestNamespaces(t *testing.T) {
	ctx := t.Context()
	a, b := newStore(t), newStore(t)
	mustDefine(t, a, "public.s")
	mustDefine(t, b, "public.s", seqcache.Start(100))
	mustDefine(t, b, "public.only_b")
	if blk := mustReserve(t, a, "public.s", 2); blk.First != 1 {
		t.Fatalf("a: %+v", blk)
	}
	if blk := mustReserve(t, b, "public.s", 2); blk.First != 100 {
		t.Fatalf("b: %+v", blk)
	}
	la, _ := a.List(ctx)
	lb, _ := b.List(ctx)
	if len(la) != 1 || len(lb) != 2 {
		t.Fatalf("List: a has %d, b has %d; want 1 and 2", len(la), len(lb))
	}
	if _, err := a.Get(ctx, "public.only_b"); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("a sees b's sequence: %v", err)
	}

	// Without a namespace, the key "ns/public.s" is somebody else's item.
	plain, _ := dynamo.New(testenv.AWSConfig(t), dynamo.Options{Table: a.Table()})
	collide := a.Namespace() + "/public.s"
	if _, err := plain.Get(ctx, collide); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("store without namespace reads a namespaced item: %v", err)
	}
	if _, err := plain.Reserve(ctx, collide, 1); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("store without namespace reserves from a namespaced item: %v", err)
	}
	if err := plain.Drop(ctx, collide); !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("store without namespace drops a namespaced item: %v", err)
	}
	if sq, err := a.Get(ctx, "public.s"); err != nil || sq.Next != 3 {
		t.Fatalf("a's sequence after the attempts: %+v, %v", sq, err)
	}
}

// TestErrorsWrapAWS checks that SQLSTATE errors still reach the AWS error.
func TestErrorsWrapAWS(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	spec := mustDefine(t, s, "public.s")
	var ccf *types.ConditionalCheckFailedException

	err := s.Create(ctx, spec)
	if !errors.Is(err, seqcache.ErrExists) || !errors.As(err, &ccf) {
		t.Fatalf("Create twice = %v, want 42P07 wrapping ConditionalCheckFailedException", err)
	}
	err = s.Drop(ctx, "public.missing")
	if !errors.Is(err, seqcache.ErrUnknownSequence) || !errors.As(err, &ccf) {
		t.Fatalf("Drop missing = %v, want 42P01 wrapping ConditionalCheckFailedException", err)
	}
	var se *seqcache.Error
	if !errors.As(err, &se) || se.SQLState() != "42P01" || se.Sequence != "public.missing" {
		t.Fatalf("Drop missing: %#v", se)
	}
}

func TestContext(t *testing.T) {
	s := newStore(t)
	mustDefine(t, s, "public.s")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Reserve(ctx, "public.s", 1)
	var se *seqcache.Error
	if !errors.As(err, &se) || se.Code != seqcache.CodeQueryCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a canceled context = %v, want 57014 wrapping context.Canceled", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = s.Get(ctx, "public.s")
	if !errors.Is(err, seqcache.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past the deadline = %v, want 08006 wrapping DeadlineExceeded", err)
	}
}

// TestRecreated checks that a store holding an old definition notices a
// sequence dropped and created anew by another store.
func TestRecreated(t *testing.T) {
	a := newStore(t)
	b := openStore(t, a.Namespace())
	mustDefine(t, a, "public.s", seqcache.Increment(1))
	mustReserve(t, a, "public.s", 10) // a knows increment 1
	if err := b.Drop(t.Context(), "public.s"); err != nil {
		t.Fatal(err)
	}
	mustDefine(t, b, "public.s", seqcache.Increment(10), seqcache.Start(1000))
	if blk := mustReserve(t, a, "public.s", 3); blk != (seqcache.Block{First: 1000, Count: 3, Increment: 10}) {
		t.Fatalf("after recreation a reserved %+v, want 1000,1010,1020", blk)
	}
	if blk := mustReserve(t, b, "public.s", 1); blk.First != 1030 {
		t.Fatalf("b reserved %+v, want 1030", blk)
	}
	// A give-back of a block from the old incarnation is refused.
	if ok, err := a.GiveBack(t.Context(), "public.s", seqcache.Block{First: 6, Count: 5, Increment: 1}); ok || err != nil {
		t.Fatalf("GiveBack of an old block = %v, %v", ok, err)
	}
}

// TestCreateRetried checks that a Create whose response was lost, then
// retried, succeeds rather than reporting 42P07 for its own item.
func TestCreateRetried(t *testing.T) {
	s := newStore(t)
	p := startProxy(t)
	ps := openStore(t, s.Namespace(), p.option())
	p.dropNext()
	spec, _ := seqcache.Define("public.s")
	if err := ps.Create(t.Context(), spec); err != nil {
		t.Fatalf("Create with a lost response: %v", err)
	}
	if p.dropped() != 1 {
		t.Fatalf("proxy dropped %d responses, want 1", p.dropped())
	}
	if err := s.Create(t.Context(), spec); !errors.Is(err, seqcache.ErrExists) {
		t.Fatalf("second Create = %v, want 42P07", err)
	}
}
