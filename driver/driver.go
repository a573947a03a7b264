package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/seqshim/seqshim/internal/storeurl"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// seqshim is the driver registered as "seqshim". Its caches are shared by
// every sql.DB opened with it or through NewConnector.
var seqshim = New(stdlib.GetDefaultDriver(), DefaultConfig())

func init() {
	sql.Register("seqshim", seqshim)
}

// Register registers base, wrapped by seqshim with defaults cfg, under
// name. Like sql.Register it panics when name is taken.
func Register(name string, base driver.Driver, cfg Config) {
	sql.Register(name, New(base, cfg))
}

// Driver wraps a database/sql driver (pgx's stdlib driver for "seqshim")
// so that sequence calls are answered from a seqcache.Cache. Its defaults
// are overridden by the environment and the DSN of each sql.Open.
type Driver struct {
	base      driver.Driver
	defaults  Config
	lookupEnv func(string) (string, bool)
	dialect   rewrite.Dialect
	// caches is the driver whose cache registry this one uses: the
	// "seqshim-mysql" driver shares the caches of "seqshim", so that a
	// process has one cache per store whichever driver opens it.
	caches *Driver

	mu     sync.Mutex
	shared map[string]*shared // one cache per process and store
}

// New returns a Driver wrapping base.
func New(base driver.Driver, defaults Config) *Driver {
	return &Driver{base: base, defaults: defaults, lookupEnv: os.LookupEnv, shared: make(map[string]*shared)}
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// Open implements driver.Driver; database/sql uses OpenConnector instead.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector implements driver.DriverContext: it takes the seqshim
// parameters out of dsn, checks the configuration, and opens the base
// driver's connector with the rest.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	rest, params, err := d.splitDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := d.defaults.resolve(params, d.lookupEnv)
	if err != nil {
		return nil, err
	}
	if cfg, err = d.dialectConfig(cfg, rest); err != nil {
		return nil, err
	}
	var base driver.Connector
	if dc, ok := d.base.(driver.DriverContext); ok {
		if base, err = dc.OpenConnector(rest); err != nil {
			return nil, err
		}
	} else {
		base = dsnConnector{dsn: rest, d: d.base}
	}
	return d.connector(base, cfg)
}

