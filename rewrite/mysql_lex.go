package rewrite

import (
	"strings"

	"github.com/xwb1989/sqlparser"
)

// myKind is the lexical class of a token of the MySQL dialect.
type myKind uint8

const (
	myWord   myKind = iota + 1 // unquoted identifier or key word
	myQIdent                   // `quoted identifier`
	myString                   // '...' or "..." (ANSI_QUOTES off)
	myNumber                   // numeric constant
	myParam                    // ? placeholder
	myOp                       // any other operator or punctuation
	myLParen                   // (
	myRParen                   // )
	myComma                    // ,
	mySemi                     // ;
	myDot                      // .
)

// myToken is one token of a MySQL text: its class, its byte range in the
// text, its key word (for myWord), its text as the tokenizer decoded it
// (names without backticks, strings without quotes and escapes), and the
// index of the matching parenthesis.
type myToken struct {
	kind       myKind
	start, end int
	kw         myKeyword
	text       string
	pair       int
	// exec is set for tokens inside an executable comment /*! ... */ or
	// /*M! ... */, which the server runs as SQL.
	exec bool
}

// myLex splits a MySQL or MariaDB text into tokens, with
// github.com/xwb1989/sqlparser's tokenizer as the scanner: backticks,
// '...' and "..." strings with backslash escapes and doubled quotes, # and
// -- comments, /* */ comments, ? placeholders. Around it, myLex handles
// what the server reads differently from that tokenizer: the inside of
// /*! ... */ and /*M! ... */ is SQL the server executes (scanned here as
// tokens, in place); "--" starts a comment only before white space (1--1
// is 1 - -1); ":=" is assignment and ":" is no bind variable; "$" and
// bytes above 0x7F belong to identifiers. ok is false for a text the
// scanner cannot read (an unterminated string or comment, for one).
func myLex(src string) (toks []myToken, ok bool) {
	l := myLexer{src: src}
	if !l.run(0, len(src), false) {
		return nil, false
	}
	if !l.pairs() {
		return nil, false
	}
	return l.toks, true
}

type myLexer struct {
	src  string
	toks []myToken
}

// run scans src[from:to]; exec marks the tokens of an executable comment.
func (l *myLexer) run(from, to int, exec bool) bool {
	text := l.src[:to]
	pos := from
	var tkn *sqlparser.Tokenizer
	base := pos
	restart := func(at int) {
		pos, tkn = at, nil
	}
	for {
		start := skipBlanks(text, pos)
		if start >= to {
			return true
		}
		if n, kind, special := l.special(text, start); special {
			switch kind {
			case 0: // a comment: nothing to keep
			case myQIdent: // executable comment: scan its inside in place
				body := start + 3
				if strings.HasPrefix(text[start:], "/*M!") {
					body++
				}
				for body < start+n-2 && text[body] >= '0' && text[body] <= '9' {
					body++
				}
				if !l.run(body, start+n-2, true) {
					return false
				}
			default:
				l.toks = append(l.toks, myToken{kind: kind, start: start, end: start + n, text: text[start : start+n], exec: exec})
			}
			restart(start + n)
			continue
		}
		if tkn == nil {
			tkn, base = sqlparser.NewStringTokenizer(text[start:]), start
		}
		typ, val := tkn.Scan()
		end := base + tkn.Position - 1
		if typ == 0 || end <= start {
			return false // the tokenizer stopped early (a ';' mid-text in its multi mode, say)
		}
		pos = end
		kind := myKindOf(typ, text[start])
		switch kind {
		case 0:
			return false // LEX_ERROR
		case myKind(255): // comment
			continue
		}
		t := myToken{kind: kind, start: start, end: end, text: string(val), exec: exec}
		if val == nil {
			t.text = text[start:end] // operators and punctuation carry no value
		}
		if kind == myWord {
			t.kw = myKeywordOf(t.text)
		}
		l.toks = append(l.toks, t)
	}
}

// skipBlanks skips what the tokenizer skips between tokens.
func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// special recognises, at src[i], what myLex reads itself: it returns the
// length and the kind of token (0 for a comment, myQIdent for an
// executable comment).
func (l *myLexer) special(src string, i int) (n int, kind myKind, ok bool) {
	rest := src[i:]
	switch {
	case strings.HasPrefix(rest, "/*!") || strings.HasPrefix(rest, "/*M!"):
		end := strings.Index(rest[2:], "*/")
		if end < 0 {
			return 0, 0, false // unterminated: the tokenizer reports it
		}
		return end + 4, myQIdent, true
	case strings.HasPrefix(rest, "--"):
		if len(rest) == 2 || rest[2] <= ' ' {
			return 0, 0, false // a comment: the tokenizer reads it
		}
		return 1, myOp, true // 1--1: minus, minus
	case strings.HasPrefix(rest, ":="):
		return 2, myOp, true
	case rest[0] == ':' || rest[0] == '{' || rest[0] == '}' || rest[0] == '[' || rest[0] == ']':
		return 1, myOp, true
	case rest[0] == '$' || rest[0] >= 0x80:
		j := 1
		for j < len(rest) && isMyIdentByte(rest[j]) {
			j++
		}
		return j, myWord, true
	case rest[0] == '\f' || rest[0] == '\v':
		return 1, 0, true // white space the tokenizer does not skip
	}
	return 0, 0, false
}

func isMyIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// myKindOf maps a token type of sqlparser to a myKind; 0 for LEX_ERROR,
// 255 for a comment.
func myKindOf(typ int, first byte) myKind {
	switch typ {
	case sqlparser.LEX_ERROR:
		return 0
	case sqlparser.COMMENT:
		return 255
	case sqlparser.ID:
		if first == '`' {
			return myQIdent
		}
		return myWord
	case sqlparser.STRING:
		return myString
	case sqlparser.INTEGRAL, sqlparser.FLOAT, sqlparser.HEXNUM, sqlparser.HEX, sqlparser.BIT_LITERAL:
		if first == 'x' || first == 'X' || first == 'b' || first == 'B' {
			return myString // X'..' and B'..' are strings
		}
		return myNumber
	case sqlparser.VALUE_ARG, sqlparser.LIST_ARG:
		return myParam
	case '(':
		return myLParen
	case ')':
		return myRParen
	case ',':
		return myComma
	case ';':
		return mySemi
	case '.':
		return myDot
	}
	if first == '_' || first == '@' || first >= 'a' && first <= 'z' || first >= 'A' && first <= 'Z' {
		return myWord // a key word
	}
	return myOp
}

// pairs matches parentheses; false when they do not balance.
func (l *myLexer) pairs() bool {
	var stack []int
	for i := range l.toks {
		switch l.toks[i].kind {
		case myLParen:
			stack = append(stack, i)
		case myRParen:
			if len(stack) == 0 {
				return false
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			l.toks[o].pair, l.toks[i].pair = i, o
		}
	}
	return len(stack) == 0
}
