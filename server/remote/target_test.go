package remote

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

func TestParseURL(t *testing.T) {
	got, err := ParseURL("seqshim://a:7070,b:7071/?ca=/ca.pem&token_file=/tok&fallback=dynamodb://seqs&attempt_timeout=2s&retry_for=3s&server_name=seqshim.internal")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Addrs: []string{"a:7070", "b:7071"}, TLS: true, CAFile: "/ca.pem", TokenFile: "/tok",
		Fallback: "dynamodb://seqs", AttemptTimeout: 2 * time.Second, RetryFor: 3 * time.Second, ServerName: "seqshim.internal"}
	if strings.Join(got.Addrs, ",") != "a:7070,b:7071" || got.TLS != want.TLS || got.CAFile != want.CAFile ||
		got.TokenFile != want.TokenFile || got.Fallback != want.Fallback || got.AttemptTimeout != want.AttemptTimeout ||
		got.RetryFor != want.RetryFor || got.ServerName != want.ServerName {
		t.Fatalf("ParseURL = %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		"dynamodb://t", "seqshim://", "seqshim://host", "seqshim://a:1?nope=1", "seqshim://a:1?tls=maybe",
		"seqshim://a:1?cert=/c", "seqshim://a:1?attempt_timeout=0s",
	} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// TestOpen: the fallback the URL names is opened with the opener's
// function and answers when no server does.
func TestOpen(t *testing.T) {
	mem := seqcache.NewMemoryStore()
	var opened string
	c, err := Open("seqshim://127.0.0.1:1?fallback=memory://", "ns", func(u string) (seqcache.Store, error) {
		opened = u
		return mem, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if opened != "memory://" {
		t.Fatalf("fallback opened %q", opened)
	}
	spec, _ := seqcache.Define("public.s")
	if err := mem.Create(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Reserve(t.Context(), "public.s", 5); err != nil || b.First != 1 || b.Count != 5 {
		t.Fatalf("Reserve with no server = %+v, %v; want 1..5 from the fallback", b, err)
	}
	if _, err := Open("seqshim://a:1?fallback=seqshim://b:2", "", nil); err == nil {
		t.Fatal("a seqshim:// fallback accepted")
	}
	boom := errors.New("boom")
	if _, err := Open("seqshim://a:1?fallback=dynamodb://t", "", func(string) (seqcache.Store, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fallback failure: %v", err)
	}
}
