package rewrite

import "strings"

// classify decides the plan of the statement toks[lo:hi], whose calls are
// a.calls[c0:c1], under MariaDB's rules of evaluation.
func (a *myAnalyzer) classify(lo, hi, c0, c1 int) verdict {
	v := verdict{c0: c0, c1: c1}
	all := 0
	nextOrSet := false
	for ci := c0; ci < c1; ci++ {
		cs := &a.calls[ci]
		all++
		known := cs.seq != (Name{})
		if !known || a.opts.Managed == nil || a.opts.Managed(cs.seq) {
			cs.managed = true
			v.n++
			if cs.fn == Nextval || cs.fn == Setval {
				nextOrSet = true
			}
		}
	}
	if v.n == 0 {
		return verdict{kind: Pass}
	}
	a.contexts(lo, hi, c0, c1)
	refuse := func(reason string) verdict {
		v.kind, v.reason = Refuse, reason
		return v
	}
	for ci := c0; ci < c1; ci++ {
		cs := &a.calls[ci]
		switch {
		case !cs.managed || cs.m == mStored:
			continue
		case cs.bad != "":
			return refuse(cs.bad)
		case cs.m == mPerRow && (cs.fn != Currval || nextOrSet):
			return refuse(a.text(cs) + " is evaluated once per row in " + cs.why +
				"; seqshim answers it once per statement: fetch the values first with SELECT NEXTVAL(" + cs.seq.Key() +
				") (one call per row) and pass them as parameters")
		case cs.m == mUnsupported:
			return refuse("seqshim does not answer sequence calls in " + cs.why + " statements (" + a.text(cs) +
				"): run SELECT " + a.text(cs) + " first and pass the value as a parameter")
		}
	}
	stored := true
	for ci := c0; ci < c1; ci++ {
		if a.calls[ci].managed && a.calls[ci].m != mStored {
			stored = false
		}
	}
	if stored {
		return verdict{kind: Pass} // DDL keeps DEFAULT NEXTVAL(s) for the server
	}
	if v.n == all {
		if cols, ok := a.localColumns(lo, hi); ok {
			v.kind, v.columns = Local, cols
			return v
		}
	}
	v.kind = Bind
	return v
}

// contexts sets how often each call of the statement is evaluated.
func (a *myAnalyzer) contexts(lo, hi, c0, c1 int) {
	set := func(m mult, why string) {
		for ci := c0; ci < c1; ci++ {
			a.calls[ci].m, a.calls[ci].why = m, why
		}
	}
	first := lo
	for first < hi && a.toks[first].kind == myLParen {
		first++
	}
	from := a.hasFrom(lo, hi)
	switch k := a.kw(first, hi); k {
	case mySelect:
		if from {
			set(mPerRow, "SELECT ... FROM")
		} else {
			set(mOnce, "")
		}
	case myInsertKw, myReplace:
		a.insertContexts(first, hi, c0, c1, from)
	case mySet, myDo, myCallKw:
		if from {
			set(mPerRow, "a subquery with FROM")
		} else {
			set(mOnce, "")
		}
	case myUpdate, myDelete:
		set(mPerRow, strings.ToUpper(a.toks[first].text))
	case myCreate, myAlter:
		for i := first; i < hi; i++ {
			if a.kw(i, hi) == mySelect {
				set(mUnsupported, strings.ToUpper(a.toks[first].text)+" ... SELECT")
				return
			}
		}
		set(mStored, "")
	default:
		word := "these"
		if first < hi && a.toks[first].kind == myWord {
			word = strings.ToUpper(a.toks[first].text)
		}
		set(mUnsupported, word)
	}
}

