package rewrite

import (
	"strconv"
	"strings"
)

// Dialect is the SQL dialect a Planner reads.
type Dialect uint8

const (
	// PostgreSQL: nextval('s'), currval, setval, lastval(), NEXT VALUE FOR.
	PostgreSQL Dialect = iota
	// MySQL is MariaDB's (and MySQL's) dialect: NEXTVAL(s), NEXT VALUE FOR
	// s, LASTVAL(s), PREVIOUS VALUE FOR s, SETVAL(s, n [, is_used]), read
	// with github.com/xwb1989/sqlparser's tokenizer.
	MySQL
)

// myKeyword identifies the key words the MySQL planner looks at.
type myKeyword uint8

const (
	myNone myKeyword = iota
	myAll
	myAlter
	myAs
	myCallKw
	myCreate
	myDelete
	myDistinct
	myDistinctrow
	myDo
	myDual
	myDuplicate
	myFalse
	myFor
	myFrom
	myGroup
	myHaving
	myInsertKw
	myInto
	myLastval
	myLimit
	myLock
	myNext
	myNextval
	myOn
	myOrder
	myPrevious
	myProcedure
	myReplace
	myReturning
	mySelect
	mySet
	mySetval
	myTrue
	myUnion
	myUpdate
	myValue
	myValues
	myWhere
	myWindow
	myWith
	myExcept
	myIntersect
	myUse
)

var myKeywords = map[string]myKeyword{
	"all": myAll, "alter": myAlter, "as": myAs, "call": myCallKw, "create": myCreate,
	"delete": myDelete, "distinct": myDistinct, "distinctrow": myDistinctrow, "do": myDo,
	"dual": myDual, "duplicate": myDuplicate, "false": myFalse, "for": myFor, "from": myFrom,
	"group": myGroup, "having": myHaving, "insert": myInsertKw, "into": myInto,
	"lastval": myLastval, "limit": myLimit, "lock": myLock, "next": myNext, "nextval": myNextval,
	"on": myOn, "order": myOrder, "previous": myPrevious, "procedure": myProcedure,
	"replace": myReplace, "returning": myReturning, "select": mySelect, "set": mySet,
	"setval": mySetval, "true": myTrue, "union": myUnion, "update": myUpdate, "value": myValue,
	"values": myValues, "where": myWhere, "window": myWindow, "with": myWith,
	"except": myExcept, "intersect": myIntersect, "use": myUse,
}

func myKeywordOf(word string) myKeyword {
	if len(word) > 11 {
		return myNone
	}
	return myKeywords[strings.ToLower(word)]
}

// myCallSite is a sequence call found in a MySQL text.
type myCallSite struct {
	first, last int // token range, inclusive
	fn          Func
	seq         Name
	value, used Arg
	bad         string // why seqshim cannot answer it, if it cannot
	managed     bool
	m           mult
	why         string // the statement part evaluating it per row
}

// myAnalyzer plans one MySQL text.
type myAnalyzer struct {
	src   string
	toks  []myToken
	opts  *Options
	calls []myCallSite
}

// planMySQL plans sql in the MySQL dialect.
func planMySQL(sql string, o *Options) *Plan {
	toks, ok := myLex(sql)
	if !ok {
		if mentionsSequence(sql) {
			return &Plan{Kind: Refuse, Original: sql, SQL: sql,
				Reason: "seqshim cannot read this statement (a construct its MySQL lexer does not know) and it seems to call a sequence; seqshim never leaves a managed sequence to the database: run SELECT NEXTVAL(s) on its own and pass the value as a parameter"}
		}
		return &Plan{Original: sql, SQL: sql} // the database reports the error
	}
	a := myAnalyzer{src: sql, toks: toks, opts: o}
	return a.plan()
}

// mentionsSequence reports whether a text the lexer cannot read holds the
// words of a sequence call, so that it is refused rather than passed.
func mentionsSequence(sql string) bool {
	low := strings.ToLower(sql)
	if strings.Contains(low, "nextval") || strings.Contains(low, "lastval") || strings.Contains(low, "setval") {
		return true
	}
	f := strings.FieldsFunc(low, func(r rune) bool { return !(r >= 'a' && r <= 'z') })
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "next" || f[i] == "previous") && f[i+1] == "value" {
			return true
		}
	}
	return false
}

