package rewrite

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Options configure a Planner.
type Options struct {
	// DefaultSchema is the schema of unqualified sequence and table names;
	// "public" if empty. SearchPath leaves them unqualified (Name.Schema
	// ""), for the caller to resolve in the connection's search_path.
	DefaultSchema string
	// Oracle recognises s.NEXTVAL and s.CURRVAL (also schema.s.NEXTVAL).
	// Off by default, since t.nextval can be a column; with it on, FROM
	// DUAL counts as no FROM.
	Oracle bool
	// NoNextValueFor turns off the standard NEXT VALUE FOR s, which is on
	// by default (PostgreSQL rejects it, so it cannot mean anything else).
	NoNextValueFor bool
	// Managed reports whether seqshim answers calls on a sequence; calls on
	// other sequences stay in the SQL for the database. nil manages every
	// sequence. Its answers are cached with the plans, so it must not
	// change them. Calls whose sequence is unknown at planning time
	// (lastval, a name given as a parameter) count as managed.
	Managed func(seq Name) bool
	// CacheSize is the number of plans kept (1024 if 0, no cache if < 0).
	CacheSize int
	// Dialect is the SQL the planner reads: PostgreSQL (the zero value) or
	// MySQL (MariaDB); DefaultSchema is then the connection's database.
	Dialect Dialect
}

// DefaultCacheSize is the plan cache size when Options.CacheSize is 0.
const DefaultCacheSize = 1024

// Planner plans SQL texts and caches the plans. It is safe for concurrent
// use.
type Planner struct {
	opts  Options
	cache *cache
}

