// Package rewrite finds the sequence calls in SQL text and plans how
// seqshim answers them, in two dialects: PostgreSQL's (the default, described
// below) and MySQL's (Options.Dialect, see "The MySQL dialect").
//
// A [Planner] turns a SQL text into an immutable [Plan], cached per exact
// text in a bounded cache, so that a statement seen before costs one map
// lookup. The text is scanned by a lexer that follows PostgreSQL's lexical
// rules; SQL is never regenerated: a plan replaces exact byte ranges, and
// every byte outside them is passed on unchanged. Nothing from the SQL or
// from the arguments is ever pasted into SQL: values travel as parameters.
//
// # Lexical rules
//
// The lexer knows what PostgreSQL's scanner (scan.l) knows, with
// standard_conforming_strings on: '...' where a doubled quote stands for
// one (and 'C:\' is a complete string), E'...' with backslash escapes, U&'...' and U&"..." with UESCAPE,
// B'...', X'...' and N'...', string continuation across a newline,
// $$...$$ and $tag$...$tag$ (a tag is identifier-like and does not start
// with a digit; $1 is a parameter; a$$b is an identifier), "quoted
// identifiers" with "", -- comments and nested /* */ comments, $n
// parameters, :: casts, numbers and multi-character operators (#-, ?|, @>,
// ->>, with PostgreSQL's rule for a trailing + or -). Nothing inside a
// string, a comment, a dollar-quoted body or a quoted identifier is ever a
// call. Text PostgreSQL would reject as a whole (an unterminated string,
// comment or quoted identifier, unbalanced brackets) is planned Pass: the
// database reports its own error.
//
// # Call sites
//
// A call site is nextval(x), currval(x), setval(x, v) or setval(x, v, b),
// or lastval(); the function name may be pg_catalog-qualified and quoted
// ("nextval", U&"..."), and is case-insensitive when unquoted. The
// sequence argument x is a string constant ('s', 'public.s', '"Mixed"',
// E'...', U&'...'), or a parameter $k, in any constant spelling PostgreSQL
// accepts: cast with :: or CAST(x AS t) to regclass, text or varchar (name
// only when cast again: nextval(name) does not exist, and such a call is
// left to PostgreSQL's error), or typed as regclass 's', each type
// optionally pg_catalog-qualified. Its name is parsed like regclass (see
// [ParseName]): unquoted parts fold to lower case, an unqualified name is
// in Options.DefaultSchema, or stays unqualified with SearchPath. setval's value is an integer constant or a
// parameter, its is_called true, false, a boolean string or a parameter.
//
// With the default options NEXT VALUE FOR s is a call too (the SQL
// standard's form, which PostgreSQL rejects, so it cannot mean anything
// else); with Options.Oracle, s.NEXTVAL and s.CURRVAL are (off by default,
// since t.nextval can be a column of t).
//
// A name only counts as a call where an expression can start: nextval as a
// column (SELECT nextval FROM t, t.nextval), as a table or CTE with a
// column list (INSERT INTO nextval (a), WITH nextval (a) AS ...), as an
// alias (FROM t AS nextval(a, b)), qualified by another schema
// (s.nextval('x')) or with another number of arguments is not one.
//
// # Plan kinds
//
// Each statement is classified by where its calls are evaluated. Calls on
// sequences that Options.Managed rejects are left to the database and do
// not count. A DDL statement (CREATE, ALTER, COMMENT, ...) stores its
// expressions (DEFAULT nextval('s')) instead of evaluating them, so its
// calls do not count either.
//
// [Local]: the statement is made only of sequence calls:
//
//	SELECT nextval('s')
//	SELECT nextval('a') AS id, currval('a')
//	select setval('s', 42, false)
//	SELECT lastval();
//	SELECT nextval($1)                        -- the name is a parameter
//	SELECT s.NEXTVAL FROM DUAL                -- with Options.Oracle
//
// Each item is a call, optionally cast to bigint or int8 (which keeps its
// name and type), with an optional alias; comments, whitespace and a
// trailing semicolon are allowed. The driver answers it without a round
// trip: one row, one int8 column per call, named as PostgreSQL names it
// (the alias or the function name). Only Local plans may take the
// sequence name from a parameter, since the driver resolves it before
// anything is sent.
//
// [Bind]: each call is evaluated at most once per execution: in the rows
// of INSERT ... VALUES, in a SELECT without FROM (and its WHERE, LIMIT
// ...), in VALUES, in a CTE without FROM (PostgreSQL does not inline a CTE
// that calls a volatile function, so it runs once), in UNION branches
// without FROM, in a scalar subquery without FROM of such a statement, in
// CALL arguments, and in the RETURNING and ON CONFLICT DO UPDATE of an
// INSERT that inserts a single row. Each call's text becomes a new
// parameter $N+k (N = Plan.NumParams, the statement's highest parameter)
// cast to int8, so the parameter keeps the call's type wherever it stands
// (a bare parameter would be inferred from its context: text in a SELECT
// list, the column type in INSERT). In a SELECT or RETURNING list, where
// the call names the output column (nextval('s'), nextval('s')::text,
// (nextval('s')), CASE ... ELSE nextval('s') END) and no alias is given,
// AS nextval is added so the column keeps its name. The driver appends the
// values of Plan.Calls in order. The rendered text depends only on the
// original, so pgx prepares it once. A FROM-less statement that may skip
// its row (WHERE false, LIMIT 0, ON CONFLICT DO NOTHING) still has its
// values drawn: a gap, as PostgreSQL itself leaves for a rolled-back
// nextval.
//
// currval and lastval return the same value on every row of a statement
// that calls neither nextval nor setval, so they are bound even where they
// are evaluated per row (UPDATE t SET parent = currval('p') WHERE ...,
// SELECT ... FROM t WHERE id = lastval()). The driver then evaluates them
// once, even for a statement that touches no row.
//
// [Refuse]: a call would be evaluated once per row, and answering it once
// would give every row the same value:
//
//	SELECT nextval('s') FROM t                 -- SELECT ... FROM
//	UPDATE t SET id = nextval('s')             -- UPDATE, DELETE, MERGE
//	INSERT INTO t SELECT nextval('s') FROM u   -- INSERT ... SELECT ... FROM
//	SELECT generate_series(1, 3), nextval('s') -- a set-returning function
//	SELECT sum(nextval('s')) OVER ()           -- a window
//	SELECT * FROM t, LATERAL (SELECT nextval('s')) x  -- inside FROM
//	INSERT INTO t VALUES (1), (2) RETURNING nextval('s')
//
// Also refused: a sequence name given as a parameter outside a Local
// statement (its managed status and value must be known before the
// statement is sent), a name or setval value computed by an expression
// (setval('s', (SELECT max(id) FROM t))), a name given by OID or with a
// database, setval with parameter arguments inside a larger statement,
// calls in COPY, PREPARE, EXPLAIN ANALYZE, CREATE TABLE ... AS and other
// statements seqshim does not analyse, and a call whose context the
// analysis cannot establish. Plan.Reason names the call, the statement part
// and what to write instead; the driver reports it with SQLSTATE 0A000.
// seqshim never answers such a call wrongly and never silently leaves a
// managed sequence to the database.
//
// [Pass]: no call site, or none managed: Plan.SQL is the original text.
//
// A query string of several statements is planned statement by statement;
// if every statement is Pass it is Pass, otherwise it is refused (an
// extended-protocol statement, which any parameter requires, cannot hold
// several statements, and answering some statements locally would reorder
// them). Like psql, the planner does not split inside the BEGIN ATOMIC ...
// END body of CREATE FUNCTION or CREATE PROCEDURE.
//
// # Implicit planning
//
// An INSERT that leaves a serial, identity or DEFAULT nextval('s') column
// to its default would make PostgreSQL draw from its own sequence.
// Filling the column needs the table's columns, which this package does
// not read: the driver reads them from the catalog and describes the table
// ([Table]: columns in table order, identity kind, the sequence each
// default draws from, see [Planner.DefaultSequence]), and
// [Planner.Implicit] returns the plan, a pure function of the plan and the
// descriptions. The result is the plan itself when nothing is left to a
// managed default; an [Implicit] plan that adds the column (or replaces
// DEFAULT, or DEFAULT VALUES) with one parameter per row, filled by a
// nextval Call, and adds OVERRIDING SYSTEM VALUE for GENERATED ALWAYS
// columns; or a [Refuse] plan for what cannot be filled: INSERT ...
// SELECT, OVERRIDING USER VALUE on an identity column, an INSERT inside
// WITH or in a string of several statements, COPY ... FROM naming other
// columns. [Plan.NeedsTables] says when Implicit needs descriptions.
//
// # Facts
//
// A plan also lists what its statements do that the driver must act on,
// decided by the same lexer (comments, case and several statements
// included), as [Fact] values in Plan.Facts: a statement that changes the
// catalog (CREATE, ALTER, DROP, with the kind of object and its name as
// far as the text tells); DISCARD ALL, SEQUENCES, PLANS or TEMP; SET,
// RESET and set_config of the parameters that change how a statement is
// read (search_path, standard_conforming_strings), with
// the constant value, LOCAL or SESSION, and RESET ALL; and transaction
// control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK TO, two-
// phase commit). Statements inside a DO block or a function body are not
// seen.
//
// # The MySQL dialect
//
// With Options.Dialect MySQL the planner reads MariaDB's (and MySQL's) SQL,
// scanned by github.com/xwb1989/sqlparser's tokenizer (backticks, '...' and
// "..." strings with backslash escapes, # -- and /* */ comments, ?
// placeholders); what MariaDB reads differently from that tokenizer is
// handled around it: the inside of /*! ... */ and /*M! ... */ is SQL (a call
// there is refused), "--" starts a comment only before white space, ":=" is
// assignment, and "$" and bytes above 0x7F belong to identifiers. A text
// the tokenizer cannot read is planned Pass, unless it holds the words of a
// sequence call: then it is refused. The call sites are NEXTVAL(s), NEXT
// VALUE FOR s, LASTVAL(s) and PREVIOUS VALUE FOR s (Func Currval), and
// SETVAL(s, n [, is_used [, round]]) with constants (MariaDB's grammar takes
// nothing else; a round is refused), where s is name, db.name or backticked
// parts, and an unqualified name is in Options.DefaultSchema (the
// connection's database). The plans follow MariaDB's evaluation: Local for
// SELECT made of calls (with FROM DUAL), columns named by the alias or the
// call's text as written; Bind where each call is evaluated once (INSERT ...
// VALUES, SELECT without FROM, SET, DO, CALL), each call replaced by CAST(?
// AS SIGNED), which keeps NEXTVAL's nullable BIGINT type, with Call.Param
// its position among the statement's own ? placeholders (MySQL's are
// positional) and an AS `item text` alias where a SELECT item would change
// its name; Refuse per row (SELECT ... FROM, UPDATE, DELETE, INSERT ...
// SELECT ... FROM, ON DUPLICATE KEY UPDATE of several rows). DDL stores its
// expressions: Pass. Facts are CatalogChange (CREATE, ALTER, DROP, RENAME,
// TRUNCATE), Setting for a SET of sql_mode, and Setting with Command USE
// (Value: the database, where unqualified names then are). A sequence
// named in double quotes, an identifier only under sql_mode ANSI_QUOTES,
// is refused. [Planner.Implicit] gives a
// managed AUTO_INCREMENT column (the TableColumn whose Seq is managed) its
// values: added where the INSERT leaves it out, NULL, DEFAULT and (with
// Table.ZeroGenerates) 0 replaced, the first value written LAST_INSERT_ID(?)
// so that MariaDB reports it as the statement's insert id; Plan.NullChecks
// names the caller's parameters that give the column a value, for the
// driver to check.
//
// # What is not handled
//
// A user-defined set-returning function next to a call in a FROM-less
// SELECT list is not recognised as one (the built-in ones are). The
// search_path is not consulted: unqualified names resolve in
// Options.DefaultSchema, or stay unqualified with SearchPath for the
// caller to resolve (SET search_path and the role are reported as Facts). A U&"..." UESCAPE name in NEXT VALUE FOR is
// refused. Evaluation order is taken to be the text order (PostgreSQL
// evaluates a CTE when its statement first reads it). Sequence calls made
// by the database itself (column defaults, triggers, functions, views, and
// ALTER TABLE ... ADD COLUMN ... DEFAULT nextval(...), which fills the
// existing rows) are outside the SQL text and not seen. setval's value as
// a string constant (setval('s', '42')) is refused like an expression.
package rewrite
