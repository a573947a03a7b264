package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

// TestServeHelp: every flag names its environment variable.
func TestServeHelp(t *testing.T) {
	code, _, stderr := runCLI(t, "serve", "-h")
	if code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	fs, _, err := serveFlags(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		env := "SEQSHIM_SERVE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !strings.Contains(stderr, "-"+f.Name) || !strings.Contains(f.Usage, "(env "+env+")") {
			t.Errorf("flag -%s: help or env %s missing", f.Name, env)
		}
	})
	if n < 16 {
		t.Fatalf("%d flags", n)
	}
}

// TestServeEnv: the environment sets a flag's default; a bad value is a
// usage error naming the variable.
func TestServeEnv(t *testing.T) {
	t.Setenv("SEQSHIM_SERVE_BLOCK_SIZE", "777")
	t.Setenv("SEQSHIM_SERVE_JOURNAL", "/tmp/j.db")
	_, c, err := serveFlags(io.Discard)
	if err != nil || c.blockSize != 777 || c.journal != "/tmp/j.db" {
		t.Fatalf("from the environment: %+v, %v", c, err)
	}
	t.Setenv("SEQSHIM_SERVE_STOP_TIMEOUT", "soon")
	wantRun(t, 2, []string{"SEQSHIM_SERVE_STOP_TIMEOUT"}, "serve")
}

// TestServeRuns: `seqshim serve` on a memory store answers a client and
// its metrics, and stops when its context ends (as on SIGTERM).
func TestServeRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0",
			"-store", "memory://", "-log-level", "error"}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	addrs := map[string]string{}
	for len(addrs) < 2 && lines.Scan() {
		if k, v, ok := strings.Cut(lines.Text(), " "); ok {
			addrs[k] = v
		}
	}
	go io.Copy(io.Discard, pr)
	c, err := remote.Dial("seqshim://"+addrs["listening"], remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spec, _ := seqcache.Define("public.s")
	if err := c.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Reserve(ctx, "public.s", 10); err != nil || b.First != 1 || b.Count != 10 {
		t.Fatalf("Reserve = %+v, %v", b, err)
	}
	resp, err := http.Get("http://" + addrs["metrics"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "seqshim_server_values_total 10") {
		t.Fatalf("metrics lack seqshim_server_values_total 10:\n%.2000s", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
