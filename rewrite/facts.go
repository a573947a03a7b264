package rewrite

import "strings"

// FactKind is the kind of a Fact.
type FactKind uint8

const (
	// CatalogChange: CREATE, ALTER or DROP. Column defaults, sequences and
	// tables may have changed.
	CatalogChange FactKind = iota + 1
	// Discard: DISCARD ALL, SEQUENCES, PLANS or TEMP.
	Discard
	// Setting: SET, RESET or set_config(...) of a parameter that changes
	// how a statement is read (search_path, standard_conforming_strings),
	// or RESET ALL.
	Setting
	// Transaction: BEGIN, COMMIT, ROLLBACK, SAVEPOINT and the like.
	Transaction
)

var factKindNames = [...]string{CatalogChange: "CatalogChange", Discard: "Discard", Setting: "Setting", Transaction: "Transaction"}

func (k FactKind) String() string {
	if k > 0 && int(k) < len(factKindNames) {
		return factKindNames[k]
	}
	return "FactKind(?)"
}

// watchedParams are the parameters whose SET, RESET and set_config are
// reported as Setting facts: search_path resolves unqualified names (and
// the role gives its "$user"), and standard_conforming_strings changes how
// '...\' is read.
var watchedParams = [...]string{"search_path", "standard_conforming_strings", "role", "session_authorization"}

// Fact is something a statement does that the driver acts on, as far as
// the text tells. The statement's words are matched case-insensitively
// after comments, by the lexer that plans the text.
type Fact struct {
	Kind FactKind
	// Statement is the index of the statement in the query string.
	Statement int
	// Command is the command in upper case: CREATE, ALTER, DROP; DISCARD;
	// SET, RESET, or SET_CONFIG for the function; BEGIN (also START
	// TRANSACTION), COMMIT (also END), ROLLBACK (also ABORT), SAVEPOINT,
	// RELEASE, ROLLBACK TO, PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK
	// PREPARED.
	Command string
	// Object is, for CatalogChange, the kind of object in upper case
	// (TABLE, SEQUENCE, MATERIALIZED VIEW, ...; "" when not recognised);
	// for Discard, what is discarded (ALL, SEQUENCES, PLANS, TEMP); for
	// Setting, the parameter in lower case ("" for RESET ALL, and for a
	// set_config whose name is not a constant); for SAVEPOINT, RELEASE and
	// ROLLBACK TO, the savepoint.
	Object string
	// Name is the object a CatalogChange names (the first one, resolved
	// like a table name); zero when the text does not tell.
	Name Name
	// Value is a Setting's new value when Constant: the text after TO or
	// = (a, "B", 'c'), or set_config's decoded value.
	Value    string
	Constant bool
	// Reset is set for RESET, RESET ALL and SET ... TO DEFAULT.
	Reset bool
	// All is set for RESET ALL and DISCARD ALL.
	All bool
	// Local is set for SET LOCAL and set_config(..., true): the setting
	// lasts until the end of the transaction.
	Local bool
}

// facts returns the facts of the statements, nil when none.
func (a *analyzer) facts(stmts [][2]int) []Fact {
	var out []Fact
	for k, st := range stmts {
		if f, ok := a.statementFact(st[0], st[1]); ok {
			f.Statement = k
			out = append(out, f)
		}
		out = a.setConfigFacts(st[0], st[1], k, out)
	}
	return out
}

// wordAt reports whether token i (< hi) is the unquoted word w (lower
// case), not after a dot.
func (a *analyzer) wordAt(i, hi int, w string) bool {
	if i >= hi || a.toks[i].kind != tIdent || a.toks[i].sub == identAfterDot {
		return false
	}
	t := &a.toks[i]
	return int(t.end-t.start) == len(w) && asciiFoldEqual(a.src[t.start:t.end], w)
}