// insertContexts: the rows of VALUES are each evaluated once; INSERT ...
// SELECT ... FROM per row; ON DUPLICATE KEY UPDATE and RETURNING once per
// row, so once only for a single row.
func (a *myAnalyzer) insertContexts(first, hi, c0, c1 int, from bool) {
	rows, tail, what := 0, hi, ""
	for i := first; i < hi; i++ {
		t := &a.toks[i]
		if t.kind == myLParen {
			if i > first && (a.kw(i-1, hi) == myValues || a.kw(i-1, hi) == myValue || a.toks[i-1].kind == myComma && rows > 0) {
				rows++
			}
			i = t.pair
			continue
		}
		switch {
		case a.kw(i, hi) == mySelect:
			rows = 2 // any number of rows
		case a.kw(i, hi) == myOn && a.kw(i+1, hi) == myDuplicate && tail == hi:
			tail, what = i, "ON DUPLICATE KEY UPDATE of an INSERT of several rows"
		case a.kw(i, hi) == myReturning && tail == hi:
			tail, what = i, "RETURNING of an INSERT of several rows"
		}
	}
	for ci := c0; ci < c1; ci++ {
		cs := &a.calls[ci]
		switch {
		case from:
			cs.m, cs.why = mPerRow, "INSERT ... SELECT ... FROM"
		case cs.first > tail && rows > 1:
			cs.m, cs.why = mPerRow, what
		default:
			cs.m = mOnce
		}
	}
}

// hasFrom reports whether a SELECT of the statement reads a table: a FROM
// other than FROM DUAL at the level of a SELECT (not the FROM of
// EXTRACT(... FROM ...) or TRIM(... FROM ...)).
func (a *myAnalyzer) hasFrom(lo, hi int) bool {
	var levels []bool // per open parenthesis: a SELECT seen at that level
	sel := false
	for i := lo; i < hi; i++ {
		switch a.toks[i].kind {
		case myLParen:
			levels = append(levels, sel)
			sel = false
		case myRParen:
			if n := len(levels); n > 0 {
				sel, levels = levels[n-1], levels[:n-1]
			}
		case myWord:
			switch a.toks[i].kw {
			case mySelect:
				sel = true
			case myFrom:
				if sel && a.kw(i+1, hi) != myDual {
					return true
				}
			}
		}
	}
	return false
}

// selectItems returns the items of the SELECT list starting after token
// sel, as token ranges, and the token after the list.
func (a *myAnalyzer) selectItems(sel, hi int) ([][2]int, int) {
	i := sel + 1
	for i < hi && a.toks[i].kind == myWord {
		w := strings.ToLower(a.toks[i].text)
		if w != "all" && w != "distinct" && w != "distinctrow" && w != "high_priority" && w != "straight_join" &&
			!strings.HasPrefix(w, "sql_") {
			break
		}
		i++
	}
	var items [][2]int
	s := i
	for ; i < hi; i++ {
		t := &a.toks[i]
		if t.kind == myLParen {
			i = t.pair
			continue
		}
		if ci := a.callAt(i); ci >= 0 { // NEXT VALUE FOR s: its FOR ends nothing
			i = a.calls[ci].last
			continue
		}
		if t.kind == myComma {
			items = append(items, [2]int{s, i})
			s = i + 1
			continue
		}
		if t.kind == myRParen || t.kind == myWord && endsSelectList(t.kw) {
			break
		}
	}
	if i > s {
		items = append(items, [2]int{s, i})
	}
	return items, i
}

func endsSelectList(k myKeyword) bool {
	switch k {
	case myFrom, myWhere, myGroup, myHaving, myOrder, myLimit, myInto, myUnion, myFor, myLock,
		myWindow, myProcedure, myExcept, myIntersect:
		return true
	}
	return false
}

// alias returns the index of the alias of item [s, e), or -1. The call
// tokens of the item end at lastCall.
func (a *myAnalyzer) alias(s, e, lastCall int) int {
	l := e - 1
	if l <= lastCall || l <= s {
		return -1
	}
	t := &a.toks[l]
	if t.kind != myWord && t.kind != myQIdent && t.kind != myString {
		return -1
	}
	p := &a.toks[l-1]
	switch p.kind {
	case myWord:
		if p.kw == myAs {
			return l
		}
		if a.exprStart(l) || p.kw != myNone {
			return -1
		}
		return l
	case myRParen, myQIdent, myNumber, myString:
		return l
	}
	return -1
}

// localColumns returns the result columns when the statement is made only
// of sequence calls: SELECT call [[AS] alias], ... [FROM DUAL]. A column
// is named by its alias or, as MariaDB names it, by the call's text.
func (a *myAnalyzer) localColumns(lo, hi int) ([]string, bool) {
	if a.kw(lo, hi) != mySelect {
		return nil, false
	}
	items, end := a.selectItems(lo, hi)
	if !(end == hi || end+2 == hi && a.kw(end, hi) == myFrom && a.kw(end+1, hi) == myDual) {
		return nil, false
	}
	cols := make([]string, 0, len(items))
	for _, it := range items {
		s, e := it[0], it[1]
		ci := a.callAt(s)
		if ci < 0 {
			return nil, false
		}
		last := a.calls[ci].last
		switch {
		case e == last+1:
			cols = append(cols, a.src[a.toks[s].start:a.toks[last].end])
		case a.alias(s, e, last) == e-1 && (e == last+2 || e == last+3 && a.kw(last+1, hi) == myAs):
			cols = append(cols, a.toks[e-1].text)
		default:
			return nil, false
		}
	}
	return cols, len(cols) > 0
}