// NewPlanner returns a Planner with options o.
func NewPlanner(o Options) *Planner {
	if o.DefaultSchema == "" {
		o.DefaultSchema = DefaultSchema
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	p := &Planner{opts: o}
	if o.CacheSize > 0 {
		p.cache = newCache(o.CacheSize)
	}
	return p
}

// maxCachedLen is the length of the longest SQL text whose plan is cached.
const maxCachedLen = 1 << 20

// Plan returns the plan for sql, from the cache when the same text was
// planned before. The plan is shared: do not modify it.
func (p *Planner) Plan(sql string) *Plan {
	if p.cache != nil {
		if pl := p.cache.get(sql); pl != nil {
			return pl
		}
	}
	pl := p.plan(sql)
	if p.cache != nil && len(sql) <= maxCachedLen {
		pl = p.cache.add(sql, pl)
	}
	return pl
}

// planState is the scratch space of one planning, reused through a pool.
type planState struct {
	toks  []token
	calls []callSite
}

var statePool = sync.Pool{New: func() any {
	return &planState{toks: make([]token, 0, 256), calls: make([]callSite, 0, 8)}
}}

// plan plans sql without the cache.
func (p *Planner) plan(sql string) *Plan { return planText(sql, &p.opts) }

// planText plans sql with options o.
func planText(sql string, o *Options) *Plan {
	if o.Dialect == MySQL {
		return planMySQL(sql, o)
	}
	st := statePool.Get().(*planState)
	toks, maxParam, ok := lex(sql, st.toks[:0])
	var pl *Plan
	if ok {
		a := analyzer{src: sql, toks: toks, calls: st.calls[:0], opts: o}
		pl = a.plan(maxParam)
		clear(a.calls) // drop the references into sql
		st.calls = a.calls[:0]
	} else {
		pl = &Plan{Original: sql, SQL: sql} // the database reports the error
	}
	st.toks = toks[:0]
	if cap(st.toks) <= 1<<14 && cap(st.calls) <= 1<<10 {
		statePool.Put(st)
	}
	return pl
}

// plan plans the lexed text.
func (a *analyzer) plan(maxParam int) *Plan {
	sql := a.src
	a.findCalls()
	var stmtBuf [4][2]int
	stmts := a.split(stmtBuf[:0])
	var ins insertStmt
	hasIns, top := a.topInsert(stmts, &ins)
	others := a.otherInserts(top)
	facts := a.facts(stmts)
	if len(a.calls) == 0 {
		pl, _, _ := newPlan(hasIns, &ins, 0)
		pl.Original, pl.SQL, pl.NumParams, pl.otherInserts, pl.Facts = sql, sql, maxParam, others, facts
		if len(stmts) == 1 && !hasIns {
			pl.cp, _ = a.copyFrom(stmts[0][0], stmts[0][1])
		}
		return pl
	}
	v := a.verdict(stmts)
	pl, callBuf, editBuf := newPlan(hasIns, &ins, v.n)
	pl.Original, pl.SQL, pl.NumParams, pl.otherInserts, pl.Facts = sql, sql, maxParam, others, facts
	pl.Kind = v.kind
	if v.kind != Pass {
		pl.Calls = a.toCalls(v, callBuf)
	}
	switch v.kind {
	case Local:
		pl.Columns = v.columns
	case Bind:
		pl.SQL, pl.edits = a.render(v, pl.Calls, maxParam, editBuf)
	case Refuse:
		pl.Reason = v.reason
	}
	return pl
}

// topInsert describes in ins the INSERT of a query string of one
// statement, and returns whether there is one and its INSERT token (-1
// when none).
func (a *analyzer) topInsert(stmts [][2]int, ins *insertStmt) (bool, int) {
	if len(stmts) != 1 {
		return false, -1
	}
	it, ok := a.findInsert(stmts[0][0], stmts[0][1])
	if !ok {
		return false, -1
	}
	a.ins = it // parsed once, for the analysis too
	if !a.fillInsert(it, stmts[0][1], ins) {
		return false, -1
	}
	return true, it.at - 1
}

// verdict classifies each statement and returns the verdict of the query
// string: a single statement's own; for several, Pass when every one is
// Pass, otherwise a refusal naming the first that is not.
func (a *analyzer) verdict(stmts [][2]int) verdict {
	c0 := 0
	var verdicts [4]verdict
	vs := verdicts[:0]
	for k, st := range stmts {
		c1 := c0
		for c1 < len(a.calls) && int(a.calls[c1].first) < st[1] {
			c1++
		}
		a.statement(st[0], st[1])
		v := a.classify(st[0], st[1], c0, c1)
		if v.kind == Refuse && len(stmts) > 1 {
			v.reason = "statement " + strconv.Itoa(k+1) + " of " + strconv.Itoa(len(stmts)) + ": " + v.reason
		}
		vs = append(vs, v)
		c0 = c1
	}
	if len(vs) == 1 {
		return vs[0]
	}
	for k, sv := range vs {
		switch sv.kind {
		case Pass:
			continue
		case Refuse:
			return sv
		}
		sv.kind = Refuse
		sv.reason = "the query string holds " + strconv.Itoa(len(stmts)) + " statements and statement " +
			strconv.Itoa(k+1) + " calls " + a.callText(a.firstManaged(sv)) +
			"; seqshim answers sequence calls only in a query string of one statement: send the statements one at a time"
		return sv
	}
	return verdict{kind: Pass}
}

// planBox holds a plan, its insertStmt and small Calls and Edits arrays, so
// that most plans take a single allocation.
type planBox struct {
	Plan
	insert  insertStmt
	calls   [2]Call
	editArr [4]edit
}

// planInsert holds a plan without calls and its Insert.
type planInsert struct {
	Plan
	insert insertStmt
}

// newPlan allocates a plan (with *ins when hasIns) and returns buffers for
// its calls and edits when they fit in the same allocation.
func newPlan(hasIns bool, ins *insertStmt, ncalls int) (*Plan, []Call, []edit) {
	switch {
	case ncalls > 0 && ncalls <= 2:
		b := new(planBox)
		if hasIns {
			b.insert = *ins
			b.ins = &b.insert
		}
		return &b.Plan, b.calls[:0:ncalls], b.editArr[:0]
	case hasIns:
		b := new(planInsert)
		b.insert = *ins
		b.ins = &b.insert
		return &b.Plan, nil, nil
	}
	return new(Plan), nil, nil
}

// split returns the statements of the token stream as token ranges
// without their semicolons, skipping empty ones. Like psql, it does not
// split inside the BEGIN ATOMIC ... END body of CREATE FUNCTION or CREATE
// PROCEDURE.
func (a *analyzer) split(buf [][2]int) [][2]int {
	toks := a.toks
	lo, depth, words := 0, 0, 0
	body := false
	for i := 0; i < len(toks); {
		t := &toks[i]
		switch t.kind {
		case tSemi:
			if depth == 0 {
				if i > lo {
					buf = append(buf, [2]int{lo, i})
				}
				lo, words, body = i+1, 0, false
			}
			i++
			continue
		case tLParen, tLBracket:
			i = int(t.pair) + 1
			continue
		case tIdent:
			if t.sub != identAfterDot {
				if words < 4 && (t.kw == kwFunction || t.kw == kwProcedure) && a.kwAt(lo, len(toks)) == kwCreate {
					body = true
				}
				if body {
					switch t.kw {
					case kwBegin, kwCase:
						depth++
					case kwEnd:
						if depth > 0 {
							depth--
						}
					}
				}
			}
			words++
		}
		i++
	}
	if lo < len(toks) {
		buf = append(buf, [2]int{lo, len(toks)})
	}
	return buf
}

// verdict is the plan of one statement.
type verdict struct {
	kind    Kind
	reason  string
	c0, c1  int // the statement's calls are a.calls[c0:c1]
	n       int // how many of them are managed
	columns []string
}

// managedCalls calls f for each managed call of v, in order.
func (a *analyzer) managedCalls(v verdict, f func(k int, cs *callSite)) {
	k := 0
	for ci := v.c0; ci < v.c1; ci++ {
		if cs := &a.calls[ci]; cs.managed {
			f(k, cs)
			k++
		}
	}
}

// firstManaged returns v's first managed call.
func (a *analyzer) firstManaged(v verdict) *callSite {
	for ci := v.c0; ci < v.c1; ci++ {
		if a.calls[ci].managed {
			return &a.calls[ci]
		}
	}
	return nil
}

// managed reports whether seqshim answers the call.
func (a *analyzer) managed(cs *callSite) bool {
	return !cs.known() || a.opts.Managed == nil || a.opts.Managed(cs.seq)
}

// classify decides the plan of the statement toks[lo:hi], whose calls are
// a.calls[c0:c1], after statement() gave each call its context.
func (a *analyzer) classify(lo, hi, c0, c1 int) verdict {
	nextOrSet, malformed := a.scanCalls(c0, c1)
	if malformed {
		return verdict{kind: Pass} // PostgreSQL rejects the statement itself
	}
	v := verdict{c0: c0, c1: c1}
	all := a.markManaged(&v)
	if v.n == 0 {
		return verdict{kind: Pass}
	}
	if reason, ok := a.contextRefusal(v, nextOrSet); ok {
		v.kind, v.reason = Refuse, reason
		return v
	}
	if v.n == all {
		if cols, ok := a.localColumns(lo, hi); ok {
			v.kind, v.columns = Local, cols
			return v
		}
	}
	if reason, ok := a.paramRefusal(v); ok {
		v.kind, v.reason = Refuse, reason
		return v
	}
	v.kind = Bind
	return v
}

// scanCalls reports whether the calls a.calls[c0:c1] evaluated by the
// statement include nextval or setval, and whether one is malformed.
func (a *analyzer) scanCalls(c0, c1 int) (nextOrSet, malformed bool) {
	for ci := c0; ci < c1; ci++ {
		cs := &a.calls[ci]
		if cs.c.m == mStored {
			continue
		}
		if cs.malformed {
			return nextOrSet, true
		}
		if cs.fn == Nextval || cs.fn == Setval {
			nextOrSet = true
		}
	}
	return nextOrSet, false
}

// markManaged marks v's managed calls, counts them in v.n and returns the
// number of calls the statement evaluates.
func (a *analyzer) markManaged(v *verdict) (all int) {
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if cs.c.m == mStored {
			continue
		}
		all++
		if a.managed(cs) {
			cs.managed = true
			v.n++
		}
	}
	return all
}

