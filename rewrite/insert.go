package rewrite

// insertStmt describes an INSERT statement for plans that add columns to it
// (serial and identity columns omitted from the statement). All offsets
// are byte offsets into the SQL text.
type insertStmt struct {
	// Table is the target table, resolved like a sequence name (an
	// unqualified name is in the default schema; a catalog prefix is
	// dropped). TableSpan is its text.
	Table     Name
	TableSpan Span
	// TargetEnd is the end of the table name and its AS alias: where a
	// column list goes when the statement has none.
	TargetEnd int
	// Columns is the column list, nil when the statement has none.
	// ColumnList spans it with its parentheses (empty at TargetEnd when
	// absent).
	Columns    []insertColumn
	ColumnList Span
	// Overriding is "SYSTEM" or "USER" for OVERRIDING ... VALUE, else "".
	Overriding     string
	OverridingSpan Span
	// DefaultValues is set for INSERT ... DEFAULT VALUES.
	DefaultValues bool
	// Source spans what provides the rows: VALUES ..., the query, or
	// DEFAULT VALUES.
	Source Span
	// Rows are the rows of a plain VALUES list, nil otherwise.
	Rows []valuesRow
	// Select is set when the source is a query other than a plain VALUES
	// list (INSERT ... SELECT, a parenthesised query, VALUES with ORDER BY
	// or UNION ...).
	Select bool
	// OnConflict and Returning are the offsets of ON CONFLICT and
	// RETURNING, or -1.
	OnConflict, Returning int
	// End is the end of the statement's last token (before any semicolon).
	End int
}

// insertColumn is an entry of an INSERT's column list: the column's resolved
// name, and the text of the entry (which may add .field or [subscript]).
type insertColumn struct {
	Name string
	Span Span
}

// Row is one row of a VALUES list: its span with parentheses, and its
// values.
type valuesRow struct {
	Span   Span
	Values []rowValue
}

// Value is one value of a VALUES row; Default is set when it is the DEFAULT
// key word.
type rowValue struct {
	Span    Span
	Default bool
}

// parseInsert describes sql when it is a single INSERT statement (possibly
// after WITH and followed by a semicolon). Unqualified table names resolve
// in defaultSchema ("public" if empty; unresolved with SearchPath).
func parseInsert(sql, defaultSchema string) (*insertStmt, bool) {
	toks, _, ok := lex(sql, nil)
	if !ok {
		return nil, false
	}
	a := analyzer{src: sql, toks: toks, opts: &Options{DefaultSchema: defaultSchema}}
	var buf [2][2]int
	stmts := a.split(buf[:0])
	if len(stmts) != 1 {
		return nil, false
	}
	it, ok := a.findInsert(stmts[0][0], stmts[0][1])
	if !ok {
		return nil, false
	}
	ins := new(insertStmt)
	if !a.fillInsert(it, stmts[0][1], ins) {
		return nil, false
	}
	return ins, true
}

// findInsert returns the structure of the statement toks[lo:hi] when it is
// an INSERT (possibly after WITH).
func (a *analyzer) findInsert(lo, hi int) (insertTokens, bool) {
	i := lo
	if a.kwAt(i, hi) == kwWith {
		if i = a.withClause(i, hi, nil); i < 0 {
			return insertTokens{}, false
		}
	}
	if a.kwAt(i, hi) != kwInsert {
		return insertTokens{}, false
	}
	return a.parseInsert(i, hi)
}

// fillInsert describes the INSERT it (ending at token hi) in ins.
func (a *analyzer) fillInsert(it insertTokens, hi int, ins *insertStmt) bool {
	toks := a.toks
	span := func(s, e int) Span { return Span{int(toks[s].start), int(toks[e-1].end)} }
	*ins = insertStmt{
		TableSpan:  span(it.tableLo, it.tableHi),
		TargetEnd:  int(toks[it.targetHi-1].end),
		Source:     span(it.srcLo, it.srcHi),
		OnConflict: -1,
		Returning:  -1,
		End:        int(toks[hi-1].end),
	}
	var ok bool
	if ins.Table, ok = a.tableName(it.tableLo, it.tableHi); !ok {
		return false
	}
	ins.ColumnList = Span{ins.TargetEnd, ins.TargetEnd}
	if it.colsLo >= 0 {
		rp := a.pair(it.colsLo)
		ins.ColumnList = span(it.colsLo, rp+1)
		if ins.Columns, ok = a.insertColumns(it.colsLo, rp); !ok {
			return false
		}
	}
	if it.overLo >= 0 {
		ins.Overriding = "SYSTEM"
		if a.kwAt(it.overLo+1, hi) == kwUser {
			ins.Overriding = "USER"
		}
		ins.OverridingSpan = span(it.overLo, it.overLo+3)
	}
	ins.DefaultValues = it.defaultValues
	if it.onLo >= 0 {
		ins.OnConflict = int(toks[it.onLo].start)
	}
	if it.retLo >= 0 {
		ins.Returning = int(toks[it.retLo].start)
	}
	if !it.defaultValues {
		ins.Rows = a.valuesRows(it.srcLo, it.srcHi)
		ins.Select = ins.Rows == nil
	}
	return true
}

