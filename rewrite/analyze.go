package rewrite

import "strings"

// analyzer holds the tokens and call sites of one SQL text while it is
// planned.
type analyzer struct {
	src   string
	toks  []token
	calls []callSite
	opts  *Options
	ins   insertTokens // an INSERT already parsed, if ins.at > 0
}

// kwAt returns the key word at token i, or kwNone when i >= hi, the token
// is not an unquoted identifier, or it follows a dot (t.from is a name).
func (a *analyzer) kwAt(i, hi int) keyword {
	if i >= 0 && i < hi && a.toks[i].kind == tIdent && a.toks[i].sub != identAfterDot {
		return a.toks[i].kw
	}
	return kwNone
}

// kindAt returns the kind of token i, or tNone when i >= hi.
func (a *analyzer) kindAt(i, hi int) tokKind {
	if i >= 0 && i < hi {
		return a.toks[i].kind
	}
	return tNone
}

func (a *analyzer) pair(i int) int { return int(a.toks[i].pair) }

// visit records the context of a call; a call seen twice keeps the worse.
func (a *analyzer) visit(ci int, c ctx) {
	if cs := &a.calls[ci]; c.m > cs.c.m {
		cs.c = c
	}
}

// perRow returns the context of expressions evaluated per row of a part of
// a statement evaluated in context c.
func perRow(c ctx, why string) ctx {
	if c.m >= mPerRow {
		return c
	}
	return ctx{m: mPerRow, why: why}
}

// mark gives every call in toks[lo:hi] the context c.
func (a *analyzer) mark(lo, hi int, c ctx) {
	for i := lo; i < hi; i++ {
		if t := &a.toks[i]; t.call != 0 {
			a.visit(int(t.call)-1, c)
		}
	}
}

// statement analyses the statement toks[lo:hi] (without its semicolon).
func (a *analyzer) statement(lo, hi int) {
	once := ctx{m: mOnce}
	switch k := a.kwAt(lo, hi); k {
	case kwSelect, kwValues, kwTable, kwWith:
		a.query(lo, hi, once, "SELECT ... FROM")
	case kwInsert:
		a.insert(lo, hi, once)
	case kwUpdate:
		a.dml(lo, hi, once, "UPDATE")
	case kwDelete:
		a.dml(lo, hi, once, "DELETE")
	case kwMerge:
		a.dml(lo, hi, once, "MERGE")
	case kwCall:
		a.expr(lo+1, hi, once) // CALL p(args): the arguments are evaluated once
	case kwCreate:
		a.create(lo, hi)
	case kwAlter, kwComment, kwDrop, kwGrant, kwRevoke, kwDo:
		// DDL stores expressions (column defaults, function bodies); it
		// does not evaluate them now.
		a.mark(lo, hi, ctx{m: mStored})
	case kwExplain:
		if a.explainAnalyze(lo, hi) {
			a.mark(lo, hi, ctx{m: mUnsupported, why: "EXPLAIN ANALYZE"})
		} else {
			a.mark(lo, hi, ctx{m: mStored}) // planned, not executed
		}
	case kwPrepare:
		a.mark(lo, hi, ctx{m: mUnsupported, why: "PREPARE"})
	default:
		if a.kindAt(lo, hi) == tLParen {
			a.query(lo, hi, once, "SELECT ... FROM")
			return
		}
		word := "this kind of"
		if t := &a.toks[lo]; t.kind == tIdent {
			word = strings.ToUpper(a.src[t.start:t.end])
		}
		a.mark(lo, hi, ctx{m: mUnsupported, why: word})
	}
}

// explainAnalyze reports whether EXPLAIN at lo runs its statement.
func (a *analyzer) explainAnalyze(lo, hi int) bool {
	i := lo + 1
	if a.kindAt(i, hi) == tLParen {
		for j := i + 1; j < a.pair(i); j++ {
			if k := a.kwAt(j, hi); k == kwAnalyze || k == kwAnalyse {
				return true
			}
		}
		return false
	}
	k := a.kwAt(i, hi)
	return k == kwAnalyze || k == kwAnalyse
}

