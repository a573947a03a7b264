// Command seqshim administers seqshim's sequences: the DynamoDB table, the
// sequences in it, and the import of a database's sequences and its
// rollback. The demo, the benchmark and the stress test are the seqtools
// command of the tools module (tools/cmd/seqtools).
//
// Usage:
//
//	seqshim <command> [flags]
//
// Commands:
//
//	table       table create: create the DynamoDB table if absent
//	create      create a sequence in the store
//	get         show a sequence and its next value
//	list        list the store's sequences
//	setval      set a sequence's value, as setval does
//	drop        drop a sequence from the store
//	import      import database sequences into the store and cap them
//	export      the rollback: lift the caps, move database sequences past the store
//	status      per sequence: store next, database last value and cap, margin
//
// Exit codes: 0 ok, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"table", "table create: create the DynamoDB table if absent", runTable},
		{"create", "create a sequence in the store", runCreate},
		{"get", "show a sequence and its next value", runGet},
		{"list", "list the store's sequences", runList},
		{"setval", "set a sequence's value, as setval does", runSetval},
		{"drop", "drop a sequence from the store", runDrop},
		{"import", "import database sequences into the store and cap them", runImport},
		{"export", "the rollback: lift the caps, move database sequences past the store", runExport},
		{"status", "per sequence: store next, database last value and cap, margin", runStatus},
	}
}

// errUsage marks a usage error: exit code 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil || errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "seqshim %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "seqshim %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "seqshim: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: seqshim <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'seqshim <command> -h' for a command's flags.")
}

// newFlags returns a FlagSet that reports usage errors as errUsage.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("seqshim "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return nil
}
