package driver

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRunwayConfig(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	def, err := DefaultConfig().resolve(nil, none)
	if err != nil {
		t.Fatal(err)
	}
	if c := cacheConfig(def); c.OutageCover != time.Minute || c.BlockLifetime != 2*time.Second ||
		c.AttemptTimeout != time.Second || c.MaxHeldShare != 0.01 || c.MaxBlockSize != 10_000_000 {
		t.Fatalf("defaults give %+v", c)
	}
	cfg, err := DefaultConfig().resolve(map[string]string{
		"outage_cover": "0", "block_lifetime": "500ms", "attempt_timeout": "250ms", "max_held_share": "0.5", "max_block_size": "0",
	}, none)
	if err != nil {
		t.Fatal(err)
	}
	c := cacheConfig(cfg)
	if c.OutageCover >= 0 || c.BlockLifetime != 500*time.Millisecond || c.AttemptTimeout != 250*time.Millisecond ||
		c.MaxHeldShare != 0.5 || c.MaxBlockSize != cfg.BlockSize {
		t.Fatalf("outage_cover=0 must disable the cover and max_block_size=0 keep blocks fixed: %+v", c)
	}
	if cacheKey(cfg) == cacheKey(def) {
		t.Fatal("configurations with different runways share a cache")
	}
	for params, text := range map[string]string{
		"outage_cover":    "5 minutes",
		"max_held_share":  "1.5",
		"attempt_timeout": "1ms",
		"block_lifetime":  "-1s",
	} {
		_, err := DefaultConfig().resolve(map[string]string{params: text}, none)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != "seqshim."+params || !strings.Contains(err.Error(), "accepted") {
			t.Errorf("%s=%s: %v, want a ConfigError on that key", params, text, err)
		}
	}
}

// TestServerTierCover: behind seqshim servers the default cover is the
// client's few seconds (the servers hold the long one); a cover set in the
// DSN or the environment is kept as set.
func TestServerTierCover(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	const servers = "seqshim://127.0.0.1:7070,127.0.0.1:7071"
	for _, tc := range []struct {
		params map[string]string
		env    map[string]string
		want   time.Duration
	}{
		{map[string]string{"store": servers}, nil, ServerTierCover},
		{nil, map[string]string{"SEQSHIM_STORE": servers}, ServerTierCover},
		{map[string]string{"store": servers, "outage_cover": "1m"}, nil, time.Minute},
		{map[string]string{"store": servers}, map[string]string{"SEQSHIM_OUTAGE_COVER": "1m"}, time.Minute},
		{map[string]string{"store": "dynamodb://t"}, nil, time.Minute},
		{map[string]string{"store": "memory://"}, nil, time.Minute},
	} {
		lookup := none
		if tc.env != nil {
			lookup = func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		}
		cfg, err := DefaultConfig().resolve(tc.params, lookup)
		if err != nil {
			t.Fatalf("resolve(%v, %v): %v", tc.params, tc.env, err)
		}
		if cfg.OutageCover != tc.want {
			t.Errorf("resolve(%v, %v): outage_cover %v, want %v", tc.params, tc.env, cfg.OutageCover, tc.want)
		}
	}
}

// TestReleaseClosesStore: the last release of a cache closes a store that
// holds resources of its own (a seqshim:// client's connections), so that
// closing every sql.DB leaves no connection or probe behind.
func TestReleaseClosesStore(t *testing.T) {
	d := New(nil, DefaultConfig())
	cfg := DefaultConfig()
	cfg.Store = "seqshim://127.0.0.1:1" // no server: Dial does not connect
	a, err := d.acquire(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.acquire(cfg)
	if err != nil || b != a {
		t.Fatalf("second acquire = %p, %v; want the shared %p", b, err, a)
	}
	st, ok := a.store.(io.Closer)
	if !ok {
		t.Fatalf("a seqshim:// store is %T, not an io.Closer", a.store)
	}
	if err := d.release(b); err != nil {
		t.Fatal(err)
	}
	if err := d.release(a); err != nil {
		t.Fatal(err)
	}
	// Closing again reports the connections closed by release.
	if err := st.Close(); err == nil || !strings.Contains(err.Error(), "closing") {
		t.Fatalf("Close after the last release = %v; want the connection already closing", err)
	}
}
