package rewrite

import (
	"math"
	"strings"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tNone     tokKind = iota
	tIdent            // unquoted identifier or key word
	tQIdent           // "quoted" or U&"quoted" identifier
	tString           // '...', E'...', U&'...', B'...', X'...', N'...'
	tDollar           // $$...$$ or $tag$...$tag$
	tParam            // $n
	tNumber           // numeric constant (possibly with trailing junk)
	tOp               // operator: one or more of ~ ! @ # ^ & | ` ? + - * / % < > =
	tLParen           // (
	tRParen           // )
	tLBracket         // [
	tRBracket         // ]
	tComma            // ,
	tSemi             // ;
	tDot              // .
	tColon            // :
	tCast             // ::
	tOther            // any other byte, such as a lone $ or a backslash
)

// Sub kinds of tString and tQIdent tokens, and a flag of tIdent tokens.
const (
	strStd uint8 = iota // '...' (standard_conforming_strings on)
	strEsc              // E'...'
	strUni              // U&'...' or U&"..."
	strBit              // B'...'
	strHex              // X'...'
	strNat              // N'...'

	identAfterDot uint8 = 1 // a tIdent that follows a dot: a name, never a key word
)

// token is one lexical token: its byte range in the source, its class and,
// for unquoted identifiers, the key word it spells (kwNone for others).
type token struct {
	start, end int32
	pair       int32 // brackets, CASE and its END: index of the matching token, or -1
	call       int32 // 1 + index of the call site that starts at this token, or 0
	kind       tokKind
	sub        uint8
	kw         keyword
}

// Byte classes.
const (
	cSpace      = 1 << iota // [ \t\n\r\f\v]
	cIdentStart             // [A-Za-z_\x80-\xff]
	cIdentCont              // identifier start, digit or $
	cDigit                  // [0-9]
	cOp                     // operator character
	cTagCont                // dollar-quote tag continuation: identifier start or digit
	cOpSpecial              // ~ ! @ # % ^ & | ` ?: an operator holding one may end in + or -
)

var class = func() (class [256]uint8) {
	for _, c := range []byte(" \t\n\r\f\v") {
		class[c] |= cSpace
	}
	for c := 0; c < 256; c++ {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80 {
			class[c] |= cIdentStart | cIdentCont | cTagCont
		}
		if c >= '0' && c <= '9' {
			class[c] |= cDigit | cIdentCont | cTagCont
		}
	}
	class['$'] |= cIdentCont
	for _, c := range []byte("~!@#^&|`?+-*/%<>=") {
		class[c] |= cOp
	}
	for _, c := range []byte("~!@#%^&|`?") {
		class[c] |= cOpSpecial
	}
	return class
}()

func isIdentCont(c byte) bool { return class[c]&cIdentCont != 0 }

// Dispatch classes of a token's first byte.
const (
	dOther  uint8 = iota
	dSpace        // whitespace
	dIdent        // identifier start
	dPrefix       // e b x n u (either case): an identifier or a prefixed string
	dDigit        // 0-9
	dQuote        // '
	dDQuote       // "
	dDollar       // $
	dDot          // .
	dOpen         // ( [
	dClose        // ) ]
	dComma        // ,
	dSemi         // ;
	dColon        // :
	dOp           // operator character other than - and /
	dDash         // -
	dSlash        // /
)

var dispatch = func() (d [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case class[c]&cSpace != 0:
			d[c] = dSpace
		case strings.IndexByte("ebxnuEBXNU", byte(c)) >= 0:
			d[c] = dPrefix
		case class[c]&cIdentStart != 0:
			d[c] = dIdent
		case class[c]&cDigit != 0:
			d[c] = dDigit
		case c == '-':
			d[c] = dDash
		case c == '/':
			d[c] = dSlash
		case class[c]&cOp != 0:
			d[c] = dOp
		}
	}
	for c, k := range map[byte]uint8{'\'': dQuote, '"': dDQuote, '$': dDollar, '.': dDot, '(': dOpen, '[': dOpen,
		')': dClose, ']': dClose, ',': dComma, ';': dSemi, ':': dColon} {
		d[c] = k
	}
	return d
}()

