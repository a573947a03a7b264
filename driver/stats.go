package driver

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/seqshim/seqshim/seqcache"
)

// CacheOf returns the cache that answers db's sequence calls, or an error
// when db is not opened with a seqshim driver.
func CacheOf(ctx context.Context, db *sql.DB) (*seqcache.Cache, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var cache *seqcache.Cache
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(interface{ Cache() *seqcache.Cache })
		if !ok {
			return fmt.Errorf("seqshim: %T is not a seqshim connection", dc)
		}
		cache = sc.Cache()
		return nil
	})
	return cache, err
}
