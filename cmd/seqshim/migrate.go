package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" database/sql driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/internal/selector"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/seqcache"
)

// migrateFlags are the flags of import, export and status.
type migrateFlags struct {
	*storeFlags
	databaseURL string
	mysqlDSN    string // MariaDB or MySQL instead of PostgreSQL
	only        string
	allow, deny string
	gap         int64
	dryRun      bool
	lockTimeout time.Duration
	withGap     bool
}

func addMigrateFlags(fs *flag.FlagSet, withGap bool) *migrateFlags {
	f := &migrateFlags{storeFlags: addStoreFlags(fs), withGap: withGap}
	fs.StringVar(&f.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&f.mysqlDSN, "mysql-dsn", "", "MariaDB or MySQL DSN, user@tcp(host:port)/db: migrate its sequences and AUTO_INCREMENT tables instead of PostgreSQL's")
	fs.StringVar(&f.only, "only", "", "comma-separated sequence names (default: every sequence)")
	fs.StringVar(&f.allow, "allow", os.Getenv("SEQSHIM_ALLOW"), "comma-separated patterns of managed sequences, as seqshim.allow (env SEQSHIM_ALLOW)")
	fs.StringVar(&f.deny, "deny", os.Getenv("SEQSHIM_DENY"), "comma-separated patterns left to PostgreSQL, as seqshim.deny (env SEQSHIM_DENY)")
	if withGap {
		fs.Int64Var(&f.gap, "gap", migrate.DefaultGap, "values between the database's side and the store's; 0 hands over exactly")
		fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and change nothing")
		fs.DurationVar(&f.lockTimeout, "lock-timeout", migrate.DefaultLockTimeout, "bound on the wait for a sequence's lock")
	}
	return f
}

// options checks the flags and returns the migration options.
func (f *migrateFlags) options() (migrate.Options, error) {
	if f.gap < 0 && f.withGap {
		return migrate.Options{}, fmt.Errorf("%w: -gap %d: want 0 (exact handover) or a positive number of values", errUsage, f.gap)
	}
	if f.lockTimeout < 0 {
		return migrate.Options{}, fmt.Errorf("%w: -lock-timeout %s: want a positive duration", errUsage, f.lockTimeout)
	}
	gap := f.gap
	if gap == 0 && f.withGap {
		gap = migrate.ExactHandover
	}
	o := migrate.Options{
		Gap: gap, Schema: f.schema, LockTimeout: f.lockTimeout,
		Allow: selector.Split(f.allow), Deny: selector.Split(f.deny),
		Logger: slog.New(slog.DiscardHandler), // the command prints what happens
	}
	if err := (selector.Selector{Allow: o.Allow, Deny: o.Deny}).Validate(); err != nil {
		return o, fmt.Errorf("%w: -allow/-deny: %v", errUsage, err)
	}
	if f.mysqlDSN != "" {
		return f.mysqlOptions(o)
	}
	for _, name := range selector.Split(f.only) {
		key, err := f.key(name)
		if err != nil {
			return o, err
		}
		o.Only = append(o.Only, key)
	}
	return o, nil
}

// openBoth opens the database and the store.
func (f *migrateFlags) openBoth(ctx context.Context) (*sql.DB, seqcache.Store, error) {
	if f.mysqlDSN != "" {
		return f.openMySQL(ctx)
	}
	if f.databaseURL == "" {
		return nil, nil, fmt.Errorf("%w: no database: set -database-url or DATABASE_URL", errUsage)
	}
	store, err := f.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("pgx", f.databaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: -database-url: %v", errUsage, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connecting to the database: %w", err)
	}
	return db, store, nil
}

const importUsage = `usage: seqshim import [-database-url URL | -mysql-dsn DSN] [-gap N] [-only a,b] [-dry-run] [flags]

Creates each database sequence in the store at last_value + gap*increment
(next value + gap*increment when never called) with the same parameters,
and caps the database's own sequence just below (ALTER SEQUENCE ... MAXVALUE,
MINVALUE when descending, NO CYCLE), so that instances still on native
sequences and instances on seqshim draw from disjoint ranges. A sequence with
fewer values left than the gap is split: the database keeps half of what
remains (a warning says so). -gap 0 hands over exactly: the database's
sequence stops where it stands and the store continues with the value it
would have returned next; use it when no instance still draws natively.
Prints the plan first; running it again changes nothing.

With -mysql-dsn, MariaDB's sequences are imported past next_not_cached_value
and capped the same way, and AUTO_INCREMENT tables past their counter and
largest id. AUTO_INCREMENT cannot be capped: the column's unique key (which
import requires) turns an id drawn by both sides into error 1062.

flags:`