// insertColumns returns the entries of the column list between the
// brackets at tokens lp and rp: each a name, possibly followed by .field
// or [subscript].
func (a *analyzer) insertColumns(lp, rp int) ([]insertColumn, bool) {
	toks := a.toks
	cols := make([]insertColumn, 0, a.countItems(lp+1, rp))
	s := lp + 1
	for j := s; j <= rp; {
		if j < rp && toks[j].kind != tComma {
			j = a.skip(j)
			continue
		}
		if j == s || !a.isName(s, j) {
			return nil, false
		}
		t := &toks[s]
		name, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
		if !ok {
			return nil, false
		}
		cols = append(cols, insertColumn{Name: name, Span: Span{int(t.start), int(toks[j-1].end)}})
		j++
		s = j
	}
	return cols, true
}

// valuesRows returns the rows of toks[lo:hi] when it is exactly a VALUES
// list, else nil.
func (a *analyzer) valuesRows(lo, hi int) []valuesRow {
	if a.kwAt(lo, hi) != kwValues {
		return nil
	}
	toks := a.toks
	// Count rows and values first, to allocate once.
	nrows, nvals := 0, 0
	for i := lo + 1; i < hi && toks[i].kind == tLParen; {
		nrows++
		nvals += a.countItems(i+1, a.pair(i))
		i = a.pair(i) + 1
		if i < hi && toks[i].kind == tComma {
			i++
		}
	}
	rows := make([]valuesRow, 0, nrows)
	vals := make([]rowValue, 0, nvals) // one array for the values of all rows
	i := lo + 1
	for {
		if a.kindAt(i, hi) != tLParen {
			return nil
		}
		rp := a.pair(i)
		row := valuesRow{Span: Span{int(toks[i].start), int(toks[rp].end)}}
		first := len(vals)
		s := i + 1
		for j := s; j <= rp; {
			if j == rp || toks[j].kind == tComma {
				if j == s {
					return nil
				}
				vals = append(vals, rowValue{
					Span:    Span{int(toks[s].start), int(toks[j-1].end)},
					Default: j == s+1 && a.kwAt(s, j) == kwDefault,
				})
				if j == rp {
					break
				}
				j++
				s = j
				continue
			}
			j = a.skip(j)
		}
		row.Values = vals[first:len(vals):len(vals)]
		rows = append(rows, row)
		i = rp + 1
		if i == hi {
			return rows
		}
		if a.kindAt(i, hi) != tComma {
			return nil
		}
		i++
	}
}

// countItems counts the comma-separated items of toks[lo:hi].
func (a *analyzer) countItems(lo, hi int) int {
	if lo >= hi {
		return 0
	}
	n := 1
	for j := lo; j < hi; j = a.skip(j) {
		if a.toks[j].kind == tComma {
			n++
		}
	}
	return n
}

// tableName resolves the table name in tokens [lo, hi): 1 to 3 names
// separated by dots, a catalog prefix dropped.
func (a *analyzer) tableName(lo, hi int) (Name, bool) {
	var parts [3]string
	np := 0
	for j := lo; j < hi && np < len(parts); j += 2 {
		t := &a.toks[j]
		s, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
		if !ok {
			return Name{}, false
		}
		parts[np] = s
		np++
	}
	switch np {
	case 0:
		return Name{}, false
	case 1:
		return Name{Schema: unqualifiedSchema(a.opts.DefaultSchema), Name: parts[0]}, true
	}
	return Name{Schema: parts[np-2], Name: parts[np-1]}, true
}

// qualifiedName resolves the name of 1 to 3 parts at token i (< hi), like
// tableName, and returns the index of the token after it.
func (a *analyzer) qualifiedName(i, hi int) (Name, int, bool) {
	j := i
	for np := 1; a.isName(j, hi); np++ {
		j++
		if np == 3 || a.kindAt(j, hi) != tDot {
			break
		}
		j++
	}
	name, ok := a.tableName(i, j)
	return name, j, ok
}

// otherInserts returns the target tables of every INSERT INTO but the one
// at token top (-1 for none).
func (a *analyzer) otherInserts(top int) []Name {
	var out []Name
	n := len(a.toks)
	for i := range a.toks {
		if i == top || a.kwAt(i, n) != kwInsert || a.kwAt(i+1, n) != kwInto {
			continue
		}
		if name, _, ok := a.qualifiedName(i+2, n); ok {
			out = append(out, name)
		}
	}
	return out
}

// Copy describes a COPY ... FROM statement: rows the database inserts
// itself, filling the columns it leaves out from their defaults.
type copyStmt struct {
	Table Name
	// Columns are the columns the data gives, nil when the statement names
	// none (then the data gives every column).
	Columns []string
}

// copyFrom parses COPY table [(columns)] FROM in tokens [lo, hi).
func (a *analyzer) copyFrom(lo, hi int) (*copyStmt, bool) {
	if a.kwAt(lo, hi) != kwCopy {
		return nil, false
	}
	name, j, ok := a.qualifiedName(lo+1, hi)
	if !ok {
		return nil, false
	}
	c := &copyStmt{Table: name}
	if a.kindAt(j, hi) == tLParen {
		rp := a.pair(j)
		if rp <= j || rp >= hi {
			return nil, false
		}
		c.Columns = []string{}
		for k := j + 1; k < rp; k++ {
			t := &a.toks[k]
			if t.kind == tComma {
				continue
			}
			if !a.isName(k, rp) {
				return nil, false
			}
			col, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
			if !ok {
				return nil, false
			}
			c.Columns = append(c.Columns, col)
		}
		j = rp + 1
	}
	if a.kwAt(j, hi) != kwFrom {
		return nil, false
	}
	return c, true
}