// callAt returns the index of the call starting at token i, or -1.
func (a *myAnalyzer) callAt(i int) int {
	for ci := range a.calls {
		if a.calls[ci].first == i {
			return ci
		}
	}
	return -1
}

// myPlaceholder replaces a call in a Bind plan.
const myPlaceholder = "CAST(? AS SIGNED)"

// render replaces each managed call with a ? placeholder, numbers the new
// parameters among the statement's own, and names the columns of a
// SELECT list as MariaDB names them (the item's text) where the
// placeholder would change the name.
func (a *myAnalyzer) render(v verdict, calls []Call) (string, []edit) {
	src := a.src
	ident := func(i int) bool { return i >= 0 && i < len(src) && isMyIdentByte(src[i]) }
	var edits []edit
	k := 0
	for ci := v.c0; ci < v.c1; ci++ {
		cs := &a.calls[ci]
		if !cs.managed {
			continue
		}
		sp := calls[k].Span
		calls[k].Param = a.paramsBefore(sp.Start) + k + 1
		// CAST keeps NEXTVAL's type, a nullable BIGINT (a bare ? is a
		// BIGINT NOT NULL), and types a NULL from LASTVAL the same way.
		text := myPlaceholder
		if ident(sp.Start - 1) {
			text = " " + text
		}
		if ident(sp.End) {
			text += " "
		}
		edits = append(edits, edit{Start: sp.Start, End: sp.End, Text: text})
		k++
	}
	edits = append(edits, a.aliases(v)...)
	sortEdits(edits)
	var b strings.Builder
	pos := 0
	for _, e := range edits {
		b.WriteString(src[pos:e.Start])
		b.WriteString(e.Text)
		pos = e.End
	}
	b.WriteString(src[pos:])
	return b.String(), edits
}

// aliases returns the insertions that keep the column names of a SELECT
// statement's list: AS `item text` after each item without an alias that
// holds a managed call.
func (a *myAnalyzer) aliases(v verdict) []edit {
	lo := a.toks[a.calls[v.c0].first].start
	// The statement's first token: the SELECT whose list names the columns.
	first := 0
	for i := range a.toks {
		if a.toks[i].start > lo {
			break
		}
		if a.toks[i].kind == mySemi {
			first = i + 1
		}
	}
	for first < len(a.toks) && a.toks[first].kind == myLParen {
		first++
	}
	if a.kw(first, len(a.toks)) != mySelect {
		return nil
	}
	items, _ := a.selectItems(first, len(a.toks))
	var out []edit
	for _, it := range items {
		s, e := it[0], it[1]
		lastCall := -1
		for ci := v.c0; ci < v.c1; ci++ {
			if cs := &a.calls[ci]; cs.managed && cs.first >= s && cs.last < e {
				lastCall = cs.last
			}
		}
		if lastCall < 0 || a.alias(s, e, lastCall) >= 0 {
			continue
		}
		text := a.src[a.toks[s].start:a.toks[e-1].end]
		end := a.toks[e-1].end
		out = append(out, edit{Start: end, End: end, Text: " AS `" + strings.ReplaceAll(text, "`", "``") + "`"})
	}
	return out
}

// paramsBefore counts the statement's own ? placeholders before offset at.
func (a *myAnalyzer) paramsBefore(at int) int {
	n := 0
	for i := range a.toks {
		if a.toks[i].start >= at {
			break
		}
		if a.toks[i].kind == myParam {
			n++
		}
	}
	return n
}

// sortEdits sorts edits by position; an insertion at a call's end goes
// after the call's replacement.
func sortEdits(edits []edit) {
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && (edits[j].Start < edits[j-1].Start ||
			edits[j].Start == edits[j-1].Start && edits[j].End < edits[j-1].End); j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
}
