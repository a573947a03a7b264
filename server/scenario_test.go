package server_test

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server"
	"github.com/seqshim/seqshim/server/remote"
)

// TestProcessesKillAndStop: 4 client processes × 4 goroutines insert
// through 3 servers; one server is SIGKILLed mid-load (no journal: its
// block is a gap) and another SIGSTOPped for 1.5 s, then SIGCONTed.
func TestProcessesKillAndStop(t *testing.T) {
	f := newFixture(t)
	s := []*proc{startServer(t, "127.0.0.1:0", "-block-size", "2000"),
		startServer(t, "127.0.0.1:0", "-block-size", "2000"),
		startServer(t, "127.0.0.1:0", "-block-size", "2000")}
	wait := f.clients(t, 4, clientConfig{URL: urlOf(s...), Goroutines: 4, PerGoroutine: 4000, Duration: 6 * time.Second, BlockSize: 20})
	time.Sleep(1500 * time.Millisecond)
	s[0].kill()
	time.Sleep(time.Second)
	s[1].signal(syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	s[1].signal(syscall.SIGCONT)
	reps := wait()
	s[1].stop()
	s[2].stop()
	f.check(t, reps)
}

// TestProcessesRestart: the only server is SIGKILLed mid-load and
// restarted at once; the clients ride it out without error. Without a
// journal the block the server held is lost; with one, the restarted
// server continues inside it, and only what the clients held is lost.
func TestProcessesRestart(t *testing.T) {
	const clients, block = 3, 20
	lost := map[bool]int64{}
	for _, journal := range []bool{false, true} {
		t.Run(map[bool]string{false: "NoJournal", true: "Journal"}[journal], func(t *testing.T) {
			f := newFixture(t)
			args := []string{"-block-size", "5000"}
			if journal {
				args = append(args, "-journal", filepath.Join(t.TempDir(), "journal.db"))
			}
			s := startServer(t, "127.0.0.1:0", args...)
			wait := f.clients(t, clients, clientConfig{URL: urlOf(s), Goroutines: 3, PerGoroutine: 4000, Duration: 4 * time.Second, BlockSize: block})
			time.Sleep(1500 * time.Millisecond)
			s.kill()
			s = startServer(t, s.addr, args...)
			reps := wait()
			recovered := s.metric("seqshim_server_journal_recovered_values_total")
			s.stop() // gives back what it safely can
			f.check(t, reps)
			lost[journal] = f.lost(t)
			t.Logf("values lost to one server SIGKILL and the clients' final stops: %d; %v served from the journal", lost[journal], recovered)
			if journal != (recovered > 0) {
				t.Fatalf("journal %v, %v values served from it", journal, recovered)
			}
		})
	}
	// Without a journal the kill loses all the server held (its blocks and
	// its outage cover); with one, the restart serves them.
	if lost[true]*10 > lost[false] {
		t.Fatalf("with a journal %d values lost, without %d: want at least 10x fewer", lost[true], lost[false])
	}
}

// TestProcessesFallback: the only server is killed; clients with a
// fallback reserve from DynamoDB directly, then return to the restarted
// server.
func TestProcessesFallback(t *testing.T) {
	f := newFixture(t)
	s := startServer(t, "127.0.0.1:0", "-block-size", "2000")
	wait := f.clients(t, 2, clientConfig{URL: urlOf(s), Goroutines: 3, PerGoroutine: 3000, Duration: 5 * time.Second, BlockSize: 20, Fallback: true})
	time.Sleep(1500 * time.Millisecond)
	s.kill()
	time.Sleep(1500 * time.Millisecond)
	s = startServer(t, s.addr, "-block-size", "2000")
	reps := wait()
	s.stop()
	f.check(t, reps)
	var fb int64
	for _, r := range reps {
		fb += r.Fallbacks
	}
	if fb == 0 {
		t.Fatal("no reservation went to the fallback while the server was down")
	}
}

// TestProcessRefusals: against a server with TLS and tokens: a missing,
// wrong or other-namespace token, a plaintext client, an unknown
// sequence, and a request for more values than the sequence has left.
func TestProcessRefusals(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	server.WriteTestPKI(t, dir)
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("good-token "+f.ns+"\nother-token elsewhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "127.0.0.1:0", "-tls-cert", filepath.Join(dir, "server.pem"),
		"-tls-key", filepath.Join(dir, "server.key"), "-tokens", tokens)
	secure := urlOf(s) + "?ca=" + filepath.Join(dir, "ca.pem")
	dial := func(url, token string) *remote.Store {
		c, err := remote.Dial(url, remote.Options{Namespace: f.ns, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Setenv(remote.DefaultTokenEnv, "")
	for name, c := range map[string]struct {
		client *remote.Store
		code   string
	}{
		"missing token": {dial(secure, ""), remote.CodeInvalidAuthorization},
		"wrong token":   {dial(secure, "bad-token"), remote.CodeInvalidAuthorization},
		"other token":   {dial(secure, "other-token"), remote.CodeInsufficientPrivilege},
		"plaintext":     {dial(urlOf(s)+"?retry_for=300ms", "good-token"), seqcache.CodeConnectionFailure},
	} {
		if _, err := c.client.Reserve(t.Context(), f.seq, 1); seqcache.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want SQLSTATE %s", name, err, c.code)
		}
	}
	if got := s.metric(`seqshim_server_refused_total{reason="invalid"}`); got != 1 {
		t.Errorf("invalid-token refusals counted %v, want 1", got)
	}
	if sq, _ := f.store.Get(t.Context(), f.seq); sq.Next != 1 {
		t.Fatalf("refused calls moved the sequence to %d", sq.Next)
	}

	good := dial(secure, "good-token")
	_, err := good.Reserve(t.Context(), "public.nosuch", 1)
	var e *seqcache.Error
	if !errors.Is(err, seqcache.ErrUnknownSequence) || !errors.As(err, &e) || e.Sequence != "public.nosuch" {
		t.Fatalf("unknown sequence: %v, want 42P01 naming it", err)
	}
	bounded, _ := seqcache.Define(f.seq+"_b", seqcache.MaxValue(100))
	if err := good.Create(t.Context(), bounded); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Drop(t.Context(), bounded.Name) })
	// Asking 1000 at a time, the client gets the 100 values in order (in
	// blocks as the server's cache holds them), then 2200H.
	next := int64(1)
	for {
		b, err := good.Reserve(t.Context(), bounded.Name, 1000)
		if errors.Is(err, seqcache.ErrLimitReached) {
			break
		}
		if err != nil || b.First != next || b.Count < 1 {
			t.Fatalf("Reserve(1000) at %d: %+v, %v", next, b, err)
		}
		next = b.End()
	}
	if next != 101 {
		t.Fatalf("2200H after %d values, want 100", next-1)
	}
	if sq, _ := f.store.Get(t.Context(), bounded.Name); !sq.Exhausted {
		t.Fatalf("DynamoDB: %+v, want exhausted", sq)
	}
	s.stop()
}

// TestProcessDriver: the driver with seqshim.store=seqshim://... answers
// nextval from blocks a server process hands out.
func TestProcessDriver(t *testing.T) {
	f := newFixture(t)
	pgSeq := f.pgTable + "_id_seq"
	if _, err := f.db.Exec("CREATE SEQUENCE " + pgSeq); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Exec("DROP SEQUENCE IF EXISTS " + pgSeq) })
	s := startServer(t, "127.0.0.1:0")
	sep := "?"
	if strings.Contains(f.pgURL, "?") {
		sep = "&"
	}
	dsn := f.pgURL + sep + "seqshim.store=" + url.QueryEscape(urlOf(s)) + "&seqshim.namespace=" + f.ns + "&seqshim.block_size=10"
	db, err := sql.Open("seqshim", dsn)
	if err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 12; want++ {
		var got int64
		if err := db.QueryRow("SELECT nextval('" + pgSeq + "')").Scan(&got); err != nil || got != want {
			t.Fatalf("nextval = %d, %v; want %d", got, err, want)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.metric("seqshim_server_values_total"); got < 12 {
		t.Fatalf("the server handed out %v values, want the 12 at least", got)
	}
	s.stop()
}
