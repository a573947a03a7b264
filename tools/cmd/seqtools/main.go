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
	"flag"
	"io"

	"github.com/seqshim/seqshim/internal/cli"
)

var program = cli.Program{Name: "seqtools", Commands: []cli.Command{
	{Name: "demo", Summary: "an order service on PostgreSQL and DynamoDB through seqshim", Run: runDemo},
	{Name: "bench", Summary: "native pgx, seqshim, DynamoDB per value and the bare cache, side by side", Run: runBench},
	{Name: "stress", Summary: "worker processes insert through seqshim while some are SIGKILLed; check the ids", Run: runStress},
}}

// errUsage marks a usage error: exit code 2.
var errUsage = cli.ErrUsage

func main() { program.Main() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// newFlags returns the FlagSet of one command.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlags("seqtools", name, stderr)
}

func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }
