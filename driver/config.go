package driver

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqshim/seqshim/internal/selector"
	"github.com/seqshim/seqshim/internal/storeurl"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// Config is seqshim's configuration of one sql.DB. Each key is read from
// the DSN query parameter seqshim.<key>, over the environment variable
// SEQSHIM_<KEY>, over the default.
type Config struct {
	// Store is where sequences live: "dynamodb://TABLE" (AWS configuration
	// from the standard chain) or "memory://" (in process memory, kept while
	// a sql.DB uses it: for tests).
	Store string
	// Namespace prefixes every key in the store, so that one table can
	// serve many databases.
	Namespace string
	// BlockSize is the values one reservation asks for when a sequence's
	// CACHE is 1.
	BlockSize int64
	// MaxBlockSize bounds the blocks of hot sequences, sized by demand to
	// last BlockLifetime (see seqcache.Config.MaxBlockSize); 0 keeps every
	// block at BlockSize.
	MaxBlockSize int64
	// BlockLifetime is how long a block should last at a sequence's rate:
	// the bound on disorder across processes.
	BlockLifetime time.Duration
	// OutageCover is how long a store outage is covered by values reserved
	// in advance and kept apart; 0 disables the cover.
	OutageCover time.Duration
	// MaxHeldShare caps what a process holds of a sequence without CYCLE
	// (what a crash can lose) as a share of the values left to its limit.
	MaxHeldShare float64
	// AttemptTimeout bounds one store request of a background reservation:
	// a store without an answer by then counts as unreachable.
	AttemptTimeout time.Duration
	// Schema is the schema of unqualified sequence names.
	Schema string
	// Oracle recognises s.NEXTVAL and s.CURRVAL.
	Oracle bool
	// NextValueFor recognises NEXT VALUE FOR s.
	NextValueFor bool
	// Allow, when not empty, limits the managed sequences to those matching
	// one of its patterns (path.Match on "schema.name"); Deny excludes
	// sequences from management. Unmanaged sequences stay in PostgreSQL.
	Allow, Deny []string
	// PlanCache is the number of distinct SQL texts whose plans are kept.
	PlanCache int
	// FetchTimeout bounds one background block reservation.
	FetchTimeout time.Duration
	// LazyImport imports a managed sequence the store does not have from
	// PostgreSQL on its first use (see package migrate), capping the
	// database's own sequence ImportGap values further on.
	LazyImport bool
	// ImportGap is the values left to instances still on native sequences;
	// 0 is an exact handover (see migrate.ExactHandover).
	ImportGap int64
}

// DefaultConfig is the configuration when nothing is set.
func DefaultConfig() Config {
	return Config{
		Store:     storeurl.Default,
		BlockSize: 1000,
		// Runway: see seqcache.Config and the README for the reasons.
		MaxBlockSize:   seqcache.DefaultMaxBlockSize,
		BlockLifetime:  seqcache.DefaultBlockLifetime,
		OutageCover:    seqcache.DefaultOutageCover,
		MaxHeldShare:   seqcache.DefaultMaxHeldShare,
		AttemptTimeout: seqcache.DefaultAttemptTimeout,
		Schema:         rewrite.DefaultSchema,
		NextValueFor:   true,
		PlanCache:      1024,
		FetchTimeout:   10 * time.Second,
		LazyImport:     true,
		ImportGap:      migrate.DefaultGap,
	}
}

// key is one configuration key: its name and how to set it.
type key struct {
	name, accepted string
	set            func(c *Config, v string) error
}

var keys = []key{
	{"store", storeurl.Forms, func(c *Config, v string) error {
		if _, err := storeurl.Parse(v); err != nil {
			return err
		}
		c.Store = v
		return nil
	}},
	{"namespace", "any string without '/'", func(c *Config, v string) error {
		if strings.Contains(v, "/") {
			return fmt.Errorf("namespace %q contains '/'", v)
		}
		c.Namespace = v
		return nil
	}},
	{"block_size", "an integer from 1 to 10000000", intKey(func(c *Config) *int64 { return &c.BlockSize }, 1)},
	{"max_block_size", "0 (blocks stay at block_size) or an integer up to 10000000", intKey(func(c *Config) *int64 { return &c.MaxBlockSize }, 0)},
	{"schema", "a schema name", func(c *Config, v string) error {
		if v == "" {
			return fmt.Errorf("empty schema")
		}
		c.Schema = v
		return nil
	}},
	{"oracle", "true or false", boolKey(func(c *Config) *bool { return &c.Oracle })},
	{"next_value_for", "true or false", boolKey(func(c *Config) *bool { return &c.NextValueFor })},
	{"allow", "comma-separated patterns such as public.orders_* ", listKey(func(c *Config) *[]string { return &c.Allow })},
	{"deny", "comma-separated patterns such as audit.*", listKey(func(c *Config) *[]string { return &c.Deny })},
	{"plan_cache", "an integer from 1 to 10000000", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000_000 {
			return fmt.Errorf("bad number %q", v)
		}
		c.PlanCache = n
		return nil
	}},
	{"lazy_import", "true or false", boolKey(func(c *Config) *bool { return &c.LazyImport })},
	{"import_gap", "0 (exact handover) or an integer up to 1000000000000", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1_000_000_000_000 {
			return fmt.Errorf("bad number %q", v)
		}
		c.ImportGap = n
		return nil
	}},
	{"fetch_timeout", "a Go duration such as 5s", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("bad duration %q", v)
		}
		c.FetchTimeout = d
		return nil
	}},
	{"block_lifetime", "a Go duration from 10ms to 1h", durationKey(func(c *Config) *time.Duration { return &c.BlockLifetime }, 10*time.Millisecond)},
	{"outage_cover", "0 (no cover) or a Go duration up to 24h such as 5m", durationKey(func(c *Config) *time.Duration { return &c.OutageCover }, 0)},
	{"attempt_timeout", "a Go duration from 10ms to 1h", durationKey(func(c *Config) *time.Duration { return &c.AttemptTimeout }, 10*time.Millisecond)},
	{"max_held_share", "a number above 0 and at most 1 (no cap)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return fmt.Errorf("bad share %q", v)
		}
		c.MaxHeldShare = f
		return nil
	}},
}

