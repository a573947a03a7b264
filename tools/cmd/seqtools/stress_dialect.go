package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// stressDialect is what a stress run on PostgreSQL or on MariaDB differs
// in. On PostgreSQL the workers insert nextval of the table's sequence
// through "seqshim"; on MariaDB they leave the table's AUTO_INCREMENT id
// out through "seqshim-mysql", which fills it from the store.
type stressDialect struct {
	name         string // for messages
	native, shim string // database/sql driver names
	uniqueCode   string // the error of a duplicate id
	dsn          func() (string, error)
	// withParams adds the seqshim.<key>=value parameters to a DSN.
	withParams func(dsn string, params ...string) string
	// create returns the statements that make the table (and sequence).
	create func(c stressConfig) []string
	drop   func(c stressConfig) []string
	// insert inserts a row (worker, incarnation, goroutine, n).
	insert func(c stressConfig) string
	// params are the placeholders of two parameters.
	params [2]string
	// seqKey is the store key of the ids' sequence.
	seqKey func(c stressConfig) (string, error)
	// unique reports whether err is a duplicate id.
	unique func(err error) bool
}

func (c stressConfig) dialect() stressDialect {
	if c.MariaDB {
		return mariadbStress
	}
	return postgresStress
}

var postgresStress = stressDialect{
	name: "PostgreSQL", native: "pgx", shim: "seqshim", uniqueCode: "23505",
	dsn: databaseURL, withParams: withParams,
	create: func(c stressConfig) []string {
		return []string{
			"CREATE SEQUENCE " + pgx.Identifier{c.seqName()}.Sanitize(),
			fmt.Sprintf(`CREATE TABLE %s (
	id          bigint PRIMARY KEY DEFAULT nextval('%s'),
	worker      int NOT NULL,
	incarnation int NOT NULL,
	goroutine   int NOT NULL,
	n           bigint NOT NULL,
	at          timestamptz NOT NULL DEFAULT clock_timestamp())`, pgx.Identifier{c.PGTable}.Sanitize(), c.seqName()),
		}
	},
	drop: func(c stressConfig) []string {
		return []string{"DROP TABLE IF EXISTS " + pgx.Identifier{c.PGTable}.Sanitize(), "DROP SEQUENCE IF EXISTS " + pgx.Identifier{c.seqName()}.Sanitize()}
	},
	insert: func(c stressConfig) string {
		return fmt.Sprintf("INSERT INTO %s (id, worker, incarnation, goroutine, n) VALUES (nextval('%s'), $1, $2, $3, $4)",
			pgx.Identifier{c.PGTable}.Sanitize(), c.seqName())
	},
	params: [2]string{"$1", "$2"},
	seqKey: func(c stressConfig) (string, error) { return "public." + c.seqName(), nil },
	unique: func(err error) bool {
		var pg *pgconn.PgError
		return errors.As(err, &pg) && pg.Code == "23505"
	},
}

var mariadbStress = stressDialect{
	name: "MariaDB", native: "mysql", shim: "seqshim-mysql", uniqueCode: "1062",
	dsn: mariadbDSN,
	withParams: func(dsn string, params ...string) string {
		sep := "?"
		for _, p := range params {
			dsn += sep + p
			sep = "&"
		}
		return dsn
	},
	create: func(c stressConfig) []string {
		return []string{fmt.Sprintf(`CREATE TABLE %s (
	id          BIGINT AUTO_INCREMENT PRIMARY KEY,
	worker      INT NOT NULL,
	incarnation INT NOT NULL,
	goroutine   INT NOT NULL,
	n           BIGINT NOT NULL,
	at          TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`, c.PGTable)}
	},
	drop: func(c stressConfig) []string { return []string{"DROP TABLE IF EXISTS " + c.PGTable} },
	insert: func(c stressConfig) string {
		return "INSERT INTO " + c.PGTable + " (worker, incarnation, goroutine, n) VALUES (?, ?, ?, ?)"
	},
	params: [2]string{"?", "?"},
	seqKey: func(c stressConfig) (string, error) {
		dsn, err := mariadbDSN()
		if err != nil {
			return "", err
		}
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil || cfg.DBName == "" {
			return "", fmt.Errorf("MARIADB_DSN %q names no database (%v)", dsn, err)
		}
		return cfg.DBName + "." + c.PGTable, nil
	},
	unique: func(err error) bool {
		var me *mysql.MySQLError
		return errors.As(err, &me) && me.Number == 1062
	},
}

// mariadbDSN returns MARIADB_DSN, which scripts/services.sh exports.
func mariadbDSN() (string, error) {
	dsn := os.Getenv("MARIADB_DSN")
	if dsn == "" {
		return "", fmt.Errorf("MariaDB: MARIADB_DSN is not set; %s", servicesHint)
	}
	return dsn, nil
}
