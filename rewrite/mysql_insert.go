package rewrite

import (
	"sort"
	"strings"
)

// myInsert describes INSERT or REPLACE of the MySQL dialect with byte offsets into the text.
type myInsert struct {
	Table Name
	// Columns are the listed columns (nil without a list); ListEnd is the
	// offset of the list's closing parenthesis, -1 without a list.
	Columns []string
	ListEnd int
	// Rows are the rows of VALUES: the span of each value. RowEnds are the
	// offsets of the rows' closing parentheses.
	Rows    [][]Span
	RowEnds []int
	// SetColumns and SetValues are the assignments of INSERT ... SET;
	// SetEnd is the offset after the last one.
	SetColumns []string
	SetValues  []Span
	SetEnd     int
	// Select: the rows come from a query (INSERT ... SELECT, TABLE, WITH).
	Select bool
}

// insert parses INSERT|REPLACE [modifiers] [INTO] tbl [PARTITION (...)]
// [(cols)] {VALUES|VALUE (...), ... | SET a = v, ... | SELECT ...}.
func (a *myAnalyzer) insert(lo, hi int) *myInsert {
	toks := a.toks
	i := lo + 1
	for i < hi && toks[i].kind == myWord {
		w := strings.ToLower(toks[i].text)
		if w != "low_priority" && w != "delayed" && w != "high_priority" && w != "ignore" && w != "into" {
			break
		}
		i++
	}
	ins := &myInsert{ListEnd: -1}
	switch {
	case a.isName(i, hi) && i+2 < hi && toks[i+1].kind == myDot && a.isName(i+2, hi):
		ins.Table = Name{Schema: toks[i].text, Name: toks[i+2].text}
		i += 3
	case a.isName(i, hi):
		ins.Table = Name{Schema: a.opts.DefaultSchema, Name: toks[i].text}
		i++
	default:
		return nil
	}
	if strings.EqualFold(a.wordAt(i, hi), "partition") && i+1 < hi && toks[i+1].kind == myLParen {
		i = toks[i+1].pair + 1
	}
	if i < hi && toks[i].kind == myLParen {
		rp := toks[i].pair
		if a.kw(i+1, hi) == mySelect || a.kw(i+1, hi) == myWith || i+1 < rp && toks[i+1].kind == myLParen {
			ins.Select = true // INSERT INTO t (SELECT ...)
			return ins
		}
		ins.Columns = []string{}
		for j := i + 1; j < rp; j++ {
			if !a.isName(j, rp) {
				return nil
			}
			for j+2 < rp && toks[j+1].kind == myDot { // t.col: the column
				j += 2
			}
			ins.Columns = append(ins.Columns, toks[j].text)
			if j+1 < rp && toks[j+1].kind != myComma {
				return nil
			}
			j++
		}
		ins.ListEnd = toks[rp].start
		i = rp + 1
	}
	switch a.kw(i, hi) {
	case myValues, myValue:
		return a.insertRows(ins, i+1, hi)
	case mySet:
		return a.insertSet(ins, i+1, hi)
	}
	ins.Select = true
	return ins
}

func (a *myAnalyzer) wordAt(i, hi int) string {
	if i < hi && a.toks[i].kind == myWord {
		return a.toks[i].text
	}
	return ""
}

// insertRows parses the rows of VALUES from token i.
func (a *myAnalyzer) insertRows(ins *myInsert, i, hi int) *myInsert {
	toks := a.toks
	for i < hi && toks[i].kind == myLParen {
		rp := toks[i].pair
		var row []Span
		for s, j := i+1, i+1; j < rp; {
			e := j
			for e < rp && toks[e].kind != myComma {
				if toks[e].kind == myLParen {
					e = toks[e].pair
				}
				e++
			}
			if e == s {
				return nil
			}
			row = append(row, Span{toks[s].start, toks[e-1].end})
			if e == rp {
				break
			}
			s, j = e+1, e+1
			if j == rp {
				return nil
			}
		}
		ins.Rows = append(ins.Rows, row)
		ins.RowEnds = append(ins.RowEnds, toks[rp].start)
		i = rp + 1
		if i < hi && toks[i].kind == myComma {
			i++
		}
	}
	if len(ins.Rows) == 0 {
		return nil
	}
	return ins
}

