package server

import (
	"bufio"
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/seqshim/seqshim/server/internal/wire"
	pb "github.com/seqshim/seqshim/server/seqshimpb"
)

// Tokens are the bearer tokens a server accepts, each for all namespaces
// or for a list of them.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	token      []byte
	namespaces []string // nil: every namespace
}

// AnyNamespace in a token file's namespace list lets a token into every
// namespace; NoNamespace stands for the empty namespace.
const (
	AnyNamespace = "*"
	NoNamespace  = "-"
)

// ParseTokens reads a token file: one token a line, optionally followed by
// whitespace and a comma-separated list of the namespaces it may use
// ("-" is the empty namespace, "*" or nothing means every namespace).
// Blank lines and lines starting with # are ignored.
//
//	# token                          namespaces
//	3f9a0c1d...                      billing,orders
//	77b2e4aa...                      *
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) > 2 {
			return nil, fmt.Errorf("tokens line %d: want a token and a namespace list, got %d fields", line, len(f))
		}
		e := tokenEntry{token: []byte(f[0])}
		if len(f) == 2 && f[1] != AnyNamespace {
			for ns := range strings.SplitSeq(f[1], ",") {
				if ns == NoNamespace {
					ns = ""
				}
				e.namespaces = append(e.namespaces, ns)
			}
		}
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("tokens: no token")
	}
	return t, nil
}

// LoadTokens reads a token file (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Add accepts token for the given namespaces (none: every namespace).
func (t *Tokens) Add(token string, namespaces ...string) {
	t.entries = append(t.entries, tokenEntry{token: []byte(token), namespaces: namespaces})
}

// match returns the entry of token. Every entry is compared, in constant
// time, so that the time taken says nothing about the tokens.
func (t *Tokens) match(token []byte) (tokenEntry, bool) {
	var found tokenEntry
	ok := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(e.token, token) == 1 {
			found, ok = e, 1
		}
	}
	return found, ok == 1
}

func (e tokenEntry) allows(ns string) bool {
	return e.namespaces == nil || slices.Contains(e.namespaces, ns)
}

// namespaced is every request of the Sequences service.
type namespaced interface{ GetNamespace() string }

// authorize checks the bearer token of every Sequences call, and that the
// call's namespace is one the token may use. The health service is open.
func (s *Server) authorize(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.opts.Tokens == nil || !strings.HasPrefix(info.FullMethod, "/"+wire.ServiceName+"/") {
		return handler(ctx, req)
	}
	token, ok := bearer(ctx)
	if !ok {
		return nil, s.refuse(ctx, info, "missing", wire.CodeInvalidAuthorization, "no bearer token")
	}
	e, ok := s.opts.Tokens.match(token)
	if !ok {
		return nil, s.refuse(ctx, info, "invalid", wire.CodeInvalidAuthorization, "invalid bearer token")
	}
	r, isNS := req.(namespaced)
	if !isNS || !e.allows(r.GetNamespace()) {
		ns := ""
		if isNS {
			ns = r.GetNamespace()
		}
		return nil, s.refuse(ctx, info, "namespace", wire.CodeInsufficientPrivilege,
			fmt.Sprintf("token not allowed in namespace %q", ns))
	}
	return handler(ctx, req)
}

// refuse logs and counts a refused call (never with its token) and
// returns its status: Unauthenticated or PermissionDenied.
func (s *Server) refuse(ctx context.Context, info *grpc.UnaryServerInfo, reason, code, msg string) error {
	from := ""
	if p, ok := peer.FromContext(ctx); ok {
		from = p.Addr.String()
	}
	s.log.Warn("seqshim serve: call refused", "method", info.FullMethod, "peer", from, "reason", reason)
	s.metrics.refused.WithLabelValues(reason).Inc()
	c := codes.Unauthenticated
	if code == wire.CodeInsufficientPrivilege {
		c = codes.PermissionDenied
	}
	st, err := status.New(c, msg).WithDetails(&pb.SequenceError{Code: code, Message: msg})
	if err != nil {
		return status.Error(c, msg)
	}
	return st.Err()
}

// bearer returns the token of the authorization metadata.
func bearer(ctx context.Context) ([]byte, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok && tok != "" {
			return []byte(tok), true
		}
	}
	return nil, false
}