// contextRefusal returns why a managed call of v cannot be answered once
// per statement: its name or arguments, or where it stands.
func (a *analyzer) contextRefusal(v verdict, nextOrSet bool) (string, bool) {
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if !cs.managed {
			continue
		}
		if cs.bad != badNone {
			return a.badReason(cs), true
		}
		switch cs.c.m {
		case mOnce:
		case mPerRow:
			// currval and lastval give the same value on every row as long
			// as the statement calls neither nextval nor setval.
			if (cs.fn == Currval || cs.fn == Lastval) && !nextOrSet {
				continue
			}
			return a.perRowReason(cs), true
		default:
			return a.unsupportedReason(cs), true
		}
	}
	return "", false
}

// paramRefusal returns why a managed call of v, in a statement that is not
// made of sequence calls alone, cannot take parameters.
func (a *analyzer) paramRefusal(v verdict) (string, bool) {
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if !cs.managed {
			continue
		}
		text := a.callText(cs)
		if cs.nameParam > 0 {
			return text + " takes the sequence name from a parameter; seqshim resolves such a name only in a statement made of sequence calls alone: run SELECT " +
				text + " first and pass its value as a parameter", true
		}
		if cs.value.Param > 0 || cs.isCalled.Param > 0 {
			return text + " takes setval's arguments from parameters inside a larger statement; seqshim answers that only in a statement made of sequence calls alone: run SELECT " +
				text + " on its own", true
		}
	}
	return "", false
}