func (a *myAnalyzer) kw(i, hi int) myKeyword {
	if i < hi && a.toks[i].kind == myWord {
		return a.toks[i].kw
	}
	return myNone
}

func (a *myAnalyzer) isName(i, hi int) bool {
	return i < hi && (a.toks[i].kind == myWord || a.toks[i].kind == myQIdent)
}

func (a *myAnalyzer) plan() *Plan {
	sql := a.src
	a.findCalls()
	params := 0
	for i := range a.toks {
		if a.toks[i].kind == myParam {
			params++
		}
	}
	pl := &Plan{Original: sql, SQL: sql, NumParams: params}
	stmts := a.split()
	pl.Facts = a.facts(stmts)
	if len(stmts) == 1 {
		if k := a.kw(stmts[0][0], stmts[0][1]); k == myInsertKw || k == myReplace {
			pl.myIns = a.insert(stmts[0][0], stmts[0][1])
		}
	}
	if len(a.calls) == 0 {
		return pl
	}
	v := a.verdict(stmts)
	if v.kind == Pass {
		return pl
	}
	pl.Kind = v.kind
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if !cs.managed {
			continue
		}
		pl.Calls = append(pl.Calls, Call{Func: cs.fn, Seq: cs.seq, Key: keyOf(cs.seq), Value: cs.value, IsCalled: cs.used,
			Span: Span{a.toks[cs.first].start, a.toks[cs.last].end}})
	}
	switch v.kind {
	case Local:
		pl.Columns = v.columns
	case Bind:
		pl.SQL, pl.edits = a.render(v, pl.Calls)
	case Refuse:
		pl.Reason = v.reason
	}
	return pl
}

// facts returns what the statements do that the driver acts on: a
// catalog change (CREATE, ALTER, DROP, RENAME, TRUNCATE: a table's columns
// or AUTO_INCREMENT may change), a SET of sql_mode, which decides whether
// 0 generates an AUTO_INCREMENT value, and USE db (Command USE, Object
// database, Value the database), which moves unqualified names.
func (a *myAnalyzer) facts(stmts [][2]int) []Fact {
	var out []Fact
	for k, st := range stmts {
		lo, hi := st[0], st[1]
		if a.toks[lo].kind != myWord {
			continue
		}
		switch w := strings.ToUpper(a.toks[lo].text); w {
		case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
			f := Fact{Kind: CatalogChange, Statement: k, Command: w}
			if lo+1 < hi && a.toks[lo+1].kind == myWord {
				f.Object = strings.ToUpper(a.toks[lo+1].text)
			}
			out = append(out, f)
		case "USE":
			if lo+2 == hi && a.isName(lo+1, hi) {
				out = append(out, Fact{Kind: Setting, Statement: k, Command: "USE", Object: "database",
					Value: a.toks[lo+1].text, Constant: true})
			}
		case "SET":
			for i := lo + 1; i < hi; i++ {
				if t := &a.toks[i]; t.kind == myWord && strings.HasSuffix(strings.ToLower(t.text), "sql_mode") {
					out = append(out, Fact{Kind: Setting, Statement: k, Command: "SET", Object: "sql_mode"})
					break
				}
			}
		}
	}
	return out
}

// verdict classifies the statements: the first that is not Pass decides;
// in a string of several statements, it is refused.
func (a *myAnalyzer) verdict(stmts [][2]int) verdict {
	c0 := 0
	for k, st := range stmts {
		c1 := c0
		for c1 < len(a.calls) && a.calls[c1].first < st[1] {
			c1++
		}
		v := a.classify(st[0], st[1], c0, c1)
		c0 = c1
		switch {
		case v.kind == Pass:
			continue
		case len(stmts) > 1 && v.kind != Refuse:
			v.kind, v.reason = Refuse, "the query string holds "+strconv.Itoa(len(stmts))+" statements and statement "+strconv.Itoa(k+1)+
				" calls a sequence; seqshim answers sequence calls only in a query string of one statement: send the statements one at a time"
		case len(stmts) > 1:
			v.reason = "statement " + strconv.Itoa(k+1) + " of " + strconv.Itoa(len(stmts)) + ": " + v.reason
		}
		return v
	}
	return verdict{kind: Pass}
}

