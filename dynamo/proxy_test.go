package dynamo_test

import (
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
)

// proxy is a TCP proxy in front of the DynamoDB endpoint that can lose
// responses: it forwards a request, lets DynamoDB apply it, reads the
// response and drops it, closing the client's connection with a reset.
// The SDK sees a broken connection and retries.
type proxy struct {
	addr   string
	target string

	mu       sync.Mutex
	schedule map[int64]bool // response numbers (from 1) to drop
	rate     float64        // or drop each response with this probability

	responses atomic.Int64
	dropped   atomic.Int64
}

func startProxy(t testing.TB) *proxy {
	t.Helper()
	u, err := url.Parse(testenv.DynamoEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: u.Host, schedule: map[int64]bool{}}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() { p.serve(c, s) })
		}
	})
	return p
}

// serve relays one client connection. A response is dropped as a whole:
// the decision is taken on its first bytes.
func (p *proxy) serve(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	var requested atomic.Bool
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				requested.Store(true)
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if requested.Swap(false) && p.drop() {
				if tc, ok := client.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // reset, not a clean close
				}
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) drop() bool {
	k := p.responses.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.schedule[k] || (p.rate > 0 && rand.Float64() < p.rate)
	delete(p.schedule, k)
	if d {
		p.dropped.Add(1)
	}
	return d
}

// dropNth drops the k-th response from now (1 is the next one).
func (p *proxy) dropNth(ks ...int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := p.responses.Load()
	for _, k := range ks {
		p.schedule[base+k] = true
	}
}

// dropNext drops the next response.
func (p *proxy) dropNext() { p.dropNth(1) }

func (p *proxy) setRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// option points a store's client at the proxy.
func (p *proxy) option() storeOpts {
	return func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(do *dynamodb.Options) {
			do.BaseEndpoint = aws.String("http://" + p.addr)
		})
	}
}