// localColumns returns the result columns when the statement is made only
// of sequence calls: SELECT call [::int8] [[AS] alias], ...
func (a *analyzer) localColumns(lo, hi int) ([]string, bool) {
	if a.kwAt(lo, hi) != kwSelect {
		return nil, false
	}
	var cols []string
	for i := lo + 1; ; {
		if i >= hi || a.toks[i].call == 0 {
			return nil, false
		}
		cs := &a.calls[a.toks[i].call-1]
		i = a.skipCasts(int(cs.last)+1, hi, isInt8Type)
		col := cs.fn.String()
		label := -1
		if a.kwAt(i, hi) == kwAs {
			label = i + 1
		} else if a.isName(i, hi) && !reserved(a.kwAt(i, hi)) {
			label = i
		}
		if label >= 0 {
			if !a.isName(label, hi) || a.kwAt(label+1, hi) == kwUescape {
				return nil, false
			}
			t := &a.toks[label]
			s, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
			if !ok {
				return nil, false
			}
			col, i = s, label+1
		}
		cols = append(cols, col)
		switch {
		case i == hi:
			return cols, true
		case a.toks[i].kind == tComma:
			i++
		case a.opts.Oracle && a.kwAt(i, hi) == kwFrom && a.kwAt(i+1, hi) == kwDual && i+2 == hi:
			return cols, true
		default:
			return nil, false
		}
	}
}

// reserved reports whether a key word cannot be a bare column label.
func reserved(k keyword) bool {
	switch k {
	case kwAll, kwAnalyse, kwAnalyze, kwAnd, kwAny, kwArray, kwAs, kwAsymmetric, kwCase,
		kwCollate, kwCreate, kwDefault, kwDistinct, kwDo, kwElse, kwEnd, kwExcept, kwFalse,
		kwFetch, kwFor, kwFrom, kwGrant, kwGroup, kwHaving, kwIn, kwInto, kwIntersect,
		kwLateral, kwLimit, kwNot, kwOffset, kwOn, kwOr, kwOrder, kwReturning, kwSelect,
		kwSome, kwSymmetric, kwTable, kwThen, kwTo, kwTrue, kwUnion, kwUser, kwUsing,
		kwWhen, kwWhere, kwWindow, kwWith:
		return true
	}
	return false
}

// toCalls converts call sites to Calls.
func (a *analyzer) toCalls(v verdict, buf []Call) []Call {
	calls := buf
	if cap(calls) < v.n {
		calls = make([]Call, 0, v.n)
	}
	// The calls' keys share one string: one allocation for them all.
	n := 0
	a.managedCalls(v, func(_ int, cs *callSite) {
		if cs.seq != (Name{}) {
			n += len(cs.seq.Schema) + 1 + len(cs.seq.Name)
		}
	})
	var keys strings.Builder
	keys.Grow(n)
	a.managedCalls(v, func(_ int, cs *callSite) {
		if cs.seq != (Name{}) {
			keys.WriteString(cs.seq.Schema)
			keys.WriteByte('.')
			keys.WriteString(cs.seq.Name)
		}
	})
	all, at := keys.String(), 0
	a.managedCalls(v, func(_ int, cs *callSite) {
		key := ""
		if cs.seq != (Name{}) {
			l := len(cs.seq.Schema) + 1 + len(cs.seq.Name)
			key, at = all[at:at+l], at+l
		}
		calls = append(calls, Call{
			Func:      cs.fn,
			Seq:       cs.seq,
			Key:       key,
			NameParam: cs.nameParam,
			Value:     cs.value,
			IsCalled:  cs.isCalled,
			Span:      Span{int(a.toks[cs.first].start), int(a.toks[cs.last].end)},
		})
	})
	return calls
}