// NewConnector wraps any connector, such as stdlib.GetConnector(cfg), so
// that sql.OpenDB works: db := sql.OpenDB(driver.NewConnector(c, cfg)).
// cfg is used as given, without the environment. The cache of cfg's store
// is the one the "seqshim" driver shares with every sql.DB in the process.
func NewConnector(base driver.Connector, cfg Config) (driver.Connector, error) {
	cfg, err := cfg.resolve(nil, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	return seqshim.connector(base, cfg)
}

func (d *Driver) connector(base driver.Connector, cfg Config) (*Connector, error) {
	sh, err := d.registry().acquire(cfg)
	if err != nil {
		return nil, err
	}
	c := &Connector{base: base, driver: d, shared: sh, cfg: cfg, catalog: newCatalog(cfg.PlanCache), resolver: newResolver(cfg.PlanCache),
		my: newMyCatalog(cfg.PlanCache)}
	c.planner = rewrite.NewPlanner(c.plannerOptions(cfg.Schema))
	return c, nil
}

// plannerOptions are the planner's options. For PostgreSQL, unqualified
// names stay unqualified: each connection resolves them in its
// search_path when the statement runs. For MySQL they are in schema, the
// session's database.
func (c *Connector) plannerOptions(schema string) rewrite.Options {
	o := rewrite.Options{
		DefaultSchema:  rewrite.SearchPath,
		Oracle:         c.cfg.Oracle,
		NoNextValueFor: !c.cfg.NextValueFor,
		Managed:        c.manages,
		CacheSize:      c.cfg.PlanCache,
		Dialect:        c.driver.dialect,
	}
	if c.driver.dialect == rewrite.MySQL {
		o.DefaultSchema = schema
		o.Managed = func(n rewrite.Name) bool { return c.cfg.managed(n.Key()) }
	}
	return o
}

// registry returns the driver that holds the caches d uses.
func (d *Driver) registry() *Driver {
	if d.caches != nil {
		return d.caches
	}
	return d
}

// dsnConnector adapts a driver without DriverContext.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// shared is the cache of one store, used by every connector on it.
type shared struct {
	key   string
	store seqcache.Store // the store behind the cache
	cache *seqcache.Cache
	refs  int
}

// cacheKey says when two configurations can share a cache: same store,
// namespace and cache tuning.
func cacheKey(cfg Config) string {
	return fmt.Sprintf("%s|%s|%d|%d|%s|%s|%s|%g|%s", cfg.Store, url.PathEscape(cfg.Namespace), cfg.BlockSize, cfg.MaxBlockSize,
		cfg.FetchTimeout, cfg.BlockLifetime, cfg.OutageCover, cfg.MaxHeldShare, cfg.AttemptTimeout)
}

func (d *Driver) acquire(cfg Config) (*shared, error) {
	key := cacheKey(cfg)
	d.mu.Lock()
	defer d.mu.Unlock()
	if sh, ok := d.shared[key]; ok {
		sh.refs++
		return sh, nil
	}
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	sh := &shared{key: key, refs: 1, store: store, cache: seqcache.NewCache(store, cacheConfig(cfg))}
	d.shared[key] = sh
	return sh, nil
}

// cacheConfig maps the driver's configuration to the cache's, whose zero
// values mean "default": here 0 means none (no growth, no cover).
func cacheConfig(cfg Config) seqcache.Config {
	c := seqcache.Config{
		BlockSize:      cfg.BlockSize,
		MaxBlockSize:   cfg.MaxBlockSize,
		BlockLifetime:  cfg.BlockLifetime,
		OutageCover:    cfg.OutageCover,
		MaxHeldShare:   cfg.MaxHeldShare,
		AttemptTimeout: cfg.AttemptTimeout,
		FetchTimeout:   cfg.FetchTimeout,
		Logger:         slog.Default(),
	}
	if c.MaxBlockSize == 0 {
		c.MaxBlockSize = max(cfg.BlockSize, 1)
	}
	if c.OutageCover == 0 {
		c.OutageCover = -1
	}
	return c
}

// release drops one reference; the last one closes the cache, giving its
// unused values back to the store.
func (d *Driver) release(sh *shared) error {
	d.mu.Lock()
	sh.refs--
	last := sh.refs == 0
	if last {
		delete(d.shared, sh.key)
	}
	d.mu.Unlock()
	if !last {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sh.cache.Close(ctx)
	// A store that holds resources of its own (a seqshim:// client's
	// connections and probes) goes with its last cache.
	if c, ok := sh.store.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// openStore opens cfg's store. A memory store is new here, so shared by
// the connectors with the same cacheKey only.
func openStore(cfg Config) (seqcache.Store, error) {
	u, err := storeurl.Parse(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("seqshim: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return storeurl.Open(ctx, u, storeurl.Options{Namespace: cfg.Namespace})
}

// Connector is a driver.Connector whose connections answer sequence calls
// from the shared cache. Closing it (sql.DB.Close does) releases the cache.
type Connector struct {
	base     driver.Connector
	driver   *Driver
	shared   *shared
	cfg      Config
	planner  *rewrite.Planner
	catalog  *catalog
	resolver *resolver
	my       *myCatalog // the MySQL dialect's tables and derived plans

	importOnce sync.Once
	importDB   *sql.DB // plain connections to the base driver, for lazy import

	closeOnce sync.Once
	closeErr  error
}

var _ io.Closer = (*Connector)(nil)

// Connect implements driver.Connector.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if c.driver.dialect == rewrite.MySQL {
		return newMyConn(c, inner), nil
	}
	return newConn(c, inner), nil
}

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return c.driver }

// Close releases the shared cache and closes the base connector if it is
// an io.Closer.
func (c *Connector) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		if c.importDB != nil {
			errs = append(errs, c.importDB.Close())
		}
		if cl, ok := c.base.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
		errs = append(errs, c.driver.registry().release(c.shared))
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// Cache returns the cache answering this connector's sequence calls.
func (c *Connector) Cache() *seqcache.Cache { return c.shared.cache }

// lazyImport imports the sequence with store key from PostgreSQL, on
// connections of its own: the caller's may be inside a transaction.
func (c *Connector) lazyImport(ctx context.Context, key string) error {
	_, err := migrate.ImportOne(ctx, c.importer(), c.shared.store, key, migrate.Options{
		Gap:    c.importGap(),
		Schema: c.cfg.Schema,
		Logger: slog.Default(),
	})
	return err
}

// importer returns the connections imports use: plain ones to the base
// driver, since the caller's may be inside a transaction.
func (c *Connector) importer() *sql.DB {
	c.importOnce.Do(func() {
		c.importDB = sql.OpenDB(unclosable{c.base})
		c.importDB.SetMaxOpenConns(2)
	})
	return c.importDB
}

// importGap is seqshim.import_gap as migrate takes it.
func (c *Connector) importGap() int64 {
	if c.cfg.ImportGap == 0 {
		return migrate.ExactHandover
	}
	return c.cfg.ImportGap
}

// unclosable keeps the import DB's Close from closing the base connector,
// which the Connector closes itself.
type unclosable struct{ driver.Connector }
