package faultproxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqshim/seqshim/internal/faultproxy"
)

func TestFaults(t *testing.T) {
	var applied atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	p, err := faultproxy.Start(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	get := func() (string, error) {
		resp, err := client.Post(p.URL(), "text/plain", strings.NewReader("x"))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.Status + " " + string(b), err
	}
	if got, err := get(); err != nil || got != "200 OK ok" {
		t.Fatalf("no fault: %q, %v", got, err)
	}
	p.Set(faultproxy.Fault{Latency: 100 * time.Millisecond})
	start := time.Now()
	if _, err := get(); err != nil || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("latency: %v after %v", err, time.Since(start))
	}
	p.Set(faultproxy.Fault{Throttle: faultproxy.Throttling})
	if got, err := get(); err != nil || !strings.Contains(got, "400") || !strings.Contains(got, "#ThrottlingException") {
		t.Fatalf("throttle: %q, %v", got, err)
	}
	p.Set(faultproxy.Fault{Reset: true})
	before := applied.Load()
	if _, err := get(); err == nil || applied.Load() != before {
		t.Fatal("reset: request answered or applied")
	}
	p.Set(faultproxy.Fault{LoseReply: true})
	if _, err := get(); err == nil || applied.Load() != before+1 || p.Lost() != 1 {
		t.Fatalf("lost reply: %v, applied %d (want %d), lost %d", err, applied.Load(), before+1, p.Lost())
	}
	p.Set(faultproxy.Fault{Blackhole: true})
	client.Timeout = 200 * time.Millisecond
	if _, err := get(); err == nil || applied.Load() != before+1 || p.Held() != 1 {
		t.Fatalf("blackhole: %v, applied %d", err, applied.Load())
	}
	p.Set(faultproxy.Fault{})
	if got, err := get(); err != nil || got != "200 OK ok" {
		t.Fatalf("after the faults: %q, %v", got, err)
	}
}