// create analyses CREATE statements: CREATE TABLE ... AS and CREATE
// MATERIALIZED VIEW evaluate their query now, per row; every other CREATE
// stores its expressions.
func (a *analyzer) create(lo, hi int) {
	i := lo + 1
	if a.kwAt(i, hi) == kwOr && a.kwAt(i+1, hi) == kwReplace {
		i += 2
	}
	for {
		if k := a.kwAt(i, hi); k == kwGlobal || k == kwLocal || k == kwTemp || k == kwTemporary || k == kwUnlogged {
			i++
			continue
		}
		break
	}
	switch a.kwAt(i, hi) {
	case kwTable:
		for j := i; j < hi; j = a.skip(j) {
			if a.kwAt(j, hi) == kwAs {
				a.mark(lo, hi, ctx{m: mPerRow, why: "CREATE TABLE ... AS"})
				return
			}
		}
	case kwMaterialized:
		a.mark(lo, hi, ctx{m: mPerRow, why: "CREATE MATERIALIZED VIEW"})
		return
	}
	a.mark(lo, hi, ctx{m: mStored})
}

// expr walks an expression (or a list of them) evaluated in context c,
// descending into parenthesised subqueries.
func (a *analyzer) expr(lo, hi int, c ctx) {
	for i := lo; i < hi; {
		t := &a.toks[i]
		if t.call != 0 {
			ci := int(t.call) - 1
			a.visit(ci, c)
			i = int(a.calls[ci].last) + 1
			continue
		}
		if t.kind == tLParen {
			j := int(t.pair)
			if a.startsQuery(i+1, j) {
				a.query(i+1, j, c, "a subquery with FROM")
			} else {
				a.expr(i+1, j, c)
			}
			i = j + 1
			continue
		}
		i++
	}
}

// startsQuery reports whether a query starts at token i.
func (a *analyzer) startsQuery(i, hi int) bool {
	switch a.kwAt(i, hi) {
	case kwSelect, kwWith, kwValues, kwTable:
		return true
	}
	return false
}

// query analyses a query or data-modifying statement, optionally preceded
// by WITH. what names a SELECT with FROM in messages.
func (a *analyzer) query(lo, hi int, c ctx, what string) {
	i := lo
	if a.kwAt(i, hi) == kwWith {
		if i = a.withClause(i, hi, &c); i < 0 {
			return
		}
	}
	switch a.kwAt(i, hi) {
	case kwInsert:
		a.insert(i, hi, c)
	case kwUpdate:
		a.dml(i, hi, c, "UPDATE")
	case kwDelete:
		a.dml(i, hi, c, "DELETE")
	case kwMerge:
		a.dml(i, hi, c, "MERGE")
	default:
		a.selectExpr(i, hi, c, what)
	}
}

// withClause skips (and, when c is not nil, analyses) the WITH list at i
// and returns the index of the statement that follows, or -1. A CTE is
// evaluated at most once per evaluation of its statement: PostgreSQL does
// not inline a CTE that calls a volatile function.
func (a *analyzer) withClause(i, hi int, c *ctx) int {
	i++
	if a.kwAt(i, hi) == kwRecursive {
		i++
	}
	for {
		if !a.isName(i, hi) {
			return -1
		}
		i++
		if a.kindAt(i, hi) == tLParen {
			i = a.pair(i) + 1
		}
		if a.kwAt(i, hi) != kwAs {
			return -1
		}
		i++
		if a.kwAt(i, hi) == kwNot {
			i++
		}
		if a.kwAt(i, hi) == kwMaterialized {
			i++
		}
		if a.kindAt(i, hi) != tLParen {
			return -1
		}
		j := a.pair(i)
		if c != nil {
			a.query(i+1, j, *c, "a WITH query with FROM")
		}
		i = j + 1
		for {
			k := a.kwAt(i, hi)
			if k != kwSearch && k != kwCycle {
				break
			}
			for i < hi && a.kwAt(i, hi) != kwSet {
				i = a.skip(i)
			}
			i += 2 // SET column
			if k == kwCycle {
				if a.kwAt(i, hi) == kwTo {
					for i < hi && a.kwAt(i, hi) != kwDefault {
						i = a.skip(i)
					}
					i++
					if a.kindAt(i, hi) == tOp {
						i++
					}
					i++
				}
				if a.kwAt(i, hi) == kwUsing {
					i += 2
				}
			}
		}
		if a.kindAt(i, hi) == tComma {
			i++
			continue
		}
		if i >= hi {
			return -1
		}
		return i
	}
}

