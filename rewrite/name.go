package rewrite

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Name is a resolved, schema-qualified sequence (or table) name: unquoted
// parts folded to lower case, quoted parts as written, each truncated to 63
// bytes as PostgreSQL does.
type Name struct {
	Schema, Name string
}

// Key returns "schema.name", the sequence's key in the store. It is not
// quoted: a schema or name that itself holds a dot makes the key ambiguous,
// so such names are best avoided for managed sequences.
func (n Name) Key() string { return n.Schema + "." + n.Name }

// String returns the name as PostgreSQL would display a regclass: each part
// double-quoted when it is not a plain lower-case identifier; without a
// schema when unqualified.
func (n Name) String() string {
	if n.Schema == "" {
		return quoteIdent(n.Name)
	}
	return quoteIdent(n.Schema) + "." + quoteIdent(n.Name)
}

// Qualified reports whether the name has its schema: false only for an
// unqualified name parsed with SearchPath as the default schema.
func (n Name) Qualified() bool { return n.Schema != "" }

// SearchPath, as the default schema of ParseName or Options, leaves
// unqualified names unresolved (Schema ""), for a caller that resolves them
// in a connection's search_path as PostgreSQL does. (No schema name holds a
// NUL byte.)
const SearchPath = "\x00"

// unqualifiedSchema is the Schema of an unqualified name with the default
// schema given.
func unqualifiedSchema(defaultSchema string) string {
	switch defaultSchema {
	case "":
		return DefaultSchema
	case SearchPath:
		return ""
	}
	return defaultSchema
}

// Errors returned by [ParseName]; test them with errors.Is.
var (
	// ErrNameSyntax: the text is not a valid (qualified) name. PostgreSQL
	// reports it as SQLSTATE 42602 (invalid_name).
	ErrNameSyntax = errors.New("invalid name syntax")
	// ErrNameOID: the text is a number, which regclass reads as an OID.
	// seqshim knows sequences by name only.
	ErrNameOID = errors.New("sequence given by OID")
	// ErrNameCatalog: the name is qualified with a database (catalog.schema.name).
	ErrNameCatalog = errors.New("catalog-qualified sequence name")
)

// maxIdentLen is NAMEDATALEN-1: PostgreSQL truncates longer identifiers.
const maxIdentLen = 63

// DefaultSchema is the schema of unqualified names when
// Options.DefaultSchema is empty.
const DefaultSchema = "public"

// ParseName resolves the text of a regclass value, such as the argument of
// nextval('...') or a sequence name passed as a bind parameter, the way
// PostgreSQL does: parts separated by dots, optional whitespace around each
// part, unquoted parts folded to lower case (ASCII only, as in UTF-8
// databases), "quoted" parts kept as written with "" standing for one
// quote, every part truncated to 63 bytes. An unqualified name resolves in
// defaultSchema ("public" if empty), or stays unqualified with SearchPath.
func ParseName(s, defaultSchema string) (Name, error) {
	defaultSchema = unqualifiedSchema(defaultSchema)
	if isDigits(s) {
		return Name{}, fmt.Errorf("%w: %q", ErrNameOID, s)
	}
	if n, ok := plainName(s, defaultSchema); ok {
		return n, nil
	}
	var parts [4]string
	np := 0
	i := 0
	skipSpace := func() {
		for i < len(s) && class[s[i]]&cSpace != 0 {
			i++
		}
	}
	skipSpace()
	for {
		var part string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return Name{}, fmt.Errorf("%w: %q", ErrNameSyntax, s)
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			part = truncIdent(b.String())
		} else {
			j := i
			for i < len(s) && s[i] != '.' && class[s[i]]&cSpace == 0 {
				i++
			}
			part = foldIdent(s[j:i])
		}
		if part == "" {
			return Name{}, fmt.Errorf("%w: %q", ErrNameSyntax, s)
		}
		if np == len(parts) {
			return Name{}, fmt.Errorf("%w: %q (too many dotted names)", ErrNameSyntax, s)
		}
		parts[np] = part
		np++
		skipSpace()
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return Name{}, fmt.Errorf("%w: %q", ErrNameSyntax, s)
		}
		i++
		skipSpace()
	}
	switch np {
	case 1:
		return Name{Schema: defaultSchema, Name: parts[0]}, nil
	case 2:
		return Name{Schema: parts[0], Name: parts[1]}, nil
	case 3:
		return Name{}, fmt.Errorf("%w: %q", ErrNameCatalog, s)
	}
	return Name{}, fmt.Errorf("%w: %q (too many dotted names)", ErrNameSyntax, s)
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// plainName resolves the common case without allocating: one or two
// parts of lower-case letters, digits, _ and $.
func plainName(s, defaultSchema string) (Name, bool) {
	dot := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' || c == '$':
		case c == '.' && dot < 0:
			dot = i
		default:
			return Name{}, false
		}
	}
	switch {
	case s == "" || dot == 0 || dot == len(s)-1 || len(s)-dot-1 > maxIdentLen:
		return Name{}, false
	case dot < 0:
		return Name{Schema: defaultSchema, Name: s}, len(s) <= maxIdentLen
	}
	return Name{Schema: s[:dot], Name: s[dot+1:]}, dot <= maxIdentLen
}

// foldIdent folds an unquoted identifier as PostgreSQL does in a UTF-8
// database: ASCII letters to lower case, then truncation.
func foldIdent(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return truncIdent(string(b))
		}
	}
	return truncIdent(s)
}

