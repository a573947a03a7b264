package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-sql-driver/mysql"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// seqshimMySQL is the driver registered as "seqshim-mysql": MariaDB's (and
// MySQL's) sequences and AUTO_INCREMENT columns answered from the caches
// the "seqshim" driver shares, over go-sql-driver/mysql.
var seqshimMySQL = newMySQL(seqshim)

func init() {
	sql.Register("seqshim-mysql", seqshimMySQL)
}

// newMySQL returns the MySQL-dialect driver, sharing the caches of pg.
func newMySQL(pg *Driver) *Driver {
	cfg := DefaultConfig()
	cfg.Schema = "" // the DSN's database
	d := New(mysql.MySQLDriver{}, cfg)
	d.dialect, d.caches = rewrite.MySQL, pg
	return d
}

// splitDSN takes the seqshim.<key> parameters out of dsn in the form of
// d's dialect.
func (d *Driver) splitDSN(dsn string) (string, map[string]string, error) {
	if d.dialect != rewrite.MySQL {
		return splitDSN(dsn)
	}
	// go-sql-driver/mysql: user:password@tcp(host:port)/db?key=value&...
	return splitURL(dsn, make(map[string]string))
}

// dialectConfig completes cfg for d's dialect: for MySQL, unqualified
// sequence names are in the DSN's database unless seqshim.schema says
// otherwise.
func (d *Driver) dialectConfig(cfg Config, dsn string) (Config, error) {
	if d.dialect != rewrite.MySQL || cfg.Schema != "" {
		return cfg, nil
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return cfg, err
	}
	if mc.DBName == "" {
		return cfg, &ConfigError{Key: "seqshim.schema", Source: "DSN", Accepted: "a database name",
			Err: errors.New("the DSN names no database: name one (user@tcp(host)/db) or set seqshim.schema")}
	}
	cfg.Schema = mc.DBName
	return cfg, nil
}

// MariaDB's error numbers and SQLSTATEs for what seqshim answers.
const (
	erUnknownSequence = 4091 // ER_UNKNOWN_SEQUENCES, 42S02
	erNotSequence     = 4089 // ER_NOT_SEQUENCE, 42S02
	erSequenceRunOut  = 4084 // ER_SEQUENCE_RUN_OUT, HY000
	erNotSupported    = 1235 // ER_NOT_SUPPORTED_YET, 42000
	erWrongArguments  = 1210 // ER_WRONG_ARGUMENTS, HY000
	erUnknown         = 1105 // ER_UNKNOWN_ERROR, HY000: the store failed
)

// MySQLError is a sequence error as MariaDB would report it. errors.As
// reaches its *mysql.MySQLError, so code written for go-sql-driver/mysql
// keeps working, and errors.Is reaches the seqcache error beneath.
type MySQLError struct {
	MyErr *mysql.MySQLError
	Err   error // the seqcache error or other cause, if any
}

func (e *MySQLError) Error() string { return e.MyErr.Error() }

// Unwrap returns the *mysql.MySQLError and the cause.
func (e *MySQLError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.MyErr}
	}
	return []error{e.MyErr, e.Err}
}

func myErr(number uint16, state, msg string, cause error) *MySQLError {
	e := &mysql.MySQLError{Number: number, Message: msg}
	copy(e.SQLState[:], state)
	return &MySQLError{MyErr: e, Err: cause}
}

// mySeqErr turns a store or cache error about seq into MariaDB's error.
func mySeqErr(seq rewrite.Name, err error) error {
	if errors.Is(err, migrate.ErrNotSequence) {
		return myErr(erNotSequence, "42S02", fmt.Sprintf("'%s' is not a SEQUENCE", seq.Key()), err)
	}
	switch seqcache.CodeOf(err) {
	case seqcache.CodeUndefinedTable:
		return myErr(erUnknownSequence, "42S02", fmt.Sprintf("Unknown SEQUENCE: '%s'", seq.Name), err)
	case seqcache.CodeSequenceLimit:
		return myErr(erSequenceRunOut, "HY000", fmt.Sprintf("Sequence '%s' has run out", seq.Key()), err)
	}
	return myErr(erUnknown, "HY000", fmt.Sprintf("seqshim: sequence store failed for '%s': %v", seq.Key(), err), err)
}

// myLazyImport imports the MariaDB sequence with store key from the
// database, on connections of its own (the caller's may be inside a
// transaction): the driver's lazy import, as for PostgreSQL.
func (c *Connector) myLazyImport(ctx context.Context, key string) error {
	_, err := migrate.MySQLImportSequence(ctx, c.metaDB(), c.shared.store, key, migrate.Options{
		Gap:    c.cfg.ImportGap,
		Logger: slog.Default(),
	})
	return err
}

func myRefused(p *rewrite.Plan) error {
	return myErr(erNotSupported, "42000", "seqshim: "+p.Reason, nil)
}

// NewMySQLConnector is NewConnector for MariaDB and MySQL: it wraps a
// go-sql-driver/mysql connector, such as mysql.NewConnector(mcfg), so that
// sql.OpenDB works. cfg is used as given, without the environment; its
// Schema names the database of unqualified sequence names (there is no
// DSN to take it from). The cache of cfg's store is the one both drivers
// share in the process.
func NewMySQLConnector(base driver.Connector, cfg Config) (driver.Connector, error) {
	if cfg.Schema == "" {
		return nil, &ConfigError{Key: "seqshim.schema", Source: "Config", Accepted: "a database name",
			Err: errors.New("NewMySQLConnector needs Config.Schema: the database of unqualified names")}
	}
	cfg, err := cfg.resolve(nil, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	return seqshimMySQL.connector(base, cfg)
}