// selectExpr analyses SELECT, VALUES and TABLE terms combined with UNION,
// INTERSECT and EXCEPT. Each term is evaluated once per evaluation of the
// whole.
func (a *analyzer) selectExpr(lo, hi int, c ctx, what string) {
	start := lo
	for i := lo; i < hi; {
		if k := a.kwAt(i, hi); (k == kwUnion || k == kwIntersect || k == kwExcept) && a.kwAt(i-1, hi) != kwAs {
			a.selectTerm(start, i, c, what)
			i++
			if k := a.kwAt(i, hi); k == kwAll || k == kwDistinct {
				i++
			}
			start = i
			continue
		}
		i = a.skip(i)
	}
	a.selectTerm(start, hi, c, what)
}

func (a *analyzer) selectTerm(lo, hi int, c ctx, what string) {
	switch {
	case lo >= hi:
	case a.kindAt(lo, hi) == tLParen:
		j := a.pair(lo)
		a.query(lo+1, j, c, what)
		a.expr(j+1, hi, c) // ORDER BY, LIMIT ... of the parenthesised query
	case a.kwAt(lo, hi) == kwSelect:
		a.simpleSelect(lo, hi, c, what)
	case a.kwAt(lo, hi) == kwValues:
		a.values(lo, hi, c)
	case a.kwAt(lo, hi) == kwTable:
		a.expr(lo+1, hi, c)
	}
}

// clause is a top-level clause key word of a SELECT.
type clause struct {
	kw keyword
	at int
}

type clauses struct {
	tlo  int // first token of the target list
	list [12]clause
	n    int
}

// span returns the token range of clause k (after its key word).
func (cl *clauses) span(k, hi int) (int, int) {
	e := hi
	if k+1 < cl.n {
		e = cl.list[k+1].at
	}
	return cl.list[k].at + 1, e
}

// hasFrom reports whether the SELECT reads a FROM list (other than
// Oracle's one-row DUAL when that option is on).
func (a *analyzer) hasFrom(cl *clauses, hi int) bool {
	for k := 0; k < cl.n; k++ {
		if cl.list[k].kw == kwFrom {
			s, e := cl.span(k, hi)
			return !(a.opts.Oracle && e == s+1 && a.kwAt(s, e) == kwDual)
		}
	}
	return false
}

// selectClauses finds the top-level clauses of the simple SELECT at lo.
func (a *analyzer) selectClauses(lo, hi int) (cl clauses, ok bool) {
	i := lo + 1
	switch a.kwAt(i, hi) {
	case kwAll:
		i++
	case kwDistinct:
		i++
		if a.kwAt(i, hi) == kwOn && a.kindAt(i+1, hi) == tLParen {
			i = a.pair(i+1) + 1
		}
	}
	cl.tlo = i
	for ; i < hi; i = a.skip(i) {
		k := a.kwAt(i, hi)
		switch k {
		case kwFrom:
			// a IS [NOT] DISTINCT FROM b
			if a.kwAt(i-1, hi) == kwDistinct && i-2 >= 0 {
				if p := a.kwAt(i-2, hi); p == kwIs || p == kwNot {
					continue
				}
			}
		case kwGroup:
			if a.kwAt(i-1, hi) == kwWithin {
				continue
			}
		case kwInto, kwWhere, kwHaving, kwWindow, kwOrder, kwLimit, kwOffset, kwFetch, kwFor:
		default:
			continue
		}
		if a.kwAt(i-1, hi) == kwAs { // a column label: SELECT 1 AS from
			continue
		}
		if cl.n == len(cl.list) {
			return cl, false
		}
		cl.list[cl.n] = clause{kw: k, at: i}
		cl.n++
	}
	return cl, true
}

