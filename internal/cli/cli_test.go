package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	p := Program{Name: "prog", Commands: []Command{
		{Name: "ok", Summary: "succeeds", Run: func(context.Context, []string, io.Writer, io.Writer) error { return nil }},
		{Name: "fail", Summary: "fails", Run: func(context.Context, []string, io.Writer, io.Writer) error { return boom }},
		{Name: "flags", Summary: "parses -n", Run: func(_ context.Context, args []string, _, stderr io.Writer) error {
			fs := NewFlags("prog", "flags", stderr)
			fs.Int("n", 0, "a number")
			return Parse(fs, args)
		}},
	}}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "usage: prog <command>"},
		{[]string{"help"}, 0, "  fail     fails"},
		{[]string{"ok"}, 0, ""},
		{[]string{"fail"}, 1, "prog fail: boom"},
		{[]string{"nope"}, 2, `prog: unknown command "nope"`},
		{[]string{"flags", "-n", "3"}, 0, ""},
		{[]string{"flags", "-n", "x"}, 2, "prog flags: usage: invalid value"},
		{[]string{"flags", "extra"}, 2, `prog flags: usage: unexpected arguments ["extra"]`},
		{[]string{"flags", "-h"}, 0, "Usage of prog flags"},
	} {
		var stderr bytes.Buffer
		code := p.Run(context.Background(), tc.args, io.Discard, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("Run(%q) = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}
