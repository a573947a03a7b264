package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/seqshim/seqshim/internal/selector"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/seqcache"
)

// mysqlOptions completes o for MariaDB: unqualified names are in the DSN's
// database unless -schema (or SEQSHIM_SCHEMA) names another, and names
// keep their case, as MariaDB's table names do.
func (f *migrateFlags) mysqlOptions(o migrate.Options) (migrate.Options, error) {
	cfg, err := mysql.ParseDSN(f.mysqlDSN)
	if err != nil {
		return o, fmt.Errorf("%w: -mysql-dsn: %v", errUsage, err)
	}
	if f.schema == "" || f.schema == "public" {
		f.schema = cfg.DBName
	}
	if f.schema == "" {
		return o, fmt.Errorf("%w: -mysql-dsn names no database: add /db to it or set -schema", errUsage)
	}
	o.Schema = f.schema
	for _, name := range selector.Split(f.only) {
		if !strings.Contains(name, ".") {
			name = f.schema + "." + name
		}
		o.Only = append(o.Only, name)
	}
	return o, nil
}

// openMySQL opens the MariaDB database and the store.
func (f *migrateFlags) openMySQL(ctx context.Context) (*sql.DB, seqcache.Store, error) {
	store, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("mysql", f.mysqlDSN)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: -mysql-dsn: %v", errUsage, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connecting to MariaDB: %w", err)
	}
	return db, store, nil
}

// onMySQL and onSQLDB adapt the MariaDB migrations to the handle
// openBoth returns, a *sql.DB.
func onMySQL(f func(context.Context, migrate.MySQL, seqcache.Store, migrate.Options) ([]migrate.Step, error)) migration {
	return func(ctx context.Context, db migrate.DB, store seqcache.Store, opts migrate.Options) ([]migrate.Step, error) {
		return f(ctx, db.(*sql.DB), store, opts)
	}
}

func onSQLDB(f func(context.Context, *sql.DB, seqcache.Store, migrate.Options) ([]migrate.Step, error)) migration {
	return func(ctx context.Context, db migrate.DB, store seqcache.Store, opts migrate.Options) ([]migrate.Step, error) {
		return f(ctx, db.(*sql.DB), store, opts)
	}
}

func onMySQLStatus(f func(context.Context, migrate.MySQL, seqcache.Store, migrate.Options) ([]migrate.State, error)) func(context.Context, migrate.DB, seqcache.Store, migrate.Options) ([]migrate.State, error) {
	return func(ctx context.Context, db migrate.DB, store seqcache.Store, opts migrate.Options) ([]migrate.State, error) {
		return f(ctx, db.(*sql.DB), store, opts)
	}
}