// simpleSelect analyses SELECT ... [FROM ...] [WHERE ...] ... at lo.
// With FROM every expression is evaluated per row; without FROM once,
// unless a set-returning function or a window multiplies the row.
func (a *analyzer) simpleSelect(lo, hi int, c ctx, what string) {
	cl, ok := a.selectClauses(lo, hi)
	if !ok {
		return
	}
	tEnd := hi
	if cl.n > 0 {
		tEnd = cl.list[0].at
	}
	ec := c
	if a.hasFrom(&cl, hi) {
		ec = perRow(c, what)
	} else if why := a.multiplier(lo, hi); why != "" {
		ec = perRow(c, why)
	}
	a.targetList(cl.tlo, tEnd)
	a.expr(lo+1, tEnd, ec)
	for k := 0; k < cl.n; k++ {
		s, e := cl.span(k, hi)
		switch cl.list[k].kw {
		case kwFrom:
			a.expr(s, e, perRow(c, "a FROM clause"))
		case kwLimit, kwOffset, kwFetch:
			a.expr(s, e, c)
		default:
			a.expr(s, e, ec)
		}
	}
}

// multiplier returns why a FROM-less SELECT may produce (or evaluate its
// list for) more than one row: a set-returning function in it, or a
// window. Nested subqueries do not count.
func (a *analyzer) multiplier(lo, hi int) string {
	for i := lo; i < hi; i++ {
		t := &a.toks[i]
		if t.call != 0 {
			i = int(a.calls[t.call-1].last)
			continue
		}
		switch t.kind {
		case tLParen:
			if a.startsQuery(i+1, int(t.pair)) {
				i = int(t.pair)
			}
		case tIdent, tQIdent:
			if t.kind == tIdent && t.sub != identAfterDot && (t.kw == kwOver || t.kw == kwWindow) {
				return "a SELECT with a window"
			}
			if i+1 < hi && a.toks[i+1].kind == tLParen {
				if name, ok := srfName(a.src[t.start:t.end], t.kind); ok {
					return "a SELECT list with the set-returning function " + name
				}
			}
		}
	}
	return ""
}

// srfName reports whether a function name is one of PostgreSQL's
// set-returning functions (or a common extension's).
func srfName(raw string, kind tokKind) (string, bool) {
	var name string
	if kind == tQIdent {
		if len(raw) < 3 || raw[0] != '"' {
			return "", false
		}
		name = raw[1 : len(raw)-1]
	} else {
		if len(raw) > 40 {
			return "", false
		}
		name = strings.ToLower(raw)
	}
	switch name {
	case "generate_series", "generate_subscripts", "unnest", "regexp_matches",
		"regexp_split_to_table", "string_to_table", "json_array_elements",
		"json_array_elements_text", "jsonb_array_elements", "jsonb_array_elements_text",
		"json_each", "json_each_text", "jsonb_each", "jsonb_each_text",
		"json_object_keys", "jsonb_object_keys", "json_populate_recordset",
		"jsonb_populate_recordset", "json_to_recordset", "jsonb_to_recordset",
		"jsonb_path_query", "jsonb_path_query_tz", "pg_ls_dir", "pg_ls_waldir",
		"pg_ls_logdir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_get_keywords",
		"pg_options_to_table", "pg_event_trigger_ddl_commands",
		"pg_event_trigger_dropped_objects", "pg_listening_channels",
		"pg_tablespace_databases", "pg_timezone_names", "pg_timezone_abbrevs",
		"pg_cursor", "pg_prepared_statement", "pg_show_all_settings", "ts_stat",
		"ts_debug", "ts_parse", "ts_token_type", "aclexplode", "txid_snapshot_xip",
		"pg_snapshot_xip", "pg_get_publication_tables", "pg_logical_slot_get_changes",
		"pg_logical_slot_peek_changes", "pg_available_extensions", "pg_config",
		"pg_stat_get_activity", "pg_lock_status", "pg_get_wal_resource_managers",
		"pg_input_error_info", "crosstab", "connectby", "normal_rand", "populate_recordset",
		"json_table", "xmltable", "pg_partition_tree", "pg_partition_ancestors",
		"pg_get_multixact_members", "pg_mcv_list_items", "pg_stat_get_backend_idset":
		return name, true
	}
	return "", false
}

