package driver

import (
	"fmt"
	"net/url"
	"strings"
)

const paramPrefix = "seqshim."

// splitDSN takes the seqshim.<key> parameters out of a PostgreSQL DSN, in
// URL form (postgres://...?seqshim.store=...) or keyword/value form
// (host=... seqshim.store=...), and returns the DSN for pgx without them.
// Everything else is left as written.
func splitDSN(dsn string) (rest string, params map[string]string, err error) {
	params = make(map[string]string)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return splitURL(dsn, params)
	}
	return splitKeywords(dsn, params)
}

func splitURL(dsn string, params map[string]string) (string, map[string]string, error) {
	base, query, ok := strings.Cut(dsn, "?")
	if !ok || !strings.Contains(query, paramPrefix) {
		return dsn, params, nil
	}
	var kept []string
	for part := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return "", nil, fmt.Errorf("seqshim: bad DSN parameter %q: %w", k, err)
		}
		if !strings.HasPrefix(name, paramPrefix) {
			kept = append(kept, part)
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return "", nil, fmt.Errorf("seqshim: bad value of DSN parameter %s: %w", name, err)
		}
		params[strings.TrimPrefix(name, paramPrefix)] = val
	}
	if len(kept) == 0 {
		return base, params, nil
	}
	return base + "?" + strings.Join(kept, "&"), params, nil
}

// splitKeywords handles libpq's keyword/value form: key=value pairs
// separated by spaces, values optionally single-quoted with \ escapes.
func splitKeywords(dsn string, params map[string]string) (string, map[string]string, error) {
	var kept []string
	s := dsn
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			break
		}
		start := s
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return dsn, params, nil // not ours to judge: pgx reports it
		}
		name := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		val, n, err := keywordValue(s)
		if err != nil {
			return "", nil, err
		}
		s = s[n:]
		token := start[:len(start)-len(s)]
		if strings.HasPrefix(name, paramPrefix) {
			params[strings.TrimPrefix(name, paramPrefix)] = val
		} else {
			kept = append(kept, token)
		}
	}
	return strings.Join(kept, " "), params, nil
}

// keywordValue reads one value at the start of s and returns it and the
// bytes it took.
func keywordValue(s string) (string, int, error) {
	if !strings.HasPrefix(s, "'") {
		n := strings.IndexAny(s, " \t\n\r\f\v")
		if n < 0 {
			n = len(s)
		}
		return s[:n], n, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("seqshim: unterminated quoted value in DSN")
}
