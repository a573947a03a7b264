package rewrite

import (
	"fmt"
	"strings"
	"testing"
)

// factString renders a fact's set fields.
func factString(f Fact) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s", f.Kind, f.Command)
	if f.Object != "" {
		fmt.Fprintf(&b, " %s", f.Object)
	}
	if f.Name != (Name{}) {
		fmt.Fprintf(&b, " %s", f.Name.Key())
	}
	if f.Constant {
		fmt.Fprintf(&b, " =%q", f.Value)
	}
	for _, flag := range []struct {
		on   bool
		name string
	}{{f.Reset, "reset"}, {f.All, "all"}, {f.Local, "local"}} {
		if flag.on {
			b.WriteString(" " + flag.name)
		}
	}
	if f.Statement > 0 {
		fmt.Fprintf(&b, " #%d", f.Statement)
	}
	return b.String()
}

func TestFacts(t *testing.T) {
	p := NewPlanner(Options{DefaultSchema: "app"})
	for _, tc := range []struct{ sql, want string }{
		// Statements that change the catalog, and what they name.
		{`CREATE TABLE t (id serial)`, `CatalogChange CREATE TABLE app.t`},
		{`create unlogged table if not exists "S"."T" (a int)`, `CatalogChange CREATE TABLE S.T`},
		{`/* migration 7 */ ALTER TABLE public.orders ALTER id DROP DEFAULT`, `CatalogChange ALTER TABLE public.orders`},
		{"-- m\n  drop sequence if exists s cascade", `CatalogChange DROP SEQUENCE app.s`},
		{`CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END`, `CatalogChange CREATE FUNCTION app.f`},
		{`CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)`, `CatalogChange CREATE INDEX app.i`},
		{`CREATE INDEX ON t (a)`, `CatalogChange CREATE INDEX`},
		{`DROP MATERIALIZED VIEW mv`, `CatalogChange DROP MATERIALIZED VIEW app.mv`},
		{`ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO r`, `CatalogChange ALTER DEFAULT PRIVILEGES`},
		{`CREATE TEMP SEQUENCE s`, `CatalogChange CREATE SEQUENCE app.s`},
		{`ALTER FOO bar`, `CatalogChange ALTER`},
		{`(drop table t)`, `CatalogChange DROP TABLE app.t`},
		// DISCARD.
		{`DISCARD ALL`, `Discard DISCARD ALL all`},
		{`discard  sequences ;`, `Discard DISCARD SEQUENCES`},
		{`Discard Temporary`, `Discard DISCARD TEMP`},
		{`DISCARD PLANS`, `Discard DISCARD PLANS`},
		{`DISCARD`, ``},
		{`DISCARD ALL SEQUENCES`, ``},
		// Settings: watched parameters only.
		{`SET search_path TO a, "B", 'c'`, `Setting SET search_path ="a, \"B\", 'c'"`},
		{`set LOCAL Search_Path = public`, `Setting SET search_path ="public" local`},
		{`SET SESSION search_path TO DEFAULT`, `Setting SET search_path reset`},
		{`SET SCHEMA 'app'`, `Setting SET search_path ="'app'"`},
		{`SET search_path TO current_setting('x')`, `Setting SET search_path`},
		{`SET standard_conforming_strings = off`, `Setting SET standard_conforming_strings ="off"`},
		{`SET work_mem = '1MB'`, ``},
		{`SET TIME ZONE 'UTC'`, ``},
		{`SET SESSION AUTHORIZATION r`, `Setting SET session_authorization ="r"`}, // "$user" in search_path
		{`SET ROLE app`, `Setting SET role ="app"`},
		{`set local role = 'app'`, `Setting SET role ="'app'" local`},
		{`RESET ROLE`, `Setting RESET role reset`},
		{`RESET SESSION AUTHORIZATION`, `Setting RESET session_authorization reset`},
		{`RESET search_path`, `Setting RESET search_path reset`},
		{`RESET ALL`, `Setting RESET reset all`},
		{`RESET work_mem`, ``},
		{`SELECT set_config('search_path', 'a, b', false)`, `Setting SET_CONFIG search_path ="a, b"`},
		{`select pg_catalog.SET_CONFIG('search_path', 'x', true), 1`, `Setting SET_CONFIG search_path ="x" local`},
		{`SELECT set_config('search_path', $1, false)`, `Setting SET_CONFIG search_path`},
		{`SELECT set_config($1, 'x', false)`, `Setting SET_CONFIG`},
		{`SELECT set_config('work_mem', '1MB', false)`, ``},
		{`SELECT x.set_config('search_path', 'a', false)`, ``},
		{`SELECT 'set_config(''search_path'', ''a'', false)'`, ``},
		// Transaction control.
		{`BEGIN`, `Transaction BEGIN`},
		{`begin transaction isolation level serializable`, `Transaction BEGIN`},
		{`START TRANSACTION READ ONLY`, `Transaction BEGIN`},
		{`COMMIT`, `Transaction COMMIT`},
		{`end`, `Transaction COMMIT`},
		{`ROLLBACK`, `Transaction ROLLBACK`},
		{`abort work`, `Transaction ROLLBACK`},
		{`SAVEPOINT "Sp"`, `Transaction SAVEPOINT Sp`},
		{`RELEASE SAVEPOINT sp`, `Transaction RELEASE sp`},
		{`release sp`, `Transaction RELEASE sp`},
		{`ROLLBACK TO SAVEPOINT sp`, `Transaction ROLLBACK TO sp`},
		{`rollback work to sp`, `Transaction ROLLBACK TO sp`},
		{`PREPARE TRANSACTION 'x'`, `Transaction PREPARE TRANSACTION`},
		{`COMMIT PREPARED 'x'`, `Transaction COMMIT PREPARED`},
		{`ROLLBACK PREPARED 'x'`, `Transaction ROLLBACK PREPARED`},
		// Not facts.
		{`PREPARE q AS SELECT 1`, ``},
		{`SELECT 1`, ``},
		{`INSERT INTO t (v) VALUES (1)`, ``},
		{`DELETE FROM t`, ``},
		{`SELECT 'DROP TABLE t'`, ``},
		{`/* DISCARD ALL */ SELECT 1`, ``},
		{`DO $$ BEGIN CREATE TABLE t (a int); END $$`, ``},
		{`SELECT "create" FROM t`, ``},
		{`SELECT 'unterminated`, ``},
		// Several statements: each fact with its statement's index.
		{`BEGIN; SET LOCAL search_path = s; DROP TABLE t; COMMIT`,
			`Transaction BEGIN | Setting SET search_path ="s" local #1 | CatalogChange DROP TABLE app.t #2 | Transaction COMMIT #3`},
		{`SELECT 1; discard sequences`, `Discard DISCARD SEQUENCES #1`},
		// With sequence calls: facts stay on Bind and Refuse plans.
		{`SELECT set_config('search_path', 'a', false), nextval('s')`, `Setting SET_CONFIG search_path ="a"`},
		{`CREATE TABLE t AS SELECT nextval('s')`, `CatalogChange CREATE TABLE app.t`},
	} {
		pl := p.Plan(tc.sql)
		var got []string
		for _, f := range pl.Facts {
			got = append(got, factString(f))
		}
		if s := strings.Join(got, " | "); s != tc.want {
			t.Errorf("Plan(%q).Facts = %s, want %s", tc.sql, s, tc.want)
		}
	}
}