// lex appends the tokens of src to toks, following PostgreSQL's lexical
// rules (src/backend/parser/scan.l) with standard_conforming_strings on.
// Whitespace and comments produce no tokens. maxParam is the highest $n.
// ok is false for input that PostgreSQL itself rejects as a whole: an
// unterminated string, quoted identifier, dollar-quoted string or block
// comment, a zero-length quoted identifier, a parameter number out of
// range, or brackets that do not match. Such SQL is passed through and the
// database reports the error.
func lex(src string, toks []token) (_ []token, maxParam int, ok bool) {
	n := len(src)
	if n > math.MaxInt32 {
		return toks, 0, false
	}
	var stackBuf [32]int32 // open brackets
	stack := stackBuf[:0]
	var caseBuf [16]int32 // open CASEs, each with the bracket depth it is at
	cases := caseBuf[:0]
	i := 0
	for i < n {
		c := src[i]
		start := i
		var kind tokKind
		var sub uint8
		switch dispatch[c] {
		case dSpace:
			i++
			for i < n && class[src[i]]&cSpace != 0 {
				i++
			}
			continue
		case dPrefix:
			if i+1 < n && src[i+1] == '\'' {
				kind = tString
				switch c | 0x20 {
				case 'e':
					sub = strEsc
				case 'b':
					sub = strBit
				case 'x':
					sub = strHex
				case 'n':
					sub = strNat
				default: // u'...' is the identifier u and a string
					goto ident
				}
				if i, ok = scanString(src, i+2, sub); !ok {
					return toks, 0, false
				}
				break
			}
			if (c == 'u' || c == 'U') && i+2 < n && src[i+1] == '&' {
				if src[i+2] == '\'' {
					kind, sub = tString, strUni
					if i, ok = scanString(src, i+3, sub); !ok {
						return toks, 0, false
					}
					break
				}
				if src[i+2] == '"' {
					kind, sub = tQIdent, strUni
					if i, ok = scanQuotedIdent(src, i+3); !ok || i-start == 4 {
						return toks, 0, false
					}
					break
				}
			}
			goto ident
		case dIdent:
			goto ident
		case dDQuote:
			kind = tQIdent
			if i, ok = scanQuotedIdent(src, i+1); !ok || i-start == 2 {
				return toks, 0, false
			}
		case dQuote:
			kind, sub = tString, strStd
			if i, ok = scanString(src, i+1, sub); !ok {
				return toks, 0, false
			}
		case dDollar:
			if i+1 < n && class[src[i+1]]&cDigit != 0 {
				kind = tParam
				i++
				v := 0
				for i < n && class[src[i]]&cDigit != 0 {
					v = v*10 + int(src[i]-'0')
					if v > math.MaxInt32 {
						return toks, 0, false
					}
					i++
				}
				maxParam = max(maxParam, v)
				break
			}
			j := i + 1
			if j < n && class[src[j]]&cIdentStart != 0 {
				for j < n && class[src[j]]&cTagCont != 0 {
					j++
				}
			}
			if j < n && src[j] == '$' {
				kind = tDollar
				tag := src[i : j+1]
				k := strings.Index(src[j+1:], tag)
				if k < 0 {
					return toks, 0, false
				}
				i = j + 1 + k + len(tag)
			} else {
				kind = tOther
				i++
			}
		case dDigit:
			kind = tNumber
			i = scanNumber(src, i)
		case dDot:
			if i+1 < n && class[src[i+1]]&cDigit != 0 {
				kind = tNumber
				i = scanNumber(src, i)
			} else {
				kind, i = tDot, i+1
			}
		case dOpen:
			kind, i = tLParen, i+1
			if c == '[' {
				kind = tLBracket
			}
			if len(stack) == maxDepth {
				return toks, 0, false
			}
			stack = append(stack, int32(len(toks)))
		case dClose:
			kind, i = tRParen, i+1
			if c == ']' {
				kind = tRBracket
			}
			if len(stack) == 0 {
				return toks, 0, false
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for len(cases) > 0 && toks[cases[len(cases)-1]].pair > int32(len(stack)) {
				toks[cases[len(cases)-1]].pair = -1 // a CASE without END inside the brackets
				cases = cases[:len(cases)-1]
			}
			if toks[o].kind+1 != kind { // tLParen+1 == tRParen, tLBracket+1 == tRBracket
				return toks, 0, false
			}
			toks[o].pair = int32(len(toks))
			toks = append(toks, token{})
			t := &toks[len(toks)-1] // fill in place: a token built on the stack and copied stalls store forwarding
			t.start, t.end, t.kind, t.pair = int32(start), int32(i), kind, o
			continue
		case dComma:
			kind, i = tComma, i+1
		case dSemi:
			kind, i = tSemi, i+1
		case dColon:
			if i+1 < n && src[i+1] == ':' {
				kind, i = tCast, i+2
			} else {
				kind, i = tColon, i+1
			}
		case dDash:
			if i+1 < n && src[i+1] == '-' {
				i = skipLineComment(src, i)
				continue
			}
			kind, i = tOp, scanOperator(src, i)
		case dSlash:
			if i+1 < n && src[i+1] == '*' {
				if i, ok = skipBlockComment(src, i); !ok {
					return toks, 0, false
				}
				continue
			}
			kind, i = tOp, scanOperator(src, i)
		case dOp:
			kind, i = tOp, scanOperator(src, i)
		default:
			kind, i = tOther, i+1
		}
		toks = append(toks, token{})
		{
			t := &toks[len(toks)-1]
			t.start, t.end, t.kind, t.sub, t.pair = int32(start), int32(i), kind, sub, -1
		}
		for i < n && src[i] == ' ' { // the usual single space, without a round of dispatch
			i++
		}
		continue
	ident:
		i++
		for i < n && class[src[i]]&cIdentCont != 0 {
			i++
		}
		{
			afterDot := len(toks) > 0 && toks[len(toks)-1].kind == tDot
			toks = append(toks, token{})
			t := &toks[len(toks)-1]
			t.start, t.end, t.kind, t.pair, t.kw = int32(start), int32(i), tIdent, -1, lookupKeyword(src[start:i])
			for i < n && src[i] == ' ' {
				i++
			}
			if afterDot {
				t.sub = identAfterDot
			} else if t.kw == kwCase {
				t.pair = int32(len(stack)) // the depth, until its END is found
				cases = append(cases, int32(len(toks)-1))
			} else if t.kw == kwEnd && len(cases) > 0 && toks[cases[len(cases)-1]].pair == int32(len(stack)) {
				o := cases[len(cases)-1]
				cases = cases[:len(cases)-1]
				toks[o].pair, t.pair = int32(len(toks)-1), o
			}
		}
	}
	for _, o := range cases {
		toks[o].pair = -1
	}
	return toks, maxParam, len(stack) == 0
}

// maxDepth is the deepest bracket nesting lex accepts. PostgreSQL's parser
// rejects far shallower nesting (its stack depth limit), so deeper text is
// passed through for the database to reject.
const maxDepth = 10000

// skipLineComment returns the end of the -- comment at i (its newline is
// left to the caller).
func skipLineComment(s string, i int) int {
	for i < len(s) && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	return i
}

// skipBlockComment returns the end of the (nested) /* */ comment at i.
func skipBlockComment(s string, i int) (int, bool) {
	depth := 0
	for i+1 < len(s) {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i += 2
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i, true
			}
		default:
			i++
		}
	}
	return len(s), false
}

