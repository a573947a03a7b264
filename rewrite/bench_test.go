package rewrite

import (
	"runtime"
	"strconv"
	"testing"
)

// loopCPU runs f b.N times and also reports the thread's CPU time per
// operation (cpu-ns/op), where the platform can measure it.
func loopCPU(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu := threadCPU() - start; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

// benchInsert is a 300-byte prepared INSERT with two sequence calls.
const benchInsert = `INSERT INTO orders (id, customer_id, status, total_cents, currency, created_at, note, line_id) ` +
	`VALUES (nextval('orders_id_seq'), $1, $2, $3, $4, now(), $5, nextval('order_lines_id_seq')) ` +
	`ON CONFLICT (customer_id, created_at) DO UPDATE SET total_cents = EXCLUDED.total_cents RETURNING id, created_at`

func TestBenchInsertSize(t *testing.T) {
	if n := len(benchInsert); n < 290 || n > 310 {
		t.Fatalf("benchInsert is %d bytes", n)
	}
	pl := NewPlanner(Options{}).Plan(benchInsert)
	if pl.Kind != Bind || len(pl.Calls) != 2 {
		t.Fatalf("benchInsert plan: %v %q", pl.Kind, pl.Reason)
	}
}

// BenchmarkPlanHit is a cache hit: the cost on every execution.
func BenchmarkPlanHit(b *testing.B) {
	p := NewPlanner(Options{})
	p.Plan(benchInsert)
	loopCPU(b, func() { p.Plan(benchInsert) })
}

// BenchmarkPlanHitParallel is a cache hit from all Ps at once, on a
// working set of 64 texts.
func BenchmarkPlanHitParallel(b *testing.B) {
	p := NewPlanner(Options{})
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = benchInsert + " -- " + strconv.Itoa(i)
		p.Plan(texts[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			p.Plan(texts[i&63])
			i++
		}
	})
}

// BenchmarkPlanCold plans the 300-byte INSERT without the cache.
func BenchmarkPlanCold(b *testing.B) {
	p := NewPlanner(Options{})
	b.SetBytes(int64(len(benchInsert)))
	loopCPU(b, func() { p.plan(benchInsert) })
}

// BenchmarkPlanColdPass plans a 300-byte statement without calls.
func BenchmarkPlanColdPass(b *testing.B) {
	sql := `SELECT o.id, o.customer_id, o.status, o.total_cents, o.currency, o.created_at, c.name, c.email ` +
		`FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at >= $1 AND o.status = ANY($2) ` +
		`AND c.email NOT LIKE '%@example.com' ORDER BY o.created_at DESC, o.id LIMIT $3 OFFSET $4 -- report`
	p := NewPlanner(Options{})
	b.SetBytes(int64(len(sql)))
	loopCPU(b, func() { p.plan(sql) })
}

// BenchmarkLex lexes the 300-byte INSERT.
func BenchmarkLex(b *testing.B) {
	toks := make([]token, 0, 256)
	b.SetBytes(int64(len(benchInsert)))
	loopCPU(b, func() { toks, _, _ = lex(benchInsert, toks[:0]) })
}

// benchMySQLInsert is an INSERT of the MySQL dialect with a NEXTVAL.
const benchMySQLInsert = "INSERT INTO order_lines (order_id, line_no, sku, quantity, price_cents, currency, note, id) " +
	"VALUES (?, ?, ?, ?, ?, 'EUR', 'gift wrap, \\'fragile\\' # not a comment', NEXT VALUE FOR order_lines_seq) -- trailing"

// BenchmarkMySQLPlanCold plans the MySQL INSERT without the cache: the
// xwb1989/sqlparser tokenizer and the analysis.
func BenchmarkMySQLPlanCold(b *testing.B) {
	o := Options{Dialect: MySQL, DefaultSchema: "app"}
	b.SetBytes(int64(len(benchMySQLInsert)))
	loopCPU(b, func() { planMySQL(benchMySQLInsert, &o) })
}

// BenchmarkMySQLPlanHit is a plan cache hit in the MySQL dialect.
func BenchmarkMySQLPlanHit(b *testing.B) {
	p := NewPlanner(Options{Dialect: MySQL, DefaultSchema: "app"})
	p.Plan(benchMySQLInsert)
	loopCPU(b, func() { p.Plan(benchMySQLInsert) })
}
