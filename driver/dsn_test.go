package driver

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestSplitDSN(t *testing.T) {
	tests := []struct {
		dsn, rest string
		params    map[string]string
	}{
		{"postgres://u@h/db", "postgres://u@h/db", map[string]string{}},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable", map[string]string{}},
		{"postgres://u@h/db?seqshim.store=memory://", "postgres://u@h/db", map[string]string{"store": "memory://"}},
		{"postgresql://u:p%40ss@h:5433/db?sslmode=disable&seqshim.block_size=50&application_name=a%20b&seqshim.allow=public.a%2Cb",
			"postgresql://u:p%40ss@h:5433/db?sslmode=disable&application_name=a%20b",
			map[string]string{"block_size": "50", "allow": "public.a,b"}},
		{"host=h dbname=test seqshim.store=memory:// sslmode=disable", "host=h dbname=test sslmode=disable", map[string]string{"store": "memory://"}},
		{"host=h password='a b\\'c' seqshim.namespace='x y'", "host=h password='a b\\'c'", map[string]string{"namespace": "x y"}},
		{"", "", map[string]string{}},
	}
	for _, tc := range tests {
		rest, params, err := splitDSN(tc.dsn)
		if err != nil {
			t.Fatalf("splitDSN(%q): %v", tc.dsn, err)
		}
		if rest != tc.rest || !maps.Equal(params, tc.params) {
			t.Errorf("splitDSN(%q) = %q, %v; want %q, %v", tc.dsn, rest, params, tc.rest, tc.params)
		}
	}
	if _, _, err := splitDSN("host=h seqshim.store='memory://"); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestResolveConfig(t *testing.T) {
	env := map[string]string{"SEQSHIM_BLOCK_SIZE": "200", "SEQSHIM_SCHEMA": "app", "SEQSHIM_ORACLE": "true"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := DefaultConfig().resolve(map[string]string{"block_size": "300", "deny": "audit_*, x.*", "fetch_timeout": "2s"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BlockSize != 300 || cfg.Schema != "app" || !cfg.Oracle || cfg.FetchTimeout != 2*time.Second ||
		cfg.Store != "dynamodb://seqshim_sequences" || !cfg.NextValueFor || len(cfg.Deny) != 2 {
		t.Fatalf("resolved %+v", cfg)
	}
	for key, want := range map[string]bool{"app.orders": true, "app.audit_log": false, "x.y": false, "public.audit_log": true} {
		if got := cfg.managed(key); got != want {
			t.Errorf("managed(%s) = %v, want %v", key, got, want)
		}
	}
	cfg.Allow = []string{"public.*"}
	if cfg.managed("app.orders") || !cfg.managed("public.orders") {
		t.Error("allow list not applied")
	}
}

func TestBadConfig(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	tests := []struct {
		params map[string]string
		env    string
		key    string
		text   string
	}{
		{map[string]string{"block_size": "0"}, "", "seqshim.block_size", "an integer from 1"},
		{map[string]string{"block_size": "x"}, "", "seqshim.block_size", `"x"`},
		{map[string]string{"store": "redis://x"}, "", "seqshim.store", "dynamodb://TABLE or memory://"},
		{map[string]string{"blok_size": "5"}, "", "seqshim.blok_size", "seqshim.block_size"},
		{map[string]string{"oracle": "maybe"}, "", "seqshim.oracle", "true or false"},
		{map[string]string{"allow": "a[b"}, "", "seqshim.allow", "patterns"},
		{map[string]string{"block_size": "100", "max_block_size": "50"}, "", "seqshim.max_block_size", "at least"},
		{nil, "SEQSHIM_FETCH_TIMEOUT", "seqshim.fetch_timeout", "SEQSHIM_FETCH_TIMEOUT"},
	}
	for _, tc := range tests {
		lookup := none
		if tc.env != "" {
			lookup = func(k string) (string, bool) { return "soon", k == tc.env }
		}
		_, err := DefaultConfig().resolve(tc.params, lookup)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("resolve(%v, %s) = %v; want a ConfigError on %s mentioning %q", tc.params, tc.env, err, tc.key, tc.text)
		}
	}
}
