package selector

import (
	"errors"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		sel  Selector
		want map[string]bool
	}{
		{Selector{}, map[string]bool{"public.a": true, "app.b": true}},
		{Selector{Allow: []string{"orders_*", "app.*"}, Deny: []string{"app.audit*"}},
			map[string]bool{"public.orders_id_seq": true, "public.users_id_seq": false, "app.x": true, "app.audit_seq": false}},
		// A pattern without a dot is in Schema.
		{Selector{Schema: "app", Deny: []string{"audit_*", "x.*"}},
			map[string]bool{"app.orders": true, "app.audit_log": false, "x.y": false, "public.audit_log": true}},
		{Selector{Schema: "app", Allow: []string{"public.*"}}, map[string]bool{"app.orders": false, "public.orders": true}},
		// Deny wins over Allow.
		{Selector{Allow: []string{"*.*"}, Deny: []string{"public.s"}}, map[string]bool{"public.s": false, "public.t": true}},
		// * does not cross the dot between schema and name.
		{Selector{Allow: []string{"*"}}, map[string]bool{"public.a": true, "app.a": false}},
		// A malformed pattern matches nothing.
		{Selector{Allow: []string{"a[b"}}, map[string]bool{"public.a[b": false, "public.ab": false}},
	}
	for _, tc := range tests {
		for key, want := range tc.want {
			if got := tc.sel.Match(key); got != want {
				t.Errorf("%+v.Match(%s) = %v, want %v", tc.sel, key, got, want)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Selector{Allow: []string{"public.*", "a?"}, Deny: []string{"[a-c]*"}}).Validate(); err != nil {
		t.Errorf("good patterns: %v", err)
	}
	for _, sel := range []Selector{
		{Allow: []string{"ok", "a[b"}},
		{Deny: []string{"a[b"}},
		{Allow: []string{`a\`}},
	} {
		err := sel.Validate()
		bad := slices.Concat(sel.Allow, sel.Deny)[len(sel.Allow)+len(sel.Deny)-1]
		if !errors.Is(err, path.ErrBadPattern) || !strings.Contains(err.Error(), `bad pattern "`+strings.ReplaceAll(bad, `\`, `\\`)+`"`) {
			t.Errorf("%+v.Validate() = %v, want ErrBadPattern naming %q", sel, err, bad)
		}
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		"":                 nil,
		" , ,":             nil,
		"a":                {"a"},
		" audit_*, x.* ,,": {"audit_*", "x.*"},
	} {
		if got := Split(in); !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, want %q", in, got, want)
		}
	}
}
