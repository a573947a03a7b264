package rewrite

import (
	"errors"
	"strconv"
	"strings"
)

// mult is how often an expression is evaluated per execution of its
// statement.
type mult uint8

const (
	mUnvisited   mult = iota // the analysis did not reach it: treated as unsupported
	mOnce                    // at most once
	mPerRow                  // possibly many times
	mUnsupported             // in a statement seqshim does not answer calls in
	mStored                  // not evaluated: stored by DDL
)

// ctx is the evaluation context of an expression: its multiplicity and the
// statement part responsible, for messages ("SELECT ... FROM", "UPDATE").
type ctx struct {
	m   mult
	why string
}

// badKind says why seqshim cannot evaluate a call's arguments itself.
type badKind uint8

const (
	badNone     badKind = iota
	badNameExpr         // the sequence name is an expression
	badOID              // the sequence is given by OID
	badCatalog          // catalog.schema.name
	badValue            // setval's value is an expression
	badIsCalled         // setval's is_called is an expression
)

// callSite is a sequence call found in the token stream.
type callSite struct {
	first, last int32 // token range, inclusive
	fn          Func
	seq         Name
	nameParam   int
	value       Arg
	isCalled    Arg
	bad         badKind
	malformed   bool // PostgreSQL rejects the call's arguments itself
	managed     bool // seqshim answers it (set by classify)
	c           ctx
	aliasAt     int32 // byte offset where " AS <fn>" keeps the column name, or -1
}

// known reports whether the call's sequence is known at planning time.
func (cs *callSite) known() bool {
	return cs.fn != Lastval && cs.nameParam == 0 && cs.bad == badNone && !cs.malformed
}

// findCalls records every sequence call site of a.toks in a.calls, in text
// order, and marks each call's first token.
func (a *analyzer) findCalls() {
	toks := a.toks
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if !(t.kind == tQIdent || t.kind == tIdent && (t.kw == kwNextval || t.kw == kwCurrval ||
			t.kw == kwSetval || t.kw == kwLastval || t.kw == kwNext)) {
			continue
		}
		if a.calls == nil {
			a.calls = make([]callSite, 0, 4)
		}
		a.calls = append(a.calls, callSite{}) // filled in place
		cs := &a.calls[len(a.calls)-1]
		ok := false
		switch {
		case t.kw == kwNext:
			ok = t.kind == tIdent && !a.opts.NoNextValueFor && a.nextValueFor(i, cs)
		case i+1 < len(toks) && toks[i+1].kind == tLParen:
			ok = a.funcCall(i, cs)
		case a.opts.Oracle && t.kind == tIdent && (t.kw == kwNextval || t.kw == kwCurrval):
			ok = a.oracleCall(i, cs)
		}
		if n := len(a.calls); !ok || n > 1 && cs.first <= a.calls[n-2].last {
			a.calls = a.calls[:len(a.calls)-1]
			continue
		}
		cs.aliasAt = -1
		toks[cs.first].call = int32(len(a.calls))
		i = int(cs.last)
	}
}

// funcOf returns the sequence function the token names: an unquoted
// key word, or a quoted identifier spelt exactly in lower case.
func (a *analyzer) funcOf(t *token) Func {
	if t.kind == tIdent {
		switch t.kw {
		case kwNextval:
			return Nextval
		case kwCurrval:
			return Currval
		case kwSetval:
			return Setval
		case kwLastval:
			return Lastval
		}
		return 0
	}
	name := a.src[t.start:t.end]
	if t.sub == strUni { // U&"..." (a UESCAPE clause would stand before the parenthesis)
		var ok bool
		if name, ok = identText(name, t.kind, t.sub, '\\'); !ok {
			return 0
		}
		name = `"` + name + `"`
	}
	switch name {
	case `"nextval"`:
		return Nextval
	case `"currval"`:
		return Currval
	case `"setval"`:
		return Setval
	case `"lastval"`:
		return Lastval
	}
	return 0
}

// isPgCatalog reports whether token i is pg_catalog or "pg_catalog".
func (a *analyzer) isPgCatalog(i int) bool {
	t := &a.toks[i]
	return t.kind == tIdent && t.kw == kwPgCatalog ||
		t.kind == tQIdent && t.sub == strStd && a.src[t.start:t.end] == `"pg_catalog"`
}