// statementFact returns the fact of the statement toks[lo:hi] by its
// first words.
func (a *analyzer) statementFact(lo, hi int) (Fact, bool) {
	for lo < hi && a.toks[lo].kind == tLParen {
		lo++ // (SELECT ...); PostgreSQL rejects other commands in brackets
	}
	switch a.kwAt(lo, hi) {
	case kwNone:
	case kwCreate:
		return a.catalogFact(lo, hi, "CREATE"), true
	case kwAlter:
		return a.catalogFact(lo, hi, "ALTER"), true
	case kwDrop:
		return a.catalogFact(lo, hi, "DROP"), true
	case kwSet:
		return a.setFact(lo, hi)
	case kwBegin:
		return Fact{Kind: Transaction, Command: "BEGIN"}, true
	case kwEnd:
		return Fact{Kind: Transaction, Command: "COMMIT"}, true
	case kwPrepare:
		if a.wordAt(lo+1, hi, "transaction") {
			return Fact{Kind: Transaction, Command: "PREPARE TRANSACTION"}, true
		}
		return Fact{}, false
	default:
		return Fact{}, false
	}
	switch {
	case a.wordAt(lo, hi, "discard"):
		return a.discardFact(lo, hi)
	case a.wordAt(lo, hi, "reset"):
		return a.resetFact(lo, hi)
	}
	return a.transactionFact(lo, hi)
}

// catalogObjects are the kinds of object CREATE, ALTER and DROP name,
// longer phrases first.
var catalogObjects = []string{
	"foreign data wrapper", "text search configuration", "text search dictionary",
	"text search parser", "text search template", "materialized view", "foreign table",
	"event trigger", "access method", "user mapping", "operator class", "operator family",
	"default privileges", "large object",
	"table", "sequence", "index", "view", "schema", "function", "procedure", "routine",
	"aggregate", "type", "domain", "extension", "trigger", "server", "role", "user",
	"group", "database", "tablespace", "rule", "policy", "publication", "subscription",
	"collation", "conversion", "operator", "cast", "language", "statistics", "transform",
}

// catalogModifiers come between CREATE and the kind of object.
var catalogModifiers = []string{"or", "replace", "temp", "temporary", "unlogged", "global", "local", "unique", "recursive", "trusted", "procedural", "constraint"}

// catalogFact describes CREATE, ALTER or DROP [modifiers] object [IF [NOT]
// EXISTS | CONCURRENTLY] name.
func (a *analyzer) catalogFact(lo, hi int, cmd string) Fact {
	f := Fact{Kind: CatalogChange, Command: cmd}
	i := lo + 1
	for i < hi && a.anyWordAt(i, hi, catalogModifiers) {
		i++
	}
	obj, n := a.phraseAt(i, hi, catalogObjects)
	if n == 0 {
		return f
	}
	f.Object = strings.ToUpper(obj)
	for i += n; a.anyWordAt(i, hi, []string{"if", "not", "exists", "concurrently"}); i++ {
	}
	if a.isName(i, hi) && !reserved(a.kwAt(i, hi)) {
		f.Name, _, _ = a.qualifiedName(i, hi)
	}
	return f
}

func (a *analyzer) anyWordAt(i, hi int, words []string) bool {
	for _, w := range words {
		if a.wordAt(i, hi, w) {
			return true
		}
	}
	return false
}

// phraseAt returns the first of phrases whose words start at token i, and
// its number of words.
func (a *analyzer) phraseAt(i, hi int, phrases []string) (string, int) {
next:
	for _, p := range phrases {
		n := 0
		for w := range strings.SplitSeq(p, " ") {
			if !a.wordAt(i+n, hi, w) {
				continue next
			}
			n++
		}
		return p, n
	}
	return "", 0
}

func (a *analyzer) discardFact(lo, hi int) (Fact, bool) {
	what, n := a.phraseAt(lo+1, hi, []string{"all", "sequences", "plans", "temporary", "temp"})
	if n == 0 || lo+2 != hi {
		return Fact{}, false
	}
	if what == "temporary" {
		what = "temp"
	}
	return Fact{Kind: Discard, Command: "DISCARD", Object: strings.ToUpper(what), All: what == "all"}, true
}

