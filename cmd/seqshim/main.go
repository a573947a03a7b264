// Command seqshim administers seqshim's sequences: the DynamoDB table, the
// sequences in it, and the import of a database's sequences and its
// rollback; `seqshim serve` runs the server tier. The demo, the benchmark
// and the stress test are the seqtools command of the tools module
// (tools/cmd/seqtools).
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
//	serve       the server tier: a gRPC server handing out blocks from a cache over DynamoDB
//
// Exit codes: 0 ok, 1 failure, 2 usage.
package main

import (
	"context"
	"flag"
	"io"

	"github.com/seqshim/seqshim/internal/cli"
)

var program = cli.Program{Name: "seqshim", Commands: []cli.Command{
	{Name: "table", Summary: "table create: create the DynamoDB table if absent", Run: runTable},
	{Name: "create", Summary: "create a sequence in the store", Run: runCreate},
	{Name: "get", Summary: "show a sequence and its next value", Run: runGet},
	{Name: "list", Summary: "list the store's sequences", Run: runList},
	{Name: "setval", Summary: "set a sequence's value, as setval does", Run: runSetval},
	{Name: "drop", Summary: "drop a sequence from the store", Run: runDrop},
	{Name: "import", Summary: "import database sequences into the store and cap them", Run: runImport},
	{Name: "export", Summary: "the rollback: lift the caps, move database sequences past the store", Run: runExport},
	{Name: "status", Summary: "per sequence: store next, database last value and cap, margin", Run: runStatus},
	{Name: "serve", Summary: "the server tier: a gRPC server handing out blocks from a cache over DynamoDB", Run: runServe},
}}

// errUsage marks a usage error: exit code 2.
var errUsage = cli.ErrUsage

func main() { program.Main() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// newFlags returns the FlagSet of one command.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlags("seqshim", name, stderr)
}

func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }
