package rewrite

import "strconv"

// Kind says how the driver answers a statement.
type Kind uint8

const (
	// Pass: no sequence call to answer. Plan.SQL is the input, byte for byte.
	Pass Kind = iota
	// Local: the statement is made only of sequence calls. The driver
	// answers it in process with one row whose columns are Plan.Columns
	// (all int8), and sends nothing to the database.
	Local
	// Bind: each call is evaluated once per execution. The driver evaluates
	// Plan.Calls in order and appends their values to the arguments as the
	// new parameters Call.Param; Plan.SQL is the rewritten statement.
	Bind
	// Implicit: a Bind plan made by Planner.Implicit for an INSERT that
	// leaves a column whose default draws from a managed sequence to that
	// default. The driver runs it as a Bind plan: Plan.SQL names the column
	// and takes its values as new parameters, each a nextval Call.
	Implicit
	// Refuse: a call would be evaluated per row (or cannot be evaluated by
	// seqshim). The driver fails the statement with SQLSTATE 0A000 and
	// Plan.Reason.
	Refuse
)

var kindNames = [...]string{Pass: "Pass", Local: "Local", Bind: "Bind", Implicit: "Implicit", Refuse: "Refuse"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Func is a sequence function.
type Func uint8

const (
	Nextval Func = iota + 1 // nextval(regclass), NEXT VALUE FOR s, s.NEXTVAL
	Currval                 // currval(regclass), s.CURRVAL
	Setval                  // setval(regclass, bigint [, boolean])
	Lastval                 // lastval()
)

var funcNames = [...]string{Nextval: "nextval", Currval: "currval", Setval: "setval", Lastval: "lastval"}

// String returns the function's name, which is also the name PostgreSQL
// gives its result column.
func (f Func) String() string {
	if f > 0 && int(f) < len(funcNames) {
		return funcNames[f]
	}
	return "Func(" + strconv.Itoa(int(f)) + ")"
}

// Span is a byte range [Start, End) of the SQL text.
type Span struct {
	Start, End int
}

// Arg is an argument of setval: the statement's parameter $Param when
// Param > 0, otherwise the literal Int (the value) or Bool (is_called).
type Arg struct {
	Param int
	Int   int64
	Bool  bool
}

// Call is one sequence call site.
type Call struct {
	Func Func
	// Seq is the sequence, resolved like regclass. It is zero for lastval,
	// when the name is a parameter, and (in Refuse plans) when seqshim
	// cannot resolve it.
	Seq Name
	// Key is Seq.Key(), computed once with the plan so that executing it
	// allocates nothing; "" when Seq is zero.
	Key string
	// NameParam is k when the sequence name is the statement's parameter $k
	// (nextval($1)); the driver resolves it with ParseName at run time.
	// Only Local plans have such calls.
	NameParam int
	// Value and IsCalled are setval's second and third arguments. Without a
	// third argument IsCalled is the literal true, as in PostgreSQL.
	Value, IsCalled Arg
	// Span is the call's text in Plan.Original, such as nextval('s'),
	// pg_catalog.setval($1, 5, false), NEXT VALUE FOR s or s.NEXTVAL.
	Span Span
	// Param is the number of the parameter that carries the call's value
	// in a Bind plan (Plan.NumParams + 1 + the call's index), 0 otherwise.
	Param int
}

// edit replaces Original[Start:End] with Text; Start == End inserts.
type edit struct {
	Start, End int
	Text       string
}

// Plan says how to answer one SQL text. Plans are shared by every caller
// of Planner.Plan with the same text: they, and their slices, must not be
// modified.
type Plan struct {
	Kind Kind
	// Original is the SQL text that was planned.
	Original string
	// SQL is the text to send to the database: the rewritten text for Bind,
	// Original for every other kind.
	SQL string
	// Calls are the managed sequence calls the driver evaluates, in text
	// order, which is taken as the evaluation order (left to right, and a
	// CTE before the statement that reads it). Calls on sequences that are
	// not managed are not listed: they stay in the SQL for the database.
	// Pass plans have none; Refuse plans list the calls that were found.
	// An Implicit plan lists the statement's own calls, then the nextval
	// calls it adds, in the text order of the value each gives: its Span
	// is the DEFAULT (or DEFAULT VALUES) it replaces, or empty where the
	// value is inserted.
	Calls []Call
	// Columns are the result column names of a Local plan, one per call:
	// the alias, or the function's name (nextval, currval, setval, lastval)
	// as PostgreSQL names them. Every column is of type int8.
	Columns []string
	// NumParams is the highest $n of Original (0 if none). The parameters
	// of a Bind plan are $NumParams+1 ... $NumParams+len(Calls).
	NumParams int
	// edits are the changes that turn Original into SQL in a Bind or
	// Implicit plan, sorted and not overlapping. Everything outside them
	// is unchanged.
	edits []edit
	// Facts are what the statements do that the driver acts on after
	// executing them (a catalog change, DISCARD, a watched setting,
	// transaction control), in text order; nil when none. A plan that
	// fails to lex has none.
	Facts []Fact
	// Reason explains a Refuse plan: the call, the part of the statement
	// that evaluates it per row (or the construct seqshim does not
	// answer), and what to write instead.
	Reason string
	// ins describes the statement when it is a single INSERT (possibly
	// after WITH), with byte offsets into Original; nil otherwise.
	ins *insertStmt
	// otherInserts are the target tables of the INSERTs ins does not
	// describe: inside a WITH, or in another statement of the query string.
	// Implicit cannot add columns to them, so it refuses them when they
	// could leave a managed sequence column to its default.
	otherInserts []Name
	// cp describes the statement when it is COPY ... FROM, nil otherwise.
	cp *copyStmt
	// myIns describes a MySQL-dialect INSERT or REPLACE, nil otherwise.
	myIns *myInsert
	// NullChecks, in a MySQL-dialect plan derived by Implicit, are the
	// caller's parameters (by position) that give a managed AUTO_INCREMENT
	// column its value: NULL there (or 0 where 0 generates) would make the
	// database generate the value itself, so the driver refuses such an
	// execution.
	NullChecks []int
	// Consecutive, in a MySQL-dialect plan derived by Implicit, is the
	// store key of the AUTO_INCREMENT whose calls must get consecutive
	// values, as MariaDB gives the rows of one INSERT: clients such as GORM
	// compute each row's id from the first.
	Consecutive string
}