// values analyses VALUES (...), (...): each row is evaluated once.
func (a *analyzer) values(lo, hi int, c ctx) {
	i := lo + 1
	for i < hi && a.toks[i].kind == tLParen {
		j := a.pair(i)
		a.expr(i+1, j, c)
		i = j + 1
		if a.kindAt(i, hi) != tComma {
			break
		}
		i++
	}
	a.expr(i, hi, c)
}

// insert analyses INSERT INTO ... at lo. The source (VALUES rows or a
// query) is analysed like any query; ON CONFLICT DO UPDATE and RETURNING
// are evaluated once per inserted row, so they are evaluated once only
// when the source is a single row.
func (a *analyzer) insert(lo, hi int, c ctx) {
	it, ok := a.ins, a.ins.at == lo+1
	if !ok {
		if it, ok = a.parseInsert(lo, hi); !ok {
			return
		}
	}
	if !it.defaultValues {
		a.query(it.srcLo, it.srcHi, c, "INSERT ... SELECT ... FROM")
	}
	single := it.defaultValues || a.singleRow(it.srcLo, it.srcHi)
	if it.onLo >= 0 {
		oc := c
		if !single {
			oc = perRow(c, "ON CONFLICT DO UPDATE of an INSERT of several rows")
		}
		a.expr(it.onLo, it.onHi, oc)
	}
	if it.retLo >= 0 {
		rc := c
		if !single {
			rc = perRow(c, "RETURNING of an INSERT of several rows")
		}
		a.returning(it.retLo, hi, rc)
	}
}

// singleRow reports whether the INSERT source toks[lo:hi] yields at most
// one row: VALUES with one row, or a FROM-less SELECT without set
// operations and without set-returning functions.
func (a *analyzer) singleRow(lo, hi int) bool {
	switch a.kwAt(lo, hi) {
	case kwValues:
		return a.kindAt(lo+1, hi) == tLParen && a.pair(lo+1) == hi-1
	case kwSelect:
		for i := lo; i < hi; i = a.skip(i) {
			if k := a.kwAt(i, hi); k == kwUnion || k == kwIntersect || k == kwExcept {
				return false
			}
		}
		cl, ok := a.selectClauses(lo, hi)
		return ok && !a.hasFrom(&cl, hi) && a.multiplier(lo, hi) == ""
	}
	return false
}

// returning analyses RETURNING ... at lo (PostgreSQL 18 allows
// RETURNING WITH (OLD AS o, NEW AS n) ...).
func (a *analyzer) returning(lo, hi int, c ctx) {
	i := lo + 1
	if a.kwAt(i, hi) == kwWith && a.kindAt(i+1, hi) == tLParen {
		i = a.pair(i+1) + 1
	}
	a.targetList(i, hi)
	a.expr(i, hi, c)
}

// dml analyses UPDATE, DELETE and MERGE: all of their expressions are
// evaluated per row.
func (a *analyzer) dml(lo, hi int, c ctx, what string) {
	pc := perRow(c, what)
	end := hi
	for i := lo + 1; i < hi; i = a.skip(i) {
		if a.kwAt(i, hi) == kwReturning {
			end = i
			break
		}
	}
	a.expr(lo+1, end, pc)
	if end < hi {
		a.returning(end, hi, pc)
	}
}