const exportUsage = `usage: seqshim export [-database-url URL | -mysql-dsn DSN] [-gap N] [-only a,b] [-dry-run] [flags]

The rollback of import: for each sequence in the store, restores the database
sequence's MINVALUE, MAXVALUE and CYCLE from the store and moves it with
setval so that its next value is the store's next + gap*increment (never
backwards), so that native sequences take over without collision. The gap
must cover what instances still on seqshim reserve until they are gone.
Prints the plan first; running it again changes nothing.

flags:`

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runMigration(ctx, "import", importUsage, [2]migration{migrate.PlanImport, migrate.Import},
		[2]migration{onMySQL(migrate.MySQLPlanImport), onSQLDB(migrate.MySQLImport)}, args, stdout, stderr)
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runMigration(ctx, "export", exportUsage, [2]migration{migrate.PlanExport, migrate.Export},
		[2]migration{onMySQL(migrate.MySQLPlanExport), onSQLDB(migrate.MySQLExport)}, args, stdout, stderr)
}

// setupMigration parses the flags of import, export or status and opens
// the database and the store they name.
func setupMigration(ctx context.Context, name, usage string, withGap bool, args []string, stderr io.Writer) (
	*migrateFlags, migrate.Options, *sql.DB, seqcache.Store, error) {
	fs := newFlags(name, stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	mf := addMigrateFlags(fs, withGap)
	if err := parse(fs, args); err != nil {
		return nil, migrate.Options{}, nil, nil, err
	}
	opts, err := mf.options()
	if err != nil {
		return nil, migrate.Options{}, nil, nil, err
	}
	db, store, err := mf.openBoth(ctx)
	return mf, opts, db, store, err
}

// migration is migrate.Import or migrate.Export, or their Plan functions.
type migration func(ctx context.Context, db migrate.DB, store seqcache.Store, opts migrate.Options) ([]migrate.Step, error)

// runMigration prints a migration's plan, then carries it out (unless
// -dry-run): pg's plan and do on PostgreSQL, my's with -mysql-dsn.
func runMigration(ctx context.Context, name, usage string, pg, my [2]migration, args []string, stdout, stderr io.Writer) error {
	mf, opts, db, store, err := setupMigration(ctx, name, usage, true, args, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	plan, do := pg[0], pg[1]
	if mf.mysqlDSN != "" {
		plan, do = my[0], my[1]
	}
	steps, err := plan(ctx, db, store, opts)
	if err != nil {
		return mf.explain(err)
	}
	return mf.apply(ctx, stdout, name, steps, func() ([]migrate.Step, error) {
		return do(ctx, db, store, opts)
	})
}

const statusUsage = `usage: seqshim status [-database-url URL | -mysql-dsn DSN] [-only a,b] [flags]

Per sequence: the store's next value, the database's last value and cap, and
the margin between them. Exits with 1 when a range could overlap.

flags:`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	mf, opts, db, store, err := setupMigration(ctx, "status", statusUsage, false, args, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	status := migrate.Status
	if mf.mysqlDSN != "" {
		status = onMySQLStatus(migrate.MySQLStatus)
	}
	states, err := status(ctx, db, store, opts)
	if err != nil {
		return mf.explain(err)
	}
	out := make([]jsonState, len(states))
	var overlaps []string
	for i, s := range states {
		out[i] = toJSONState(s)
		if s.Phase == migrate.PhaseDatabaseOnly {
			out[i].Note += "; `seqshim import -only " + s.Key + "` imports it now"
		}
		if s.Overlap {
			overlaps = append(overlaps, s.Key)
		}
	}
	err = mf.print(stdout, out, func(w io.Writer) {
		if len(states) == 0 {
			fmt.Fprintln(w, "no sequences")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQUENCE\tPHASE\tSTORE NEXT\tDB LAST\tDB CAP\tMARGIN\tNOTE")
		for _, s := range out {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Sequence, s.Phase,
				storeNextText(s.Store), lastText(s.Database),
				capText(s.Database), strconv.FormatInt(s.Margin, 10), s.Note)
		}
		tw.Flush()
	})
	if err != nil {
		return err
	}
	if len(overlaps) > 0 {
		return fmt.Errorf("%d sequence(s) could overlap: %s: fix: `seqshim import --only NAME` caps the database below the store, "+
			"`seqshim export --only NAME` moves it past the store", len(overlaps), strings.Join(overlaps, ", "))
	}
	return nil
}

// apply prints the plan, then, unless -dry-run or nothing is to be done,
// carries it out and prints the result.
func (f *migrateFlags) apply(ctx context.Context, stdout io.Writer, verb string, plan []migrate.Step, do func() ([]migrate.Step, error)) error {
	var todo int
	var planErrs []error
	for _, s := range plan {
		switch s.Action {
		case migrate.ActionFail:
			planErrs = append(planErrs, s.Err)
		case migrate.ActionDone, migrate.ActionSkip:
		default:
			todo++
		}
	}
	report := jsonReport{Command: verb, DryRun: f.dryRun, Gap: f.gap, Plan: toJSONSteps(plan)}
	var result []migrate.Step
	var err error
	if !f.dryRun && todo > 0 {
		result, err = do()
		report.Result = toJSONSteps(result)
	} else {
		err = errors.Join(planErrs...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	perr := f.print(stdout, report, func(w io.Writer) {
		fmt.Fprintf(w, "%s plan (gap %d):\n", verb, f.gap)
		printSteps(w, plan, true)
		switch {
		case len(plan) == 0:
			fmt.Fprintln(w, "no sequences selected")
		case f.dryRun:
			fmt.Fprintln(w, "dry run: nothing changed")
		case todo == 0 && len(planErrs) == 0:
			fmt.Fprintf(w, "nothing to do: every sequence is already %sed; nothing changed\n", verb)
		case todo == 0:
			fmt.Fprintln(w, "nothing changed")
		default:
			fmt.Fprintln(w, "\nresult:")
			printSteps(w, result, false)
			var applied int
			for _, s := range result {
				if s.Applied {
					applied++
				}
			}
			fmt.Fprintf(w, "%d sequence(s) changed\n", applied)
		}
	})
	if err != nil {
		return f.explain(err)
	}
	return perr
}

// stepFixes are the commands behind the fixes that failed steps name
// (package migrate names no command).
const stepFixes = "  fix commands: `seqshim get NAME` shows the store's sequence, `seqshim setval NAME N` moves it, " +
	"`seqshim drop NAME` removes it, `seqshim import -only NAME` imports again, `seqshim status` compares both sides"

// printSteps prints one line per step, then the statements (withSQL), the
// warnings and, when a step failed, the commands that carry out fixes.
func printSteps(w io.Writer, steps []migrate.Step, withSQL bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	failed := false
	for _, s := range steps {
		failed = failed || s.Err != nil
		detail := s.Note
		if s.Err != nil {
			detail = s.Err.Error()
		}
		action := string(s.Action)
		if s.Applied {
			action += " ✓"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Key, action, detail)
	}
	tw.Flush()
	for _, s := range steps {
		for _, q := range s.SQL {
			if withSQL {
				fmt.Fprintf(w, "    %s: %s\n", s.Key, q)
			}
		}
		if s.Warning != "" {
			fmt.Fprintf(w, "  WARNING: %s\n", s.Warning)
		}
	}
	if failed {
		fmt.Fprintln(w, stepFixes)
	}
}

// explain adds the fix to the store's errors: the command that creates a
// missing table, where to look for a sequence that is not there, what to
// do with one that already is.
func (f *storeFlags) explain(err error) error {
	var rnf *types.ResourceNotFoundException
	var se *seqcache.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rnf):
		return fmt.Errorf("%w\nfix: create the table with `seqshim table create -store %s`", err, f.store)
	case errors.Is(err, seqcache.ErrExists) && errors.As(err, &se):
		return fmt.Errorf("%w\nfix: `seqshim get %s` shows it, `seqshim drop %s` removes it", err, se.Sequence, se.Sequence)
	case errors.Is(err, seqcache.ErrUnknownSequence) && errors.As(err, &se) && se.Sequence != "":
		return fmt.Errorf("%w\nfix: check the name, -schema %q and -namespace %q (`seqshim list` shows the store's sequences)", err, f.schema, f.namespace)
	}
	return err
}

// jsonReport is what import and export print with -json.
type jsonReport struct {
	Command string     `json:"command"`
	DryRun  bool       `json:"dry_run"`
	Gap     int64      `json:"gap"`
	Plan    []jsonStep `json:"plan"`
	Result  []jsonStep `json:"result"` // null when nothing was carried out
}

type jsonStep struct {
	Sequence   string      `json:"sequence"`
	Action     string      `json:"action"`
	Applied    bool        `json:"applied"`
	Database   *jsonNative `json:"database"` // before the step
	Store      *jsonSeq    `json:"store"`    // before the step
	StoreStart *int64      `json:"store_start,omitempty"`
	Cap        *int64      `json:"database_limit,omitempty"`
	StoreNext  *int64      `json:"store_next,omitempty"`
	NativeNext *int64      `json:"database_next,omitempty"`
	SQL        []string    `json:"sql"`
	Note       string      `json:"note,omitempty"`
	Warning    string      `json:"warning,omitempty"`
	Error      string      `json:"error,omitempty"`
}

type jsonNative struct {
	DataType  string `json:"data_type"`
	Start     int64  `json:"start"`
	Increment int64  `json:"increment"`
	MinValue  int64  `json:"minvalue"`
	MaxValue  int64  `json:"maxvalue"`
	Cycle     bool   `json:"cycle"`
	Cache     int64  `json:"cache"`
	LastValue int64  `json:"last_value"`
	IsCalled  bool   `json:"is_called"`
}

func toJSONNative(n *migrate.Native) *jsonNative {
	if n == nil {
		return nil
	}
	return &jsonNative{n.DataType, n.Start, n.Increment, n.MinValue, n.MaxValue, n.Cycle, n.Cache, n.LastValue, n.Called}
}

func toJSONSeq(s *seqcache.Sequence) *jsonSeq {
	if s == nil {
		return nil
	}
	j := jsonSeq{s.Name, s.Start, s.Increment, s.MinValue, s.MaxValue, s.Cycle, s.Cache, s.Ordered, nil}
	if !s.Exhausted {
		next := s.Next
		j.Next = &next
	}
	return &j
}

func toJSONSteps(steps []migrate.Step) []jsonStep {
	if steps == nil {
		return nil
	}
	out := make([]jsonStep, len(steps))
	for i, s := range steps {
		j := jsonStep{Sequence: s.Key, Action: string(s.Action), Applied: s.Applied,
			Database: toJSONNative(s.Native), Store: toJSONSeq(s.Store), SQL: s.SQL,
			Note: s.Note, Warning: s.Warning}
		if j.SQL == nil {
			j.SQL = []string{}
		}
		if s.Err != nil {
			j.Error = s.Err.Error()
		}
		ptr := func(v int64) *int64 { return &v }
		switch s.Action {
		case migrate.ActionCreate:
			j.StoreStart, j.Cap, j.StoreNext = ptr(s.Spec.Start), ptr(s.Cap), ptr(s.StoreNext)
		case migrate.ActionCap, migrate.ActionStop:
			j.Cap, j.StoreNext = ptr(s.Cap), ptr(s.StoreNext)
		case migrate.ActionRestore:
			j.Cap = ptr(s.Cap)
			if !s.NativeExhausted {
				j.NativeNext = ptr(s.NativeNext)
			}
		}
		out[i] = j
	}
	return out
}

// jsonState is one sequence of status -json.
type jsonState struct {
	Sequence string      `json:"sequence"`
	Phase    string      `json:"phase"`
	Overlap  bool        `json:"overlap"`
	Margin   int64       `json:"margin"`
	Database *jsonNative `json:"database"`
	Store    *jsonSeq    `json:"store"`
	Note     string      `json:"note"`
}

func toJSONState(s migrate.State) jsonState {
	j := jsonState{Sequence: s.Key, Phase: string(s.Phase), Overlap: s.Overlap, Margin: s.Margin,
		Database: toJSONNative(s.Native), Store: toJSONSeq(s.Store), Note: s.Note}
	return j
}

func storeNextText(s *jsonSeq) string {
	switch {
	case s == nil:
		return "-"
	case s.Next == nil:
		return "exhausted"
	}
	return strconv.FormatInt(*s.Next, 10)
}

func lastText(n *jsonNative) string {
	switch {
	case n == nil:
		return "-"
	case !n.IsCalled:
		return "(next " + strconv.FormatInt(n.LastValue, 10) + ")"
	}
	return strconv.FormatInt(n.LastValue, 10)
}

func capText(n *jsonNative) string {
	if n == nil {
		return "-"
	}
	if n.Increment < 0 {
		return "min " + strconv.FormatInt(n.MinValue, 10)
	}
	return "max " + strconv.FormatInt(n.MaxValue, 10)
}