// scanQuotedIdent returns the end of the quoted identifier whose body
// starts at i ("" stands for one double quote).
func scanQuotedIdent(s string, i int) (int, bool) {
	for i < len(s) {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				i += 2
				continue
			}
			return i + 1, true
		}
		i++
	}
	return i, false
}

// scanString returns the end of the string constant whose body starts at i,
// including continuation segments: a quote after whitespace that holds a
// newline continues the constant ('foo'\n'bar' is 'foobar').
func scanString(s string, i int, sub uint8) (int, bool) {
	n := len(s)
	for {
		for {
			if i >= n {
				return n, false
			}
			c := s[i]
			if c == '\\' && sub == strEsc {
				i += 2
				continue
			}
			if c == '\'' {
				if sub != strBit && sub != strHex && i+1 < n && s[i+1] == '\'' {
					i += 2
					continue
				}
				i++
				break
			}
			i++
		}
		j, ok := continuation(s, i)
		if !ok {
			return i, true
		}
		i = j
	}
}

// continuation reports whether a string constant ending at i continues, and
// where its next segment's body starts (PostgreSQL's quotecontinue:
// horizontal whitespace or a -- comment, a newline, then any whitespace or
// comment-and-newline, then a quote).
func continuation(s string, i int) (int, bool) {
	n := len(s)
	for i < n {
		if c := s[i]; c == ' ' || c == '\t' || c == '\f' || c == '\v' {
			i++
		} else if c == '-' && i+1 < n && s[i+1] == '-' {
			i = skipLineComment(s, i)
		} else {
			break
		}
	}
	if i >= n || s[i] != '\n' && s[i] != '\r' {
		return 0, false
	}
	for i < n {
		if class[s[i]]&cSpace != 0 {
			i++
			continue
		}
		if s[i] == '-' && i+1 < n && s[i+1] == '-' {
			j := skipLineComment(s, i)
			if j >= n {
				return 0, false
			}
			i = j
			continue
		}
		break
	}
	if i < n && s[i] == '\'' {
		return i + 1, true
	}
	return 0, false
}

