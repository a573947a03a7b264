package server

import (
	"sync"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/internal/wire"
)

// maxPooled bounds the blocks a sequence's pool keeps.
const maxPooled = 64

// pool holds values a server drew from its cache without handing them out
// (see Server.reserveAfter), per sequence, for the clients they are past.
type pool struct {
	mu     sync.Mutex
	blocks map[string][]seqcache.Block
}

// put adds b to the sequence's pool and returns the values dropped to
// keep the pool bounded.
func (p *pool) put(name string, b seqcache.Block) (dropped int64) {
	if b.Count <= 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blocks == nil {
		p.blocks = map[string][]seqcache.Block{}
	}
	bs := p.blocks[name]
	if n := len(bs); n > 0 && bs[n-1].Epoch == b.Epoch && bs[n-1].Increment == b.Increment && bs[n-1].End() == b.First {
		bs[n-1].Count += b.Count // drawn right after the last one: one block
	} else {
		bs = append(bs, b)
	}
	for len(bs) > maxPooled {
		dropped += bs[0].Count
		bs = bs[1:]
	}
	p.blocks[name] = bs
	return dropped
}

// take hands out up to n values of the pool past after (any, when after
// is nil), from the first block that has some.
func (p *pool) take(name string, n int64, after *seqcache.Block) (seqcache.Block, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	bs := p.blocks[name]
	for i, b := range bs {
		var k int64 // leading values not past after
		if after != nil {
			switch {
			case b.Epoch < after.Epoch:
				continue
			case b.Epoch == after.Epoch:
				k = wire.NotPast(b, *after)
			}
		}
		if k >= b.Count {
			continue
		}
		out := b.Tail(k)
		out.Count = min(out.Count, n)
		var rest []seqcache.Block
		if k > 0 {
			rest = append(rest, head(b, k))
		}
		if left := b.Tail(k + out.Count); left.Count > 0 {
			rest = append(rest, left)
		}
		p.blocks[name] = append(bs[:i:i], append(rest, bs[i+1:]...)...)
		return out, true
	}
	return seqcache.Block{}, false
}

// forget empties the sequence's pool and returns the values dropped.
func (p *pool) forget(name string) (dropped int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.blocks[name] {
		dropped += b.Count
	}
	delete(p.blocks, name)
	return dropped
}

// head returns the first k values of b.
func head(b seqcache.Block, k int64) seqcache.Block {
	b.Count = k
	return b
}