// truncIdent truncates s to maxIdentLen bytes without splitting a UTF-8
// sequence.
func truncIdent(s string) string {
	if len(s) <= maxIdentLen {
		return s
	}
	n := maxIdentLen
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// quoteIdent quotes s unless it is a plain lower-case identifier.
func quoteIdent(s string) string {
	plain := s != "" && !(s[0] >= '0' && s[0] <= '9') && s[0] != '$'
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$'
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral returns s as a standard SQL string constant.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// identText returns the identifier a tIdent or tQIdent token stands for.
// A U&"..." identifier is decoded with escape character esc. ok is false
// for an identifier PostgreSQL rejects.
func identText(raw string, kind tokKind, sub uint8, esc byte) (string, bool) {
	if kind == tIdent {
		return foldIdent(raw), true
	}
	if sub == strUni {
		body := strings.ReplaceAll(raw[3:len(raw)-1], `""`, `"`)
		s, ok := unicodeUnescape(body, esc)
		if !ok || s == "" {
			return "", false
		}
		return truncIdent(s), true
	}
	return truncIdent(strings.ReplaceAll(raw[1:len(raw)-1], `""`, `"`)), true
}

// decodeString returns the value of a string constant token (all of its
// continuation segments). A U&'...' constant is decoded with escape
// character esc. ok is false for a constant PostgreSQL rejects, such as an
// invalid escape or a value that is not valid UTF-8.
func decodeString(raw string, sub uint8, esc byte) (string, bool) {
	if sub == strStd && len(raw) >= 2 && raw[0] == '\'' && raw[len(raw)-1] == '\'' &&
		strings.IndexByte(raw[1:len(raw)-1], '\'') < 0 {
		s := raw[1 : len(raw)-1] // the common case: one segment without quotes
		if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
			return s, true
		}
		return "", false
	}
	var b strings.Builder
	i := strings.IndexByte(raw, '\'') + 1
	for {
		// One segment: its body starts at i.
		for {
			if i >= len(raw) {
				return "", false
			}
			c := raw[i]
			if c == '\'' {
				if sub != strBit && sub != strHex && i+1 < len(raw) && raw[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				i++
				break
			}
			if c == '\\' && sub == strEsc {
				n, ok := escapeSeq(&b, raw, i+1)
				if !ok {
					return "", false
				}
				i = n
				continue
			}
			b.WriteByte(c)
			i++
		}
		if i >= len(raw) {
			break
		}
		j, ok := continuation(raw, i)
		if !ok {
			return "", false
		}
		i = j
	}
	s := b.String()
	if sub == strUni {
		var ok bool
		if s, ok = unicodeUnescape(s, esc); !ok {
			return "", false
		}
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	return s, true
}

// escapeSeq decodes the backslash escape of an E'...' constant whose first
// character after the backslash is at i, and returns the index after it.
func escapeSeq(b *strings.Builder, s string, i int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	c := s[i]
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v, j := 0, i
		for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
			v = v*8 + int(s[j]-'0')
			j++
		}
		b.WriteByte(byte(v))
		return j, true
	case 'x':
		v, j := 0, i+1
		for j < len(s) && j < i+3 && hexVal(s[j]) >= 0 {
			v = v*16 + hexVal(s[j])
			j++
		}
		if j == i+1 {
			b.WriteByte('x') // \x without digits is just x
			return j, true
		}
		b.WriteByte(byte(v))
		return j, true
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if i+1+n > len(s) {
			return i, false
		}
		v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
		if err != nil {
			return i, false
		}
		j := i + 1 + n
		r := rune(v)
		if r >= 0xD800 && r <= 0xDBFF { // high surrogate: a low one must follow
			if j+6 > len(s) || s[j] != '\\' || s[j+1] != 'u' {
				return i, false
			}
			lo, err := strconv.ParseUint(s[j+2:j+6], 16, 32)
			if err != nil || lo < 0xDC00 || lo > 0xDFFF {
				return i, false
			}
			r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
			j += 6
		}
		if !utf8.ValidRune(r) || r == 0 {
			return i, false
		}
		b.WriteRune(r)
		return j, true
	default:
		b.WriteByte(c)
	}
	return i + 1, true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unicodeUnescape decodes the escapes of a U&'...' or U&"..." body:
// esc followed by 4 hex digits, esc + followed by 6, or esc twice.
func unicodeUnescape(s string, esc byte) (string, bool) {
	if strings.IndexByte(s, esc) < 0 {
		return s, true
	}
	var b strings.Builder
	var high rune
	for i := 0; i < len(s); {
		if s[i] != esc {
			if high != 0 {
				return "", false
			}
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == esc {
			if high != 0 {
				return "", false
			}
			b.WriteByte(esc)
			i += 2
			continue
		}
		j, n := i+1, 4
		if j < len(s) && s[j] == '+' {
			j, n = j+1, 6
		}
		if j+n > len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[j:j+n], 16, 32)
		if err != nil {
			return "", false
		}
		r := rune(v)
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if high != 0 {
				return "", false
			}
			high = r
		case r >= 0xDC00 && r <= 0xDFFF:
			if high == 0 {
				return "", false
			}
			b.WriteRune((high-0xD800)<<10 + (r - 0xDC00) + 0x10000)
			high = 0
		default:
			if high != 0 || r == 0 || !utf8.ValidRune(r) {
				return "", false
			}
			b.WriteRune(r)
		}
		i = j + n
	}
	if high != 0 {
		return "", false
	}
	return b.String(), true
}