// paramAt returns the watched parameter named at token i, if it is one.
func (a *analyzer) paramAt(i, hi int) (string, bool) {
	if !a.isName(i, hi) || a.kindAt(i+1, hi) == tDot {
		return "", false
	}
	t := &a.toks[i]
	name, ok := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
	if !ok {
		return "", false
	}
	return watched(name)
}

func watched(name string) (string, bool) {
	for _, p := range watchedParams {
		if strings.EqualFold(name, p) {
			return p, true
		}
	}
	return "", false
}

// resetFact describes RESET ALL and RESET param.
func (a *analyzer) resetFact(lo, hi int) (Fact, bool) {
	f := Fact{Kind: Setting, Command: "RESET", Reset: true}
	if a.kwAt(lo+1, hi) == kwAll && lo+2 == hi {
		f.All = true
		return f, true
	}
	if a.wordAt(lo+1, hi, "session") && a.wordAt(lo+2, hi, "authorization") && lo+3 == hi {
		f.Object = "session_authorization"
		return f, true
	}
	p, ok := a.paramAt(lo+1, hi)
	f.Object = p
	return f, ok && lo+2 == hi
}

// setFact describes SET [SESSION | LOCAL] param {TO | =} value and SET
// SCHEMA 'value' (which sets search_path).
func (a *analyzer) setFact(lo, hi int) (Fact, bool) {
	f := Fact{Kind: Setting, Command: "SET"}
	i := lo + 1
	switch {
	case a.kwAt(i, hi) == kwLocal:
		f.Local = true
		i++
	case a.wordAt(i, hi, "session"):
		i++
	}
	switch {
	case a.wordAt(i, hi, "schema") && a.kindAt(i+1, hi) == tString:
		f.Object = "search_path"
		i++
	case a.wordAt(i, hi, "role") && !a.assignAt(i+1, hi):
		f.Object = "role" // SET ROLE r: the "$user" of search_path
		i++
	case a.wordAt(i, hi, "authorization") && a.wordAt(i-1, hi, "session"):
		f.Object = "session_authorization" // SET SESSION AUTHORIZATION r
		i++
	default:
		p, ok := a.paramAt(i, hi)
		if !ok || !a.assignAt(i+1, hi) {
			return Fact{}, false
		}
		f.Object = p
		i += 2
	}
	if i >= hi {
		return Fact{}, false
	}
	if a.kwAt(i, hi) == kwDefault && i+1 == hi {
		f.Reset = true
		return f, true
	}
	f.Value, f.Constant = a.src[a.toks[i].start:a.toks[hi-1].end], a.constants(i, hi)
	return f, true
}

// assignAt reports whether token i is TO or =.
func (a *analyzer) assignAt(i, hi int) bool {
	return a.kwAt(i, hi) == kwTo || a.kindAt(i, hi) == tOp && a.src[a.toks[i].start:a.toks[i].end] == "="
}

// constants reports whether toks[lo:hi] are names, constants and commas.
func (a *analyzer) constants(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		switch a.toks[i].kind {
		case tIdent, tQIdent, tString, tNumber, tComma:
		default:
			return false
		}
	}
	return true
}

// transactionFact describes the transaction control statements other
// than BEGIN, END and PREPARE TRANSACTION.
func (a *analyzer) transactionFact(lo, hi int) (Fact, bool) {
	switch {
	case a.wordAt(lo, hi, "start") && a.wordAt(lo+1, hi, "transaction"):
		return Fact{Kind: Transaction, Command: "BEGIN"}, true
	case a.wordAt(lo, hi, "commit"):
		if a.wordAt(lo+1, hi, "prepared") {
			return Fact{Kind: Transaction, Command: "COMMIT PREPARED"}, true
		}
		return Fact{Kind: Transaction, Command: "COMMIT"}, true
	case a.wordAt(lo, hi, "abort"):
		return Fact{Kind: Transaction, Command: "ROLLBACK"}, true
	case a.wordAt(lo, hi, "rollback"):
		return a.rollbackFact(lo, hi), true
	case a.wordAt(lo, hi, "savepoint"):
		return Fact{Kind: Transaction, Command: "SAVEPOINT", Object: a.nameText(lo+1, hi)}, true
	case a.wordAt(lo, hi, "release"):
		i := lo + 1
		if a.wordAt(i, hi, "savepoint") {
			i++
		}
		return Fact{Kind: Transaction, Command: "RELEASE", Object: a.nameText(i, hi)}, true
	}
	return Fact{}, false
}