// isName reports whether token i (< hi) is an identifier, quoted or not.
func (a *analyzer) isName(i, hi int) bool {
	return i < hi && (a.toks[i].kind == tIdent || a.toks[i].kind == tQIdent)
}

// exprPrevOK reports whether a call starting at token first stands where
// an expression may start: at the start, after an operator, an opening
// bracket, a comma or a key word that introduces an expression. After
// anything else (INSERT INTO nextval (a), FROM t AS nextval(a), FROM t
// nextval(a), x.nextval(...)) it is not a call of the sequence function.
func (a *analyzer) exprPrevOK(first int) bool {
	if first == 0 {
		return true
	}
	p := &a.toks[first-1]
	switch p.kind {
	case tLParen, tLBracket, tComma, tOp, tSemi, tColon:
		return true
	case tIdent:
		if p.sub == identAfterDot {
			return false
		}
		switch p.kw {
		case kwSelect, kwWhere, kwAnd, kwOr, kwNot, kwThen, kwElse, kwWhen, kwCase,
			kwReturning, kwDistinct, kwAll, kwAny, kwSome, kwBy, kwIn, kwBetween,
			kwSymmetric, kwAsymmetric, kwOn, kwLike, kwIlike, kwSimilar, kwTo, kwIs,
			kwFrom, kwHaving, kwLimit, kwOffset, kwUsing, kwDefault, kwLateral,
			kwJoin, kwOverlaps, kwEscape, kwZone, kwReturn, kwFirst, kwNext, kwFor,
			kwCall:
			return true
		}
		return false
	case tRParen:
		// DISTINCT ON (...) nextval(...) and a OPERATOR(pg_catalog.+) nextval(...)
		o := int(p.pair)
		if o >= 1 {
			b := &a.toks[o-1]
			if b.kind == tIdent && b.sub != identAfterDot {
				if b.kw == kwOn && o >= 2 && a.toks[o-2].kind == tIdent && a.toks[o-2].kw == kwDistinct {
					return true
				}
				if strings.EqualFold(a.src[b.start:b.end], "operator") {
					return true
				}
			}
		}
	}
	return false
}

// funcCall recognises nextval(...), pg_catalog.currval(...), "setval"(...)
// and lastval() at token i (the function name; token i+1 is the opening
// parenthesis).
func (a *analyzer) funcCall(i int, cs *callSite) bool {
	toks := a.toks
	fn := a.funcOf(&toks[i])
	if fn == 0 {
		return false
	}
	first := i
	if i > 0 && toks[i-1].kind == tDot {
		q := i - 2
		if q < 0 || !a.isPgCatalog(q) || q > 0 && toks[q-1].kind == tDot {
			return false
		}
		first = q
	}
	if !a.exprPrevOK(first) {
		return false
	}
	lp := i + 1
	rp := int(toks[lp].pair)
	n := len(toks)
	// WITH nextval (a) AS (...): a CTE, not a call.
	if rp+2 < n && toks[rp+1].kind == tIdent && toks[rp+1].kw == kwAs {
		if t := &toks[rp+2]; t.kind == tLParen || t.kind == tIdent && (t.kw == kwNot || t.kw == kwMaterialized) {
			return false
		}
	}
	var args [4][2]int
	nargs, ok := a.splitArgs(lp, rp, args[:])
	if !ok {
		return false
	}
	switch fn {
	case Nextval, Currval:
		ok = nargs == 1
	case Setval:
		ok = nargs == 2 || nargs == 3
	case Lastval:
		ok = nargs == 0
	}
	if !ok { // another function of that name (or an error the database reports)
		return false
	}
	*cs = callSite{first: int32(first), last: int32(rp), fn: fn}
	if fn == Lastval {
		return true
	}
	a.nameArg(cs, args[0][0], args[0][1])
	if fn == Setval {
		cs.value = a.valueArg(cs, args[1][0], args[1][1])
		cs.isCalled = Arg{Bool: true}
		if nargs == 3 {
			cs.isCalled = a.boolArg(cs, args[2][0], args[2][1])
		}
	}
	return true
}

// splitArgs splits the arguments between the brackets at tokens lp and rp
// at top-level commas into args, and returns their number. ok is false
// for an empty argument or more arguments than args holds.
func (a *analyzer) splitArgs(lp, rp int, args [][2]int) (n int, ok bool) {
	if rp == lp+1 {
		return 0, true
	}
	s := lp + 1
	for j := s; ; {
		if j == rp || a.toks[j].kind == tComma {
			if n == len(args) || j == s {
				return 0, false
			}
			args[n] = [2]int{s, j}
			n++
			if j == rp {
				return n, true
			}
			j++
			s = j
			continue
		}
		j = a.skip(j)
	}
}

