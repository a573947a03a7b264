// Package faultproxy is an HTTP/1.1 proxy for tests that puts faults
// between a client (the AWS SDK) and its server (the DynamoDB endpoint):
// added latency, connection resets, a blackhole, throttling answers and
// replies lost after the server applied the request. Faults apply per
// request and can be changed at any time.
package faultproxy

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Throttling error codes DynamoDB answers with.
const (
	ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	Throttling                    = "ThrottlingException"
)

// Fault is what the proxy does to each request. The zero value forwards
// requests untouched.
type Fault struct {
	// Latency is added before each request is forwarded.
	Latency time.Duration
	// Blackhole holds requests without an answer; when the fault changes,
	// the connections of held requests are closed, the requests unsent.
	Blackhole bool
	// Reset closes the client's connection with a reset instead of
	// forwarding.
	Reset bool
	// Throttle, when set, answers 400 with this DynamoDB error code
	// (ProvisionedThroughputExceeded, Throttling) instead of forwarding.
	Throttle string
	// LoseReply forwards the request, reads the server's reply and resets
	// the client's connection instead of passing it on: the request was
	// applied, the client does not know. LoseRate does it with a
	// probability.
	LoseReply bool
	LoseRate  float64
}

// Proxy is a running fault proxy.
type Proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	fault    Fault
	changed  chan struct{} // closed when the fault changes
	schedule map[int64]bool
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup

	requests, lost, held atomic.Int64
}

// Start listens on a loopback port and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, changed: make(chan struct{}),
		schedule: make(map[int64]bool), conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// URL is the proxy's endpoint, "http://127.0.0.1:port".
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Set replaces the fault applied to requests from now on; held requests
// are released (their connections closed).
func (p *Proxy) Set(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	close(p.changed)
	p.changed = make(chan struct{})
}

// LoseNth loses the reply of the k-th request from now (1 is the next).
func (p *Proxy) LoseNth(ks ...int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := p.requests.Load()
	for _, k := range ks {
		p.schedule[base+k] = true
	}
}

// Requests is the number of requests received; Lost the replies lost;
// Held the requests held by a blackhole.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Lost is the number of replies lost.
func (p *Proxy) Lost() int64 { return p.lost.Load() }

// Held is the number of requests swallowed by a blackhole.
func (p *Proxy) Held() int64 { return p.held.Load() }

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Go(func() {
			defer p.untrack(c)
			p.serve(c)
		})
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// decide returns the fault for the next request, its number and whether
// its reply is scheduled to be lost.
func (p *Proxy) decide() (Fault, <-chan struct{}, bool) {
	k := p.requests.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	lose := p.schedule[k]
	delete(p.schedule, k)
	f := p.fault
	lose = lose || f.LoseReply || (f.LoseRate > 0 && rand.Float64() < f.LoseRate)
	return f, p.changed, lose
}

// serve relays the requests of one client connection over one server
// connection, dialed on the first request that is forwarded.
func (p *Proxy) serve(client net.Conn) {
	br := bufio.NewReader(client)
	var (
		server net.Conn
		sr     *bufio.Reader
	)
	defer func() {
		if server != nil {
			server.Close()
		}
	}()
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return
		}
		f, changed, lose := p.decide()
		switch {
		case f.Blackhole:
			p.held.Add(1)
			<-changed
			return
		case f.Reset:
			reset(client)
			return
		case f.Throttle != "":
			if throttle(client, f.Throttle) != nil {
				return
			}
			continue
		}
		time.Sleep(f.Latency)
		if server == nil {
			if server, err = net.DialTimeout("tcp", p.target, 5*time.Second); err != nil {
				reset(client)
				return
			}
			sr = bufio.NewReader(server)
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		if err := req.Write(server); err != nil {
			reset(client)
			return
		}
		resp, err := http.ReadResponse(sr, req)
		if err != nil {
			reset(client)
			return
		}
		rbody, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			reset(client)
			return
		}
		if lose {
			p.lost.Add(1)
			reset(client)
			return
		}
		resp.Body = io.NopCloser(strings.NewReader(string(rbody)))
		if err := resp.Write(client); err != nil {
			return
		}
	}
}

// reset closes c with a TCP reset rather than a clean close.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// throttle answers a request as DynamoDB does when it throttles.
func throttle(c net.Conn, code string) error {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"Rate of requests exceeds the allowed throughput."}`, code)
	_, err := fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: faultproxy\r\n"+
		"x-amz-crc32: %d\r\nContent-Length: %d\r\n\r\n%s", crc32.ChecksumIEEE([]byte(body)), len(body), body)
	return err
}