// targetList finds, in a SELECT or RETURNING list, the items whose output
// column name comes from a call (nextval('s') is named nextval; $1::int8
// would be named int8) and records where an alias must go.
func (a *analyzer) targetList(lo, hi int) {
	s := lo
	for i := lo; ; {
		if i >= hi || a.toks[i].kind == tComma {
			if i > s {
				a.item(s, min(i, hi))
			}
			if i >= hi {
				return
			}
			i++
			s = i
			continue
		}
		i = a.skip(i)
	}
}

// item handles one target list item toks[s:e].
func (a *analyzer) item(s, e int) {
	if e-s >= 2 && a.kwAt(e-2, e) == kwAs {
		return // explicit alias
	}
	if ci := a.headCall(s, e); ci >= 0 {
		a.calls[ci].aliasAt = a.toks[e-1].end
	}
}

// headCall returns the call that determines the output column name of the
// expression toks[s:e] the way PostgreSQL's FigureColname does, or -1:
// the expression must be a call, possibly parenthesised, followed by casts
// or COLLATE, or a CASE whose ELSE branch is such an expression.
func (a *analyzer) headCall(s, e int) int {
	if s >= e {
		return -1
	}
	i := s
	ci := -1
	t := &a.toks[i]
	switch {
	case t.call != 0:
		ci = int(t.call) - 1
		i = int(a.calls[ci].last) + 1
	case t.kind == tLParen:
		j := int(t.pair)
		if j >= e {
			return -1
		}
		ci = a.headCall(i+1, j)
		i = j + 1
	case a.kwAt(i, e) == kwCase:
		end := a.caseEnd(i, e)
		if end < 0 {
			return -1
		}
		els := a.caseElse(i, end)
		if els < 0 {
			return -1
		}
		ci = a.headCall(els+1, end)
		i = end + 1
	default:
		return -1
	}
	if ci < 0 {
		return -1
	}
	for i < e {
		switch {
		case a.toks[i].kind == tCast:
			j := a.skipType(i+1, e)
			if j == i+1 || j > e {
				return -1
			}
			i = j
		case a.kwAt(i, e) == kwCollate && a.isName(i+1, e):
			i += 2
			for i+1 < e && a.toks[i].kind == tDot && a.isName(i+1, e) {
				i += 2
			}
		default:
			return -1
		}
	}
	return ci
}

// caseEnd returns the END of the CASE at i, or -1 (the lexer pairs them).
func (a *analyzer) caseEnd(i, hi int) int {
	if j := a.pair(i); j > i && j < hi {
		return j
	}
	return -1
}

// caseElse returns the ELSE of the CASE at i (whose END is at end), or -1.
func (a *analyzer) caseElse(i, end int) int {
	for j := i + 1; j < end; {
		switch a.kwAt(j, end) {
		case kwCase:
			k := a.caseEnd(j, end)
			if k < 0 {
				return -1
			}
			j = k + 1
			continue
		case kwElse:
			return j
		}
		j = a.skip(j)
	}
	return -1
}