// insertSet parses the assignments of INSERT ... SET from token i.
func (a *myAnalyzer) insertSet(ins *myInsert, i, hi int) *myInsert {
	toks := a.toks
	for i < hi {
		if !a.isName(i, hi) {
			return nil
		}
		for i+2 < hi && toks[i+1].kind == myDot {
			i += 2
		}
		col := toks[i].text
		if i+1 >= hi || toks[i+1].kind != myOp || toks[i+1].text != "=" && toks[i+1].text != ":=" {
			return nil
		}
		s := i + 2
		e := s
		for e < hi && toks[e].kind != myComma && !(toks[e].kind == myWord && (toks[e].kw == myOn || toks[e].kw == myReturning)) {
			if toks[e].kind == myLParen {
				e = toks[e].pair
			}
			e++
		}
		if e == s {
			return nil
		}
		ins.SetColumns = append(ins.SetColumns, col)
		ins.SetValues = append(ins.SetValues, Span{toks[s].start, toks[e-1].end})
		ins.SetEnd = toks[e-1].end
		if e >= hi || toks[e].kind != myComma {
			break
		}
		i = e + 1
	}
	if len(ins.SetColumns) == 0 {
		return nil
	}
	return ins
}

// myTable is a table whose AUTO_INCREMENT column draws from a managed
// sequence.
type myTable struct {
	// Columns are the table's columns in order.
	Columns []string
	// Auto is the AUTO_INCREMENT column.
	Auto string
	// Seq is the store's sequence for it; Key is Seq.Key().
	Seq Name
	Key string
	// ZeroGenerates: the session's sql_mode lacks NO_AUTO_VALUE_ON_ZERO,
	// so 0 in the column generates a value, as NULL and DEFAULT do.
	ZeroGenerates bool
}

// myImplicit is Implicit in the MySQL dialect: given the table an INSERT
// writes to, it gives a managed AUTO_INCREMENT column (the column whose
// TableColumn.Seq is managed) its values from the store. The column is
// added where it is left out, and NULL, DEFAULT (and 0 when
// Table.ZeroGenerates) are replaced, each by a placeholder filled with a
// new value. The first generated value is wrapped in LAST_INSERT_ID(?),
// so that MariaDB itself reports it to the client (Result.LastInsertId)
// and to LAST_INSERT_ID() in the session, as it reports the first
// generated id of a multi-row INSERT. Plan.NullChecks lists the caller's
// parameters that give the column its value, for the driver to check at
// run time. A Refuse plan says what cannot be filled.
func (p *Planner) myImplicit(pl *Plan, table func(Name) (*Table, error)) (*Plan, error) {
	desc, err := table(pl.myIns.Table)
	if err != nil || desc == nil {
		return pl, err
	}
	col, ok := p.firstManaged(desc)
	if !ok {
		return pl, nil
	}
	t := &myTable{Auto: col.Name, Seq: col.Seq, Key: col.Seq.Key(), ZeroGenerates: desc.ZeroGenerates}
	for _, c := range desc.Columns {
		t.Columns = append(t.Columns, c.Name)
	}
	q, checks := myFill(pl, pl.myIns, t)
	if len(checks) > 0 {
		if q == pl {
			c := *pl
			q = &c
		}
		q.NullChecks = checks
	}
	return q, nil
}

// myFill plans the INSERT ins of p into t; it returns p itself when no
// value is generated.
func myFill(p *Plan, ins *myInsert, t *myTable) (*Plan, []int) {
	if ins.Select {
		return refusedPlan(p, "INSERT ... SELECT into "+ins.Table.Key()+" may leave its AUTO_INCREMENT column "+t.Auto+
			" to MariaDB, whose values seqshim does not give: insert the rows with VALUES, or leave the table to MariaDB (seqshim.deny="+t.Key+")"), nil
	}
	toks, ok := myLex(p.Original)
	if !ok {
		return p, nil
	}
	f := filler{p: p, toks: toks, t: t}
	switch {
	case ins.SetColumns != nil:
		f.setForm(ins)
	case ins.Columns != nil:
		f.listForm(ins)
	default: // VALUES for every column, in table order
		k := indexFold(t.Columns, t.Auto)
		for _, row := range ins.Rows {
			if len(row) == 0 {
				return refusedPlan(p, "INSERT INTO "+ins.Table.Key()+" VALUES () leaves its AUTO_INCREMENT column "+t.Auto+
					" to MariaDB: name the column, as in INSERT INTO t ("+t.Auto+") VALUES (NULL)"), nil
			}
			if len(row) != len(t.Columns) || k < 0 {
				return p, nil // the server reports the column count
			}
			f.value(row[k])
		}
	}
	if f.generated == 0 {
		return p, f.callers
	}
	return renderImplicit(p, toks, f.adds, t), f.callers
}

// filler collects what myFill changes: the edits, how many of them are
// new values, and the caller's parameters that give the column a value.
type filler struct {
	p         *Plan
	toks      []myToken
	t         *myTable
	adds      []autoEdit
	generated int
	callers   []int
}

