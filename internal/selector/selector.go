// Package selector decides which sequences seqshim manages: the allow and
// deny patterns of the driver's seqshim.allow and seqshim.deny, which the
// migration functions and the CLI's -allow and -deny take too, so that all
// three select the same sequences.
package selector

import (
	"fmt"
	"path"
	"strings"

	"github.com/seqshim/seqshim/rewrite"
)

// Selector is a set of path.Match patterns on store keys ("schema.name").
// The zero value selects every sequence.
type Selector struct {
	// Schema is the schema of patterns without a dot; rewrite.DefaultSchema
	// when empty.
	Schema string
	// Allow, when not empty, limits the selection to keys matching one of
	// its patterns; Deny excludes the keys matching one of its patterns.
	Allow, Deny []string
}

// Validate reports the first malformed pattern: an error naming it that
// wraps path.ErrBadPattern.
func (s Selector) Validate() error {
	for _, list := range [][]string{s.Allow, s.Deny} {
		for _, p := range list {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("bad pattern %q: %w", p, err)
			}
		}
	}
	return nil
}

// Match reports whether key is selected: no Deny pattern matches it and,
// when there are Allow patterns, one of them does. A malformed pattern
// matches nothing; Validate reports it.
func (s Selector) Match(key string) bool {
	for _, p := range s.Deny {
		if s.match(p, key) {
			return false
		}
	}
	if len(s.Allow) == 0 {
		return true
	}
	for _, p := range s.Allow {
		if s.match(p, key) {
			return true
		}
	}
	return false
}

// match matches one pattern, qualified with Schema when it has no dot.
func (s Selector) match(pattern, key string) bool {
	if !strings.Contains(pattern, ".") {
		schema := s.Schema
		if schema == "" {
			schema = rewrite.DefaultSchema
		}
		pattern = schema + "." + pattern
	}
	ok, _ := path.Match(pattern, key)
	return ok
}

// Split splits a comma-separated list, as seqshim.allow and -allow take
// it, trimming spaces and dropping empty items.
func Split(list string) []string {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