func durationKey(field func(*Config) *time.Duration, least time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < least || d > 24*time.Hour {
			return fmt.Errorf("bad duration %q", v)
		}
		*field(c) = d
		return nil
	}
}

func intKey(field func(*Config) *int64, least int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < least || n > 10_000_000 {
			return fmt.Errorf("bad number %q", v)
		}
		*field(c) = n
		return nil
	}
}

func boolKey(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("bad boolean %q", v)
		}
		*field(c) = b
		return nil
	}
}

func listKey(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		list := selector.Split(v)
		if err := (selector.Selector{Allow: list}).Validate(); err != nil {
			return err
		}
		*field(c) = list
		return nil
	}
}

// ConfigError is a bad configuration value, reported when a DB is opened.
type ConfigError struct {
	Key      string // e.g. "seqshim.block_size"
	Source   string // "DSN" or the environment variable
	Value    string
	Accepted string
	Err      error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("seqshim: bad %s %q (from %s): %v; accepted: %s", e.Key, e.Value, e.Source, e.Err, e.Accepted)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// resolve applies the environment, then the DSN parameters, over c.
// params holds the seqshim.<key> parameters taken out of the DSN.
func (c Config) resolve(params map[string]string, lookupEnv func(string) (string, bool)) (Config, error) {
	known := make(map[string]bool, len(keys))
	cover := c.OutageCover
	for _, k := range keys {
		known[k.name] = true
		env := "SEQSHIM_" + strings.ToUpper(k.name)
		if v, ok := lookupEnv(env); ok {
			if err := k.set(&c, v); err != nil {
				return c, &ConfigError{Key: "seqshim." + k.name, Source: env, Value: v, Accepted: k.accepted, Err: err}
			}
			if k.name == "outage_cover" {
				cover = -1 // set: not a default any more
			}
		}
	}
	if _, ok := params["outage_cover"]; ok {
		cover = -1
	}
	for name, v := range params {
		if !known[name] {
			var names []string
			for _, k := range keys {
				names = append(names, "seqshim."+k.name)
			}
			return c, &ConfigError{Key: "seqshim." + name, Source: "DSN", Value: v,
				Accepted: strings.Join(names, ", "), Err: fmt.Errorf("unknown key")}
		}
	}
	for _, k := range keys {
		if v, ok := params[k.name]; ok {
			if err := k.set(&c, v); err != nil {
				return c, &ConfigError{Key: "seqshim." + k.name, Source: "DSN", Value: v, Accepted: k.accepted, Err: err}
			}
		}
	}
	if cover == seqcache.DefaultOutageCover {
		c.OutageCover = defaultCover(c.Store)
	}
	return c, c.check()
}

// ServerTierCover is the default outage_cover of a process whose store is
// a seqshim server tier (seqshim://): the servers keep the long cover, in
// a few processes that rarely restart, and a client fails over to another
// server in about a second, so it holds a few seconds of values, which is
// also all a crash of it can lose.
const ServerTierCover = 5 * time.Second

// defaultCover is the default outage_cover for a store URL.
func defaultCover(store string) time.Duration {
	if u, err := storeurl.Parse(store); err == nil && u.Scheme == storeurl.Seqshim {
		return ServerTierCover
	}
	return seqcache.DefaultOutageCover
}

// check reports what no single key can: values set in the Config itself
// (NewConnector, Register), which are checked as those from the DSN and the
// environment are, and keys that depend on each other.
func (c Config) check() error {
	if _, err := storeurl.Parse(c.Store); err != nil {
		return &ConfigError{Key: "seqshim.store", Source: "Config", Value: c.Store, Accepted: storeurl.Forms, Err: err}
	}
	for _, k := range []struct {
		name string
		list []string
	}{{"allow", c.Allow}, {"deny", c.Deny}} {
		if err := (selector.Selector{Allow: k.list}).Validate(); err != nil {
			return &ConfigError{Key: "seqshim." + k.name, Source: "Config", Value: strings.Join(k.list, ","),
				Accepted: "path.Match patterns", Err: err}
		}
	}
	if c.MaxBlockSize != 0 && c.MaxBlockSize < c.BlockSize {
		return &ConfigError{Key: "seqshim.max_block_size", Source: "DSN or environment",
			Value: strconv.FormatInt(c.MaxBlockSize, 10), Accepted: "0 or at least seqshim.block_size",
			Err: fmt.Errorf("smaller than block_size %d", c.BlockSize)}
	}
	return nil
}

// managed reports whether the sequence with store key "schema.name" is
// answered by seqshim.
func (c *Config) managed(key string) bool {
	return selector.Selector{Schema: c.Schema, Allow: c.Allow, Deny: c.Deny}.Match(key)
}

// selective reports whether allow or deny patterns are set: without them
// seqshim manages every sequence.
func (c *Config) selective() bool { return len(c.Allow) > 0 || len(c.Deny) > 0 }