// skip returns the index after the token at j, skipping a bracketed group
// or a call site as a whole.
func (a *analyzer) skip(j int) int {
	t := &a.toks[j]
	if t.call != 0 {
		return int(a.calls[t.call-1].last) + 1
	}
	if t.kind == tLParen || t.kind == tLBracket {
		return int(t.pair) + 1
	}
	return j + 1
}

// nameArg parses the sequence argument toks[lo:hi]: a string constant or a
// parameter, optionally cast to regclass, text, varchar or name in any
// spelling PostgreSQL accepts for a constant: 's'::regclass,
// CAST('s' AS regclass), regclass 's', each type optionally pg_catalog.
// qualified, and nested.
func (a *analyzer) nameArg(cs *callSite, lo, hi int) { a.nameExpr(cs, lo, hi, false) }

// nameExpr parses a name argument; recast reports that it is cast again,
// so that the type it ends with need not be one nextval takes.
func (a *analyzer) nameExpr(cs *callSite, lo, hi int, recast bool) {
	toks := a.toks
	if inner, end, k, ok := a.castCall(lo, hi); ok {
		i, last := a.nameCasts(end, hi, k)
		if i != hi {
			cs.bad = badNameExpr
			return
		}
		a.nameExpr(cs, lo+2, inner, true)
		a.checkFinalType(cs, last, recast)
		return
	}
	typed := kwNone
	if k, next := a.typeName(lo, hi); isNameType(k) && next < hi && toks[next].kind == tString {
		lo, typed = next, k // regclass 's': a typed constant
	}
	t := &toks[lo]
	i := lo + 1
	switch t.kind {
	case tString:
		if t.sub == strBit || t.sub == strHex {
			cs.malformed = true // no cast from bit strings to regclass
			return
		}
		esc := byte('\\')
		if t.sub == strUni {
			var ok bool
			if esc, i, ok = a.uescape(i, hi); !ok {
				cs.malformed = true
				return
			}
		}
		i, last := a.nameCasts(i, hi, typed)
		if i != hi {
			cs.bad = badNameExpr
			return
		}
		s, ok := decodeString(a.src[t.start:t.end], t.sub, esc)
		if !ok {
			cs.malformed = true
			return
		}
		name, err := ParseName(s, a.opts.DefaultSchema)
		switch {
		case err == nil:
			cs.seq = name
		case errors.Is(err, ErrNameOID):
			cs.bad = badOID
		case errors.Is(err, ErrNameCatalog):
			cs.bad = badCatalog
		default:
			cs.malformed = true
		}
		a.checkFinalType(cs, last, recast)
	case tParam:
		i, last := a.nameCasts(i, hi, kwNone)
		if i != hi {
			cs.bad = badNameExpr
			return
		}
		cs.nameParam = a.paramNum(lo)
		a.checkFinalType(cs, last, recast)
	case tNumber:
		cs.bad = badOID
	default:
		cs.bad = badNameExpr
	}
}

// checkFinalType: nextval(name) does not exist (name has no implicit cast
// to regclass, unlike text and varchar); PostgreSQL reports it (42883).
func (a *analyzer) checkFinalType(cs *callSite, last keyword, recast bool) {
	if last == kwName && !recast {
		cs.malformed = true
	}
}

// nameCasts skips ::casts to name types at i and returns the index after
// them and the last type (typ when there is none).
func (a *analyzer) nameCasts(i, hi int, typ keyword) (int, keyword) {
	for i < hi && a.toks[i].kind == tCast {
		k, next := a.typeName(i+1, hi)
		if !isNameType(k) {
			break
		}
		i, typ = next, k
	}
	return i, typ
}

// uescape parses an optional UESCAPE 'c' clause at i and returns the
// escape character and the index after the clause.
func (a *analyzer) uescape(i, hi int) (byte, int, bool) {
	if !(i < hi && a.toks[i].kind == tIdent && a.toks[i].kw == kwUescape) {
		return '\\', i, true
	}
	if i+1 >= hi || a.toks[i+1].kind != tString || a.toks[i+1].sub != strStd {
		return 0, i, false
	}
	s, ok := decodeString(a.src[a.toks[i+1].start:a.toks[i+1].end], strStd, 0)
	if !ok || len(s) != 1 || strings.ContainsAny(s, "0123456789abcdefABCDEF+'\" \t\n\r\f\v") {
		return 0, i, false
	}
	return s[0], i + 2, true
}