// scanNumber returns the end of the numeric constant at i. Trailing
// identifier characters are kept in the token (PostgreSQL rejects them as
// "trailing junk").
func scanNumber(s string, i int) int {
	n := len(s)
	if s[i] == '0' && i+1 < n && strings.IndexByte("xXoObB", s[i+1]) >= 0 {
		i += 2
		for i < n && class[s[i]]&cIdentCont != 0 && s[i] != '$' {
			i++
		}
		return i
	}
	for i < n && (class[s[i]]&cDigit != 0 || s[i] == '_') {
		i++
	}
	if i < n && s[i] == '.' && !(i+1 < n && s[i+1] == '.') {
		i++
		for i < n && (class[s[i]]&cDigit != 0 || s[i] == '_') {
			i++
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < n && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < n && class[s[j]]&cDigit != 0 {
			i = j
		}
	}
	for i < n && class[s[i]]&cIdentCont != 0 && s[i] != '$' {
		i++
	}
	return i
}

// scanOperator returns the end of the operator at i. An operator stops
// before -- or /*, and a multi-character operator drops trailing + and -
// unless it holds one of ~ ! @ # % ^ & | ` ? (so that 1*-2 is 1 * -2).
func scanOperator(s string, i int) int {
	start := i
	n := len(s)
	var seen uint8
	for i < n && class[s[i]]&cOp != 0 {
		if i > start && i+1 < n && (s[i] == '-' && s[i+1] == '-' || s[i] == '/' && s[i+1] == '*') {
			break
		}
		seen |= class[s[i]]
		i++
	}
	if i-start > 1 && seen&cOpSpecial == 0 {
		for i-start > 1 && (s[i-1] == '+' || s[i-1] == '-') {
			i--
		}
	}
	return i
}
