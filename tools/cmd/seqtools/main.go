// Command seqtools runs seqshim's demo, its side-by-side benchmark and its
// multi-process stress test. They live in a module of their own so that
// their plotting and histogram dependencies stay out of the library's
// module graph; the admin CLI is cmd/seqshim in the library module.
//
// Usage:
//
//	seqtools <command> [flags]
//
// Commands:
//
//	demo        an order service on PostgreSQL and DynamoDB through seqshim
//	bench       native pgx, seqshim, DynamoDB per value and the bare cache, side by side
//	stress      worker processes insert through seqshim while some are SIGKILLed; check the ids
//
// Each expects the services scripts/services.sh starts (make demo and
// make bench start them). Exit codes: 0 ok, 1 failure, 2 usage.
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
		{"demo", "an order service on PostgreSQL and DynamoDB through seqshim", runDemo},
		{"bench", "native pgx, seqshim, DynamoDB per value and the bare cache, side by side", runBench},
		{"stress", "worker processes insert through seqshim while some are SIGKILLed; check the ids", runStress},
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
			fmt.Fprintf(stderr, "seqtools %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "seqtools %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "seqtools: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: seqtools <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'seqtools <command> -h' for a command's flags.")
}

// newFlags returns a FlagSet that reports usage errors as errUsage.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("seqtools "+name, flag.ContinueOnError)
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