// valueArg parses setval's value: an optionally signed integer constant
// or a parameter, optionally cast to an integer type.
func (a *analyzer) valueArg(cs *callSite, lo, hi int) Arg {
	toks := a.toks
	i := lo
	neg := false
	if t := &toks[i]; t.kind == tOp && (a.src[t.start:t.end] == "-" || a.src[t.start:t.end] == "+") && i+1 < hi {
		neg = a.src[t.start:t.end] == "-"
		i++
	}
	t := &toks[i]
	var arg Arg
	switch {
	case t.kind == tNumber:
		v, ok := parseInt(a.src[t.start:t.end], neg)
		if !ok { // numeric: setval(regclass, numeric) does not exist
			cs.malformed = true
			return arg
		}
		arg.Int = v
	case t.kind == tParam && !neg:
		arg.Param = a.paramNum(i)
	default:
		if cs.bad == badNone {
			cs.bad = badValue
		}
		return arg
	}
	if a.skipCasts(i+1, hi, isIntType) != hi && cs.bad == badNone {
		cs.bad = badValue
	}
	return arg
}

// boolArg parses setval's is_called: true, false, a boolean string
// constant or a parameter, optionally cast to boolean.
func (a *analyzer) boolArg(cs *callSite, lo, hi int) Arg {
	t := &a.toks[lo]
	var arg Arg
	switch {
	case t.kind == tIdent && t.kw == kwTrue:
		arg.Bool = true
	case t.kind == tIdent && t.kw == kwFalse:
	case t.kind == tParam:
		arg.Param = a.paramNum(lo)
	case t.kind == tString && (t.sub == strStd || t.sub == strEsc):
		s, ok := decodeString(a.src[t.start:t.end], t.sub, 0)
		if !ok {
			cs.malformed = true
			return arg
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			arg.Bool = true
		case "f", "false", "n", "no", "off", "0":
		default:
			cs.malformed = true
			return arg
		}
	default:
		if cs.bad == badNone {
			cs.bad = badIsCalled
		}
		return arg
	}
	if a.skipCasts(lo+1, hi, isBoolType) != hi && cs.bad == badNone {
		cs.bad = badIsCalled
	}
	return arg
}

// paramNum returns n of the parameter token $n at i.
func (a *analyzer) paramNum(i int) int {
	n, _ := strconv.Atoi(a.src[a.toks[i].start+1 : a.toks[i].end])
	return n
}

// parseInt parses an integer constant as PostgreSQL 16 reads it: decimal
// with optional underscores between digits, or 0x, 0o, 0b prefixed.
func parseInt(s string, neg bool) (int64, bool) {
	if neg {
		s = "-" + s
	}
	body := strings.TrimPrefix(s, "-")
	if len(body) > 1 && body[0] == '0' && strings.IndexByte("xXoObB", body[1]) >= 0 {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0, false
		}
		return v, true
	}
	if strings.Contains(body, "__") || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// skipCasts skips ::type casts at i whose type satisfies ok (a key word
// test on the type's last name; pg_catalog. qualification allowed) and
// returns the index after them.
func (a *analyzer) skipCasts(i, hi int, ok func(keyword) bool) int {
	for i < hi && a.toks[i].kind == tCast {
		k, next := a.typeName(i+1, hi)
		if !ok(k) {
			return i
		}
		i = next
	}
	return i
}

// typeName reads a type name at j: its key word (kwNone when it is none
// the planner knows; CHARACTER VARYING is kwVarchar), pg_catalog.
// qualification allowed, and the index after it.
func (a *analyzer) typeName(j, hi int) (keyword, int) {
	toks := a.toks
	if j+1 < hi && a.isPgCatalog(j) && toks[j+1].kind == tDot {
		j += 2
	}
	if j >= hi || toks[j].kind != tIdent {
		return kwNone, j
	}
	k := toks[j].kw
	if k == kwCharacter && j+1 < hi && toks[j+1].kind == tIdent && toks[j+1].kw == kwVarying {
		k = kwVarchar
		j++
	}
	return k, j + 1
}