// render replaces each call with $n::int8 (and adds AS <fn> where the
// column name would change) and numbers the new parameters.
func (a *analyzer) render(v verdict, calls []Call, numParams int, buf []edit) (string, []edit) {
	src := a.src
	ident := func(i int) bool { return i >= 0 && i < len(src) && isIdentCont(src[i]) }
	// The edits, in text order: an alias goes after the end of its item,
	// which may hold further calls (in a type modifier, say).
	edits := buf[:0]
	if cap(edits) < 2*v.n {
		edits = make([]edit, 0, 2*v.n)
	}
	k := 0
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if !cs.managed {
			continue
		}
		calls[k].Param = numParams + 1 + k
		sp := calls[k].Span
		edits = append(edits, edit{Start: sp.Start, End: sp.End, Text: cs.fn.String()})
		if at := int(cs.aliasAt); at > sp.End {
			edits = append(edits, edit{Start: at, End: at, Text: cs.fn.String()})
		}
		k++
	}
	slices.SortStableFunc(edits, func(x, y edit) int { return x.Start - y.Start })
	var b strings.Builder
	b.Grow(len(src) + len(edits)*24)
	var offBuf [8][2]int // where each edit's text is in b
	offs := offBuf[:0]
	pos, k, ci := 0, 0, v.c0
	for _, ed := range edits {
		b.WriteString(src[pos:ed.Start])
		at := b.Len()
		if ed.Start < ed.End { // a call: $n::int8, with the alias when it goes right after it
			if ident(ed.Start - 1) {
				b.WriteByte(' ')
			}
			var num [20]byte
			b.WriteByte('$')
			b.Write(strconv.AppendInt(num[:0], int64(calls[k].Param), 10))
			b.WriteString("::int8")
			for !a.calls[ci].managed { // the call site of calls[k]
				ci++
			}
			if int(a.calls[ci].aliasAt) == ed.End {
				b.WriteString(" AS ")
				b.WriteString(ed.Text)
			}
			k++
			ci++
		} else {
			b.WriteString(" AS ")
			b.WriteString(ed.Text)
		}
		if ident(ed.End) {
			b.WriteByte(' ')
		}
		offs = append(offs, [2]int{at, b.Len()})
		pos = ed.End
	}
	b.WriteString(src[pos:])
	out := b.String()
	for i := range edits {
		edits[i].Text = out[offs[i][0]:offs[i][1]]
	}
	return out, edits
}

// callText returns the call's text as written, shortened when long.
func (a *analyzer) callText(cs *callSite) string {
	return shorten(a.src[a.toks[cs.first].start:a.toks[cs.last].end])
}

// shorten cuts a text quoted in a message to about 80 bytes, on a
// character boundary.
func shorten(s string) string {
	if len(s) > 80 {
		n := 76
		for n > 0 && s[n]&0xC0 == 0x80 {
			n--
		}
		s = s[:n] + " ..."
	}
	return s
}

// example returns the call as a valid PostgreSQL function call, for
// messages: the text itself for function calls, nextval('schema.name')
// for NEXT VALUE FOR and Oracle forms.
func (a *analyzer) example(cs *callSite) string {
	if a.toks[cs.last].kind == tRParen || !cs.known() {
		return a.callText(cs)
	}
	return cs.fn.String() + "(" + quoteLiteral(cs.seq.String()) + ")"
}

func (a *analyzer) perRowReason(cs *callSite) string {
	text, ex, why := a.callText(cs), a.example(cs), cs.c.why
	switch cs.fn {
	case Nextval:
		return text + " is evaluated once per row in " + why +
			"; seqshim answers it once per statement: fetch the values first with SELECT " + ex +
			" (one call per row) and pass them as parameters, or use a column default"
	case Setval:
		return text + " is evaluated once per row in " + why +
			"; seqshim answers it once per statement: run SELECT " + ex + " on its own"
	}
	return text + " is evaluated once per row in " + why +
		" of a statement that also calls nextval or setval; seqshim answers it once per statement: fetch the value first with SELECT " +
		ex + " and pass it as a parameter"
}

func (a *analyzer) unsupportedReason(cs *callSite) string {
	text, ex := a.callText(cs), a.example(cs)
	switch cs.c.why {
	case "":
		return "seqshim cannot tell how often " + text + " is evaluated in this statement, so it does not answer it: run SELECT " +
			ex + " on its own and pass the value as a parameter"
	case "PREPARE":
		return text + " is in PREPARE ... AS, whose statement the database would execute by itself: prepare the statement through database/sql instead"
	}
	return "seqshim does not answer sequence calls in " + cs.c.why + " statements (" + text + "): run SELECT " +
		ex + " first and pass the value as a parameter"
}

func (a *analyzer) badReason(cs *callSite) string {
	text, fn := a.callText(cs), cs.fn.String()
	switch cs.bad {
	case badNameExpr:
		return text + " takes the sequence name from an expression; seqshim needs a string constant or a parameter: write " +
			fn + "('schema.name') or " + fn + "($1)"
	case badOID:
		return text + " gives the sequence by OID; seqshim knows sequences by name: write " + fn + "('schema.name')"
	case badCatalog:
		return text + " qualifies the sequence name with a database; seqshim needs schema.name: write " + fn + "('schema.name')"
	case badValue:
		return text + " computes setval's value in SQL; seqshim needs a constant or a parameter: compute the value first (e.g. SELECT max(id) FROM t) and pass it as a parameter, as in SELECT setval('s', $1)"
	}
	return text + " computes setval's is_called in SQL; seqshim needs true, false or a parameter"
}
