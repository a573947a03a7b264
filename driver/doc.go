// Package driver is seqshim's database/sql driver. Importing it registers
// "seqshim", which wraps pgx v5's stdlib driver:
//
//	import _ "github.com/seqshim/seqshim/driver"
//
//	db, err := sql.Open("seqshim", "postgres://app@db/orders") // was "pgx"
//
// Statements with sequence calls (nextval, currval, setval, lastval, and
// optionally NEXT VALUE FOR s and s.NEXTVAL) are planned by package
// rewrite, once per distinct SQL text:
//
//   - Local: a statement made only of sequence calls is answered in
//     process with a one-row result named and typed as PostgreSQL would
//     (nextval, INT8, int64), without a database round trip.
//   - Bind: calls evaluated once per statement (INSERT ... VALUES, SELECT
//     without FROM) become extra bind parameters; the values come from the
//     cache and are appended to the arguments.
//   - Implicit: an INSERT that leaves out a column whose default draws
//     from a managed sequence (serial, bigserial, identity, DEFAULT
//     nextval('s')) gets the column and one parameter per row, filled from
//     the cache, as a Bind plan.
//   - Refuse: calls evaluated once per row fail with SQLSTATE 0A000 and a
//     message that names the statement and the way out.
//   - Pass: everything else goes to pgx byte for byte.
//
// For Implicit plans the driver only reads the catalog: it describes each
// table an INSERT or COPY writes to (rewrite.Table) once, and rewrite's
// Planner.Implicit derives the plan; descriptions and derived plans are
// kept until a statement that changes the catalog runs through this
// process. The driver matches no SQL text itself: it acts on the plan's
// facts (rewrite.Fact) after the database executed the statement, sent
// directly or prepared: a catalog change (CREATE, ALTER, DROP, also after
// a comment) drops the table descriptions, DISCARD ALL or SEQUENCES
// forgets currval and lastval. Its own statements (the catalog query, a
// column default's nextval read as SELECT) do not enter the plan cache.
// INSERT ... SELECT, OVERRIDING USER VALUE, an
// INSERT inside WITH or in a string of several statements, and COPY ...
// FROM with a column list, when they would leave such a column to
// PostgreSQL, fail with 0A000. pgx's CopyFrom (through sql.Conn.Raw) is not
// seen by the driver: give the column its values there, or it draws from
// PostgreSQL's own (capped) sequence.
//
// # Names
//
// An unqualified sequence name, and the table of an INSERT whose serial
// column the driver fills, resolve as 'name'::regclass does on the caller's
// connection: in its effective search_path (DSN, role and database
// defaults, SET, SET LOCAL, set_config, RESET, DISCARD ALL), pg_temp first,
// "$user" expanded. The driver asks the server on that connection once per
// distinct role, search_path and name, and keeps the answer per Connector
// until a statement it runs changes the catalog; each connection keeps its
// role and search_path as last reported and forgets them when a statement's
// facts say they may have changed (a Setting, DISCARD ALL, the end of a
// transaction that set them). A name on no schema of the path is 42P01; a
// temporary sequence, or one allow/deny excludes, is PostgreSQL's: the
// statement runs as written when it calls only such sequences, and
// otherwise PostgreSQL evaluates their calls apart on the same connection.
// seqshim.schema is the schema of a name PostgreSQL has nowhere: a sequence
// only the store has.
//
// A managed sequence the store does not have is imported from PostgreSQL
// on its first nextval or setval (package migrate): the store starts
// import_gap values past the database's last value, and the database's
// sequence is capped just below, so instances not yet on seqshim keep
// drawing from a disjoint range; with import_gap=0 the handover is exact
// (the store continues with the database's next value, the database's
// sequence stops). An import that cannot be done fails the call with its
// own SQLSTATE (42501, 55P03, 55000, 2200H), reason and fix; 08006 only
// when the store cannot be reached. currval of a sequence not yet imported
// is 55000, as PostgreSQL's before nextval.
//
// Values come from one seqcache.Cache per process and store, shared by
// every connection and closed (its unused values given back) when the
// last sql.DB using it is closed. currval and lastval are per connection,
// as in a PostgreSQL session. Errors are *Error values that errors.As
// turns into *pgconn.PgError with PostgreSQL's SQLSTATE and message, naming
// the sequence as the statement did; errors.Is reaches the seqcache error
// beneath.
//
// # Configuration
//
// Each key is a DSN query parameter seqshim.<key> (taken out before the
// DSN reaches pgx), over the environment variable SEQSHIM_<KEY>, over the
// default:
//
//	store           dynamodb://seqshim_sequences  dynamodb://TABLE, seqshim://HOST:PORT[,...] (seqshim servers), or memory:// for tests
//	namespace       ""        key prefix: one table serves many databases
//	block_size      1000      the smallest and first reservation when a sequence's CACHE is 1
//	max_block_size  10000000  bound on a reservation sized by demand; 0 keeps blocks at block_size
//	block_lifetime  2s        how long a block lasts at the sequence's rate (disorder across processes)
//	outage_cover    60s       store outage covered at the observed rate; 5s behind seqshim servers; 0 none
//	max_held_share  0.01      cap on what a process holds of a sequence without CYCLE, as a share of what is left
//	attempt_timeout 1s        a store request unanswered by then counts as failed and is retried
//	schema          public    schema of an unqualified name PostgreSQL has nowhere (store-only sequences)
//	oracle          false     recognise s.NEXTVAL and s.CURRVAL
//	next_value_for  true      recognise NEXT VALUE FOR s
//	allow           (all)     comma-separated patterns of managed sequences
//	deny            (none)    comma-separated patterns left to PostgreSQL
//	plan_cache      1024      distinct SQL texts whose plans are kept
//	fetch_timeout   10s       longest a caller waits once blocks and cover are spent
//	lazy_import     true      import a sequence the store lacks from PostgreSQL on first use
//	import_gap      1000000   values left to native instances by that import; 0: exact handover
//
// A bad value makes sql.Open fail with a *ConfigError naming
// the key and the accepted values. To wrap a connector (sql.OpenDB with
// stdlib.GetConnector), use NewConnector.
//
// # MariaDB and MySQL
//
// Importing the package also registers "seqshim-mysql", which wraps
// go-sql-driver/mysql with the same keys (in the DSN's query:
// user@tcp(host)/db?seqshim.store=...) and the same caches, shared with
// "seqshim" per process and store. Statements are planned by rewrite's
// MySQL dialect: NEXTVAL(s), NEXT VALUE FOR s, LASTVAL(s), PREVIOUS VALUE
// FOR s and SETVAL(s, n [, is_used]) with MariaDB's semantics (LASTVAL is
// NULL before NEXTVAL; SETVAL moves forward only, through
// seqcache.Cache.Advance, and returns NULL otherwise). Unqualified names
// are in the DSN's database unless seqshim.schema says otherwise, and in
// the database a USE through the connection names after it. Bind
// plans run as prepared statements, their values placed among the
// caller's positional arguments. An INSERT into a table whose
// AUTO_INCREMENT sequence (db.table) the store has gets its ids from the
// cache: the driver reads the table's columns from information_schema
// (again after DDL through the process, and rereads @@sql_mode after a
// SET of it) and rewrite derives the plan, whose first value is written
// LAST_INSERT_ID(?) so that Result.LastInsertId and LAST_INSERT_ID() are
// what MariaDB would report. Errors are *MySQLError values that errors.As
// turns into *mysql.MySQLError with MariaDB's numbers and SQLSTATEs (4091
// unknown sequence, 4089 not a sequence, 4084 run out, 1235 refused, 1105
// store failure). The lazy import covers MariaDB sequences
// (migrate.MySQLImportSequence); an AUTO_INCREMENT table is managed once
// `seqshim import -mysql-dsn` has put it in the store.
package driver