// castCall recognises CAST(expr AS type) at lo, type a name type: it
// returns the end of expr (which starts at lo+2), the index after the
// closing parenthesis and the type.
func (a *analyzer) castCall(lo, hi int) (exprEnd, after int, typ keyword, ok bool) {
	toks := a.toks
	t := &toks[lo]
	if lo+1 >= hi || t.kind != tIdent || t.sub == identAfterDot || !strings.EqualFold(a.src[t.start:t.end], "cast") ||
		toks[lo+1].kind != tLParen {
		return 0, 0, kwNone, false
	}
	rp := int(toks[lo+1].pair)
	for j := lo + 2; j < rp; j = a.skip(j) {
		if toks[j].kind == tIdent && toks[j].kw == kwAs {
			k, next := a.typeName(j+1, rp)
			return j, rp + 1, k, j > lo+2 && isNameType(k) && next == rp
		}
	}
	return 0, 0, kwNone, false
}

func isNameType(k keyword) bool {
	return k == kwRegclass || k == kwText || k == kwVarchar || k == kwName
}

func isIntType(k keyword) bool {
	return k == kwBigint || k == kwInt8 || k == kwInt || k == kwInt4 || k == kwInteger ||
		k == kwInt2 || k == kwSmallint
}

func isBoolType(k keyword) bool { return k == kwBoolean || k == kwBool }

func isInt8Type(k keyword) bool { return k == kwBigint || k == kwInt8 }

// nextValueFor recognises the standard NEXT VALUE FOR name at token i.
func (a *analyzer) nextValueFor(i int, cs *callSite) bool {
	toks := a.toks
	n := len(toks)
	if i+3 >= n || toks[i].sub == identAfterDot ||
		toks[i+1].kind != tIdent || toks[i+1].kw != kwValue ||
		toks[i+2].kind != tIdent || toks[i+2].kw != kwFor || !a.exprPrevOK(i) {
		return false
	}
	j := i + 3
	var parts [3]int
	np := 0
	for {
		if !a.isName(j, n) || np == len(parts) {
			return false
		}
		parts[np] = j
		np++
		if j+2 < n && toks[j+1].kind == tDot && a.isName(j+2, n) {
			j += 2
			continue
		}
		break
	}
	if j+1 < n && (toks[j+1].kind == tLParen || toks[j+1].kind == tDot) {
		return false
	}
	*cs = callSite{first: int32(i), last: int32(j), fn: Nextval}
	a.identName(cs, parts[:np])
	return true
}

// oracleCall recognises s.NEXTVAL, s.CURRVAL, schema.s.NEXTVAL at token i
// (the NEXTVAL or CURRVAL key word, after a dot).
func (a *analyzer) oracleCall(i int, cs *callSite) bool {
	toks := a.toks
	n := len(toks)
	if i < 2 || toks[i-1].kind != tDot || !a.isName(i-2, n) {
		return false
	}
	if i+1 < n && (toks[i+1].kind == tLParen || toks[i+1].kind == tDot) {
		return false
	}
	first := i - 2
	if first >= 2 && toks[first-1].kind == tDot && a.isName(first-2, n) {
		first -= 2
	}
	if first >= 1 && toks[first-1].kind == tDot || !a.exprPrevOK(first) {
		return false
	}
	fn := Nextval
	if toks[i].kw == kwCurrval {
		fn = Currval
	}
	*cs = callSite{first: int32(first), last: int32(i), fn: fn}
	if first == i-4 {
		a.identName(cs, []int{first, first + 2})
	} else {
		a.identName(cs, []int{first})
	}
	return true
}

// identName resolves a sequence named by identifier tokens.
func (a *analyzer) identName(cs *callSite, parts []int) {
	var s [3]string
	for k, j := range parts {
		t := &a.toks[j]
		if t.sub == strUni && t.kind == tQIdent && j+1 < len(a.toks) && a.toks[j+1].kind == tIdent && a.toks[j+1].kw == kwUescape {
			cs.bad = badNameExpr // U&"..." UESCAPE: not worth decoding here
			return
		}
		v, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
		if !ok {
			cs.malformed = true
			return
		}
		s[k] = v
	}
	switch len(parts) {
	case 1:
		cs.seq = Name{Schema: unqualifiedSchema(a.opts.DefaultSchema), Name: s[0]}
	case 2:
		cs.seq = Name{Schema: s[0], Name: s[1]}
	default:
		cs.bad = badCatalog
	}
}