func keyOf(n Name) string {
	if n == (Name{}) {
		return ""
	}
	return n.Key()
}

// split returns the statements as token ranges without their semicolons.
func (a *myAnalyzer) split() [][2]int {
	var out [][2]int
	lo := 0
	for i := 0; i < len(a.toks); i++ {
		switch a.toks[i].kind {
		case myLParen:
			i = a.toks[i].pair
		case mySemi:
			if i > lo {
				out = append(out, [2]int{lo, i})
			}
			lo = i + 1
		}
	}
	if lo < len(a.toks) {
		out = append(out, [2]int{lo, len(a.toks)})
	}
	return out
}

// findCalls records the call sites in text order.
func (a *myAnalyzer) findCalls() {
	toks := a.toks
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if t.kind != myWord {
			continue
		}
		var cs myCallSite
		ok := false
		switch t.kw {
		case myNextval, myLastval, mySetval:
			ok = a.funcCall(i, &cs)
		case myNext, myPrevious:
			ok = a.valueFor(i, &cs)
		}
		if !ok {
			continue
		}
		if t.exec && cs.bad == "" {
			cs.bad = a.text(&cs) + " is inside an executable comment /*! ... */; seqshim answers sequence calls only in plain SQL: take it out of the comment"
		}
		a.calls = append(a.calls, cs)
		i = cs.last
	}
}

// exprStart reports whether a call starting at token i stands where an
// expression may start (not as a table, column or alias name).
func (a *myAnalyzer) exprStart(i int) bool {
	if i == 0 {
		return true
	}
	p := &a.toks[i-1]
	switch p.kind {
	case myLParen, myComma, myOp, mySemi:
		return true
	case myWord:
		switch strings.ToLower(p.text) {
		case "select", "where", "and", "or", "not", "xor", "then", "else", "when", "case", "by", "in",
			"on", "like", "between", "is", "limit", "having", "do", "return", "distinct", "all",
			"div", "mod", "interval", "offset", "returning", "default", "set", "values", "value",
			"straight_join", "sql_no_cache", "sql_cache", "sql_calc_found_rows", "high_priority",
			"sql_small_result", "sql_big_result", "sql_buffer_result", "escape", "regexp", "rlike", "binary":
			return true
		}
	}
	return false
}

// funcCall recognises NEXTVAL(s), LASTVAL(s) and SETVAL(s, n [, used [, round]]).
func (a *myAnalyzer) funcCall(i int, cs *myCallSite) bool {
	toks := a.toks
	if i+1 >= len(toks) || toks[i+1].kind != myLParen || !a.exprStart(i) {
		return false
	}
	lp, rp := i+1, toks[i+1].pair
	var args [][2]int
	for s, j := lp+1, lp+1; j <= rp; j++ {
		switch {
		case toks[j].kind == myLParen:
			j = toks[j].pair
		case toks[j].kind == myComma || j == rp:
			if j == s {
				return false
			}
			args = append(args, [2]int{s, j})
			s = j + 1
		}
	}
	*cs = myCallSite{first: i, last: rp}
	switch toks[i].kw {
	case myNextval:
		cs.fn = Nextval
	case myLastval:
		cs.fn = Currval
	default:
		cs.fn = Setval
	}
	if len(args) == 0 || cs.fn != Setval && len(args) != 1 || cs.fn == Setval && (len(args) < 2 || len(args) > 4) {
		return false // another function, or an error the server reports
	}
	if !a.name(cs, args[0][0], args[0][1]) {
		return false
	}
	if cs.fn == Setval {
		// MariaDB's grammar takes constants only; anything else is its
		// syntax error, left to the server.
		var ok bool
		if cs.value, ok = a.intArg(args[1][0], args[1][1]); !ok {
			return false
		}
		cs.used = Arg{Bool: true}
		if len(args) >= 3 {
			if cs.used, ok = a.boolArg(args[2][0], args[2][1]); !ok {
				return false
			}
		}
		if len(args) == 4 && cs.bad == "" {
			cs.bad = a.text(cs) + " gives a round; a round lets SETVAL move a sequence back, and seqshim never moves a sequence back while other processes may hold its values: stop every instance and use `seqshim setval`"
		}
	}
	return true
}

