package dynamo_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

// The tests share one table per test process, created on first use and
// deleted by TestMain; each test works in a fresh namespace, so tests never
// see each other's sequences. Tests that need a table of their own make it.
var (
	tableOnce sync.Once
	tableErr  error
	tables    sync.Map // table name -> aws.Config, deleted at the end
)

func TestMain(m *testing.M) {
	code := m.Run()
	tables.Range(func(name, cfg any) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client := dynamodb.NewFromConfig(cfg.(aws.Config))
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name.(string))})
		return true
	})
	os.Exit(code)
}

var sharedTable = testenv.UniqueName("seqshim_test_")

// newTable creates a fresh table, deleted when the tests end.
func newTable(t testing.TB) string {
	t.Helper()
	name := testenv.UniqueName("seqshim_test_")
	ensureTable(t, name)
	return name
}

func ensureTable(t testing.TB, name string) {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	s, err := dynamo.New(cfg, dynamo.Options{Table: name})
	if err != nil {
		t.Fatal(err)
	}
	tables.Store(name, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatalf("EnsureTable(%s): %v", name, err)
	}
}

// storeOpts adjusts the Options of a test store.
type storeOpts func(*dynamo.Options)

// newStore returns a Store on the shared table in a fresh namespace (each
// call: a new SDK client).
func newStore(t testing.TB, opts ...storeOpts) *dynamo.Store {
	t.Helper()
	return openStore(t, testenv.UniqueName("t"), opts...)
}

// openStore returns a Store on the shared table in namespace ns with a new
// SDK client (sharing the process's HTTP client).
func openStore(t testing.TB, ns string, opts ...storeOpts) *dynamo.Store {
	t.Helper()
	return openStoreCfg(t, sharedConfig(t), ns, opts...)
}

// openIndependent is openStore with a configuration of its own: its own
// HTTP client and connections, as another process would have.
func openIndependent(t testing.TB, ns string, opts ...storeOpts) *dynamo.Store {
	t.Helper()
	return openStoreCfg(t, testenv.AWSConfig(t), ns, opts...)
}

var (
	cfgOnce sync.Once
	cfg     aws.Config
)

// sharedConfig loads the AWS configuration once per test process.
func sharedConfig(t testing.TB) aws.Config {
	t.Helper()
	testenv.DynamoEndpoint(t)
	cfgOnce.Do(func() { cfg = testenv.AWSConfig(t) })
	return cfg
}

func openStoreCfg(t testing.TB, cfg aws.Config, ns string, opts ...storeOpts) *dynamo.Store {
	t.Helper()
	tableOnce.Do(func() {
		tables.Store(sharedTable, cfg)
		s, err := dynamo.New(cfg, dynamo.Options{Table: sharedTable})
		if err != nil {
			tableErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		tableErr = s.EnsureTable(ctx)
	})
	if tableErr != nil {
		t.Fatalf("EnsureTable: %v", tableErr)
	}
	o := dynamo.Options{Table: sharedTable, Namespace: ns}
	for _, f := range opts {
		f(&o)
	}
	s, err := dynamo.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counter is an SDK middleware counting requests sent (every attempt,
// retries included) and operations, by operation name.
type counter struct {
	mu       sync.Mutex
	attempts map[string]int
	ops      atomic.Int64
}

func newCounter() *counter { return &counter{attempts: make(map[string]int)} }

// option installs the counter on a store's client.
func (c *counter) option() storeOpts {
	return func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(do *dynamodb.Options) {
			do.APIOptions = append(do.APIOptions, c.install)
		})
	}
}

func (c *counter) install(stack *middleware.Stack) error {
	// Initialize runs once per operation; Deserialize once per attempt,
	// inside the retry loop (which lives in Finalize).
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countOps",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.ops.Add(1)
			return next.HandleInitialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("countAttempts",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.attempts[middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleDeserialize(ctx, in)
		}), middleware.Before)
}

// take returns the attempts counted since the last call, by operation, and
// their total, and resets the counts.
func (c *counter) take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, total := c.attempts, 0
	for _, n := range m {
		total += n
	}
	c.attempts = make(map[string]int)
	return m, total
}

func mustDefine(t testing.TB, s seqcache.Store, name string, opts ...seqcache.Option) seqcache.Spec {
	t.Helper()
	spec, err := seqcache.Define(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), spec); err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return spec
}

func mustReserve(t testing.TB, s seqcache.Store, name string, n int64) seqcache.Block {
	t.Helper()
	b, err := s.Reserve(context.Background(), name, n)
	if err != nil {
		t.Fatalf("Reserve(%s, %d): %v", name, n, err)
	}
	return b
}