// generate adds a new value at sp, after prefix.
func (f *filler) generate(sp Span, prefix string) {
	f.adds = append(f.adds, autoEdit{at: sp, prefix: prefix})
	f.generated++
}

// value handles the column's value at sp: NULL, DEFAULT (and 0 where it
// generates) are replaced; a lone ? is the caller's, checked at run time.
func (f *filler) value(sp Span) {
	switch v := strings.ToLower(f.p.Original[sp.Start:sp.End]); {
	case v == "null" || v == "default" || f.t.ZeroGenerates && isZero(v):
		f.generate(sp, "")
	default:
		n := 0
		for i := range f.toks {
			if f.toks[i].kind == myParam {
				n++
				if f.toks[i].start == sp.Start && f.toks[i].end == sp.End {
					f.callers = append(f.callers, n)
					return
				}
			}
		}
	}
}

// setForm fills INSERT ... SET: the column's value, or a new assignment.
func (f *filler) setForm(ins *myInsert) {
	if k := indexFold(ins.SetColumns, f.t.Auto); k >= 0 {
		f.value(ins.SetValues[k])
		return
	}
	f.generate(Span{ins.SetEnd, ins.SetEnd}, ", "+quoteMyIdent(f.t.Auto)+" = ")
}

// listForm fills INSERT with a column list: each row's value, or the
// column added to the list and a new value to each row.
func (f *filler) listForm(ins *myInsert) {
	k := indexFold(ins.Columns, f.t.Auto)
	if k < 0 {
		f.adds = append(f.adds, autoEdit{at: Span{ins.ListEnd, ins.ListEnd}, text: sep(len(ins.Columns)) + quoteMyIdent(f.t.Auto)})
	}
	for r, row := range ins.Rows {
		switch {
		case k >= 0 && k < len(row):
			f.value(row[k])
		case k < 0:
			f.generate(Span{ins.RowEnds[r], ins.RowEnds[r]}, sep(len(row)))
		}
	}
}

// sep is the separator before an item added to a list of n items.
func sep(n int) string {
	if n == 0 {
		return ""
	}
	return ", "
}

// autoEdit is a change PlanMySQLImplicit makes: text inserted as is, or
// (text == "") a new value: prefix, then the placeholder.
type autoEdit struct {
	at     Span
	prefix string
	text   string
}

func isZero(v string) bool {
	v = strings.TrimLeft(v, "+")
	return strings.Trim(v, "0") == "" || strings.Trim(v, "0") == "." || v == "'0'"
}

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

func quoteMyIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// renderImplicit merges the base plan's edits (its calls replaced) with
// the new values, and numbers every placeholder it introduces among the
// statement's own.
func renderImplicit(p *Plan, toks []myToken, adds []autoEdit, t *myTable) *Plan {
	type ed struct{ edit }
	var eds []ed
	calls := make([]Call, 0, len(p.Calls)+len(adds))
	calls = append(calls, p.Calls...)
	for i := range p.edits {
		eds = append(eds, ed{p.edits[i]})
	}
	first := true
	for _, ad := range adds {
		if ad.text != "" {
			eds = append(eds, ed{edit{Start: ad.at.Start, End: ad.at.End, Text: ad.text}})
			continue
		}
		ph := "?"
		if first {
			ph, first = "LAST_INSERT_ID(?)", false
		}
		calls = append(calls, Call{Func: Nextval, Seq: t.Seq, Key: t.Key, Span: ad.at})
		eds = append(eds, ed{edit{Start: ad.at.Start, End: ad.at.End, Text: ad.prefix + ph}})
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].Span.Start < calls[j].Span.Start })
	sort.SliceStable(eds, func(i, j int) bool {
		if eds[i].Start != eds[j].Start {
			return eds[i].Start < eds[j].Start
		}
		return eds[i].End < eds[j].End
	})
	// Each call's placeholder: the caller's ? before it, plus the calls before it.
	for k := range calls {
		before := 0
		for i := range toks {
			if toks[i].start >= calls[k].Span.Start {
				break
			}
			if toks[i].kind == myParam {
				before++
			}
		}
		calls[k].Param = before + k + 1
	}
	var b strings.Builder
	out := make([]edit, 0, len(eds))
	pos := 0
	for _, e := range eds {
		b.WriteString(p.Original[pos:e.Start])
		b.WriteString(e.Text)
		pos = e.End
		out = append(out, e.edit)
	}
	b.WriteString(p.Original[pos:])
	return &Plan{Kind: Implicit, Original: p.Original, SQL: b.String(), Calls: calls, NumParams: p.NumParams, edits: out,
		Facts: p.Facts, myIns: p.myIns, Consecutive: t.Key}
}