// valueFor recognises NEXT VALUE FOR s and PREVIOUS VALUE FOR s.
func (a *myAnalyzer) valueFor(i int, cs *myCallSite) bool {
	toks := a.toks
	n := len(toks)
	if a.kw(i+1, n) != myValue || a.kw(i+2, n) != myFor || !a.exprStart(i) {
		return false
	}
	lo, hi := i+3, i+4
	if !a.isName(lo, n) && !a.doubleQuoted(lo, n) {
		return false // the server's syntax error
	}
	if hi+1 < n && toks[hi].kind == myDot && a.isName(hi+1, n) {
		hi += 2
	}
	*cs = myCallSite{first: i, last: hi - 1, fn: Nextval}
	if toks[i].kw == myPrevious {
		cs.fn = Currval
	}
	return a.name(cs, lo, hi)
}

// doubleQuoted reports whether token i (< hi) is a "..." string.
func (a *myAnalyzer) doubleQuoted(i, hi int) bool {
	return i < hi && a.toks[i].kind == myString && a.src[a.toks[i].start] == '"'
}

// name reads the sequence name toks[lo:hi]: s, db.s, `s`, `db`.`s`.
func (a *myAnalyzer) name(cs *myCallSite, lo, hi int) bool {
	toks := a.toks
	switch {
	case hi == lo+1 && a.isName(lo, hi):
		cs.seq = Name{Schema: a.opts.DefaultSchema, Name: toks[lo].text}
	case hi == lo+3 && a.isName(lo, hi) && toks[lo+1].kind == myDot && a.isName(lo+2, hi):
		cs.seq = Name{Schema: toks[lo].text, Name: toks[lo+2].text}
	case hi == lo+1 && a.doubleQuoted(lo, hi):
		// An identifier under sql_mode ANSI_QUOTES (a syntax error
		// otherwise): never leave it to the server's own sequence.
		cs.bad = a.text(cs) + ` names the sequence in double quotes, an identifier only under sql_mode ANSI_QUOTES, which seqshim does not read: write the name bare or in backticks`
		return true
	case hi > lo && (toks[lo].kind == myWord || toks[lo].kind == myQIdent || toks[lo].kind == myParam):
		cs.bad = a.text(cs) + " takes the sequence name from an expression or a parameter; seqshim needs the name in the SQL text: write NEXTVAL(db.name)"
		return true
	default:
		return false // NEXTVAL('s'), NEXTVAL(1): the server's syntax error
	}
	return true
}

// intArg reads SETVAL's value: an optionally signed integer.
func (a *myAnalyzer) intArg(lo, hi int) (Arg, bool) {
	t := &a.toks[lo]
	num := ""
	switch {
	case hi == lo+1 && t.kind == myNumber:
		num = t.text
	case hi == lo+2 && t.kind == myOp && (t.text == "-" || t.text == "+") && a.toks[lo+1].kind == myNumber:
		num = t.text + a.toks[lo+1].text
	}
	v, err := strconv.ParseInt(num, 10, 64)
	return Arg{Int: v}, err == nil
}

// boolArg reads SETVAL's is_used: an integer, TRUE or FALSE.
func (a *myAnalyzer) boolArg(lo, hi int) (Arg, bool) {
	t := &a.toks[lo]
	if hi == lo+1 {
		switch {
		case t.kind == myWord && t.kw == myTrue:
			return Arg{Bool: true}, true
		case t.kind == myWord && t.kw == myFalse:
			return Arg{}, true
		case t.kind == myNumber:
			if v, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				return Arg{Bool: v != 0}, true
			}
		}
	}
	return Arg{}, false
}

// text returns the call's text as written, shortened when long.
func (a *myAnalyzer) text(cs *myCallSite) string {
	return shorten(a.src[a.toks[cs.first].start:a.toks[cs.last].end])
}