// rollbackFact describes ROLLBACK [WORK | TRANSACTION] [TO [SAVEPOINT]
// name] and ROLLBACK PREPARED.
func (a *analyzer) rollbackFact(lo, hi int) Fact {
	i := lo + 1
	if a.wordAt(i, hi, "prepared") {
		return Fact{Kind: Transaction, Command: "ROLLBACK PREPARED"}
	}
	if a.wordAt(i, hi, "work") || a.wordAt(i, hi, "transaction") {
		i++
	}
	if a.kwAt(i, hi) != kwTo {
		return Fact{Kind: Transaction, Command: "ROLLBACK"}
	}
	if i++; a.wordAt(i, hi, "savepoint") {
		i++
	}
	return Fact{Kind: Transaction, Command: "ROLLBACK TO", Object: a.nameText(i, hi)}
}

// nameText returns the identifier at token i, or "".
func (a *analyzer) nameText(i, hi int) string {
	if !a.isName(i, hi) {
		return ""
	}
	t := &a.toks[i]
	s, _ := identText(a.src[t.start:t.end], t.kind, t.sub, '\\')
	return s
}

// setConfigFacts appends the facts of the set_config(name, value,
// is_local) calls in toks[lo:hi] on watched parameters, or whose name is
// not a constant.
func (a *analyzer) setConfigFacts(lo, hi, stmt int, out []Fact) []Fact {
	for i := lo; i < hi; i++ {
		t := &a.toks[i]
		if t.kind != tIdent || int(t.end-t.start) != len("set_config") || a.kindAt(i+1, hi) != tLParen ||
			!asciiFoldEqual(a.src[t.start:t.end], "set_config") ||
			t.sub == identAfterDot && !(i >= 2 && a.isPgCatalog(i-2)) {
			continue
		}
		if f, ok := a.setConfig(i+1, a.pair(i+1)); ok {
			f.Statement = stmt
			out = append(out, f)
		}
	}
	return out
}

// setConfig describes the call whose arguments are within the brackets
// at tokens lp and rp.
func (a *analyzer) setConfig(lp, rp int) (Fact, bool) {
	var args [3][2]int
	if n, ok := a.splitArgs(lp, rp, args[:]); !ok || n != 3 {
		return Fact{}, false // another function, or an error PostgreSQL reports
	}
	f := Fact{Kind: Setting, Command: "SET_CONFIG"}
	name, nameOK := a.stringArg(args[0])
	if nameOK {
		p, ok := watched(name)
		if !ok {
			return Fact{}, false
		}
		f.Object = p
	}
	value, valueOK := a.stringArg(args[1])
	local := args[2][1] == args[2][0]+1 && (a.kwAt(args[2][0], rp) == kwTrue || a.kwAt(args[2][0], rp) == kwFalse)
	f.Local = local && a.kwAt(args[2][0], rp) == kwTrue
	f.Constant = nameOK && valueOK && local
	if f.Constant {
		f.Value = value
	}
	return f, true
}

// stringArg returns the value of an argument that is one string constant.
func (a *analyzer) stringArg(arg [2]int) (string, bool) {
	if arg[1] != arg[0]+1 || a.toks[arg[0]].kind != tString {
		return "", false
	}
	t := &a.toks[arg[0]]
	return decodeString(a.src[t.start:t.end], t.sub, '\\')
}