// skipType returns the index after the type name at i (as in x::type),
// or i when there is none.
func (a *analyzer) skipType(i, e int) int {
	if !a.isName(i, e) {
		return i
	}
	first := a.kwAt(i, e)
	i++
	for i+1 < e && a.toks[i].kind == tDot && a.isName(i+1, e) {
		i += 2
	}
	switch first {
	case kwDouble:
		if a.kwAt(i, e) == kwPrecision {
			i++
		}
	case kwNational:
		if k := a.kwAt(i, e); k == kwCharacter || k == kwChar {
			i++
		}
		if a.kwAt(i, e) == kwVarying {
			i++
		}
	case kwCharacter, kwChar, kwBit:
		if a.kwAt(i, e) == kwVarying {
			i++
		}
	case kwTime, kwTimestamp:
		if a.kindAt(i, e) == tLParen && a.pair(i) < e {
			i = a.pair(i) + 1
		}
		if k := a.kwAt(i, e); (k == kwWith || k == kwWithout) && a.kwAt(i+1, e) == kwTime && a.kwAt(i+2, e) == kwZone {
			i += 3
		}
	case kwInterval:
		if isField(a.kwAt(i, e)) {
			i++
			if a.kwAt(i, e) == kwTo && isField(a.kwAt(i+1, e)) {
				i += 2
			}
		}
	}
	if a.kindAt(i, e) == tLParen && a.pair(i) < e {
		i = a.pair(i) + 1
	}
	for {
		if a.kwAt(i, e) == kwArray {
			i++
		} else if a.kindAt(i, e) == tLBracket && a.pair(i) < e {
			i = a.pair(i) + 1
		} else {
			return i
		}
	}
}

func isField(k keyword) bool {
	switch k {
	case kwYear, kwMonth, kwDay, kwHour, kwMinute, kwSecond:
		return true
	}
	return false
}

// insertTokens is the structure of an INSERT as token indices.
type insertTokens struct {
	at               int // 1 + the index of the INSERT key word
	tableLo, tableHi int // the table name
	targetHi         int // after the table name and its AS alias
	colsLo           int // the ( of the column list, or -1
	overLo           int // OVERRIDING ... VALUE (3 tokens), or -1
	srcLo, srcHi     int // VALUES ..., the query, or DEFAULT VALUES
	defaultValues    bool
	onLo, onHi       int // ON CONFLICT ..., or -1
	retLo            int // RETURNING ..., or -1
}

// parseInsert parses INSERT INTO table [AS alias] [(columns)]
// [OVERRIDING {SYSTEM|USER} VALUE] {DEFAULT VALUES | query}
// [ON CONFLICT ...] [RETURNING ...] at lo.
func (a *analyzer) parseInsert(lo, hi int) (it insertTokens, ok bool) {
	it.at = lo + 1
	i := lo + 1
	if a.kwAt(i, hi) != kwInto {
		return it, false
	}
	i++
	it.tableLo = i
	for np := 1; ; np++ {
		if !a.isName(i, hi) {
			return it, false
		}
		i++
		if np < 3 && a.kindAt(i, hi) == tDot {
			i++
			continue
		}
		break
	}
	it.tableHi = i
	if a.kwAt(i, hi) == kwAs {
		if !a.isName(i+1, hi) {
			return it, false
		}
		i += 2
	}
	it.targetHi = i
	it.colsLo, it.overLo, it.onLo, it.retLo = -1, -1, -1, -1
	if a.kindAt(i, hi) == tLParen && !a.startsQuery(i+1, a.pair(i)) {
		it.colsLo = i
		i = a.pair(i) + 1
	}
	if a.kwAt(i, hi) == kwOverriding {
		if k := a.kwAt(i+1, hi); (k != kwSystem && k != kwUser) || a.kwAt(i+2, hi) != kwValue {
			return it, false
		}
		it.overLo = i
		i += 3
	}
	it.srcLo = i
	it.srcHi = hi
scan:
	for j := i; j < hi; j = a.skip(j) {
		switch a.kwAt(j, hi) {
		case kwOn:
			if it.onLo < 0 && a.kwAt(j+1, hi) == kwConflict {
				it.onLo = j
				it.srcHi = j
			}
		case kwReturning:
			it.retLo = j
			if it.onLo < 0 {
				it.srcHi = j
			}
			it.onHi = j
			break scan
		}
	}
	if it.onLo >= 0 && it.retLo < 0 {
		it.onHi = hi
	}
	if a.kwAt(i, hi) == kwDefault && a.kwAt(i+1, hi) == kwValues {
		if it.srcHi != i+2 {
			return it, false
		}
		it.defaultValues = true
	}
	return it, it.srcLo < it.srcHi
}
