package seqcache_test

import (
	"testing"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/seqcache/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) seqcache.Store { return seqcache.NewMemoryStore() })
}
