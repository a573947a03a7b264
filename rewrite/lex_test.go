package rewrite

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var kindNamesForTest = map[tokKind]string{
	tIdent: "id", tQIdent: "qid", tString: "str", tDollar: "dol", tParam: "par",
	tNumber: "num", tOp: "op", tLParen: "(", tRParen: ")", tLBracket: "[", tRBracket: "]",
	tComma: ",", tSemi: ";", tDot: ".", tColon: ":", tCast: "cast", tOther: "other",
}

// lexString renders the tokens of src as kind:text.
func lexString(src string) ([]string, int, bool) {
	toks, maxParam, ok := lex(src, nil)
	var out []string
	for _, t := range toks {
		out = append(out, kindNamesForTest[t.kind]+":"+src[t.start:t.end])
	}
	return out, maxParam, ok
}

func TestLex(t *testing.T) {
	for _, tc := range []struct {
		src      string
		want     string // tokens separated by spaces... as a Go-quoted list
		maxParam int
	}{
		{`SELECT a, "B"".c" FROM t;`, `id:SELECT id:a ,:, qid:"B"".c" id:FROM id:t ;:;`, 0},
		{`'it''s' E'a\'b' e'\\' 'C:\'`, `str:'it''s' str:E'a\'b' str:e'\\' str:'C:\'`, 0},
		{"'a'\n'b' 'c'", "str:'a'\n'b' str:'c'", 0},
		{"'a' -- c\n  -- d\n 'b'", "str:'a' -- c\n  -- d\n 'b'", 0},
		{`U&'d\0061t' U&"x" u&'y' UESCAPE '!'`, `str:U&'d\0061t' qid:U&"x" str:u&'y' id:UESCAPE str:'!'`, 0},
		{`B'101' X'1F' N'n' b'1''0'`, `str:B'101' str:X'1F' str:N'n' str:b'1' str:'0'`, 0},
		{`$$a'b$$ $x$ $$ $x$ $x1$y$x1$`, `dol:$$a'b$$ dol:$x$ $$ $x$ dol:$x1$y$x1$`, 0},
		{`$1 $12::int8 a$$b$$ $`, `par:$1 par:$12 cast::: id:int8 id:a$$b$$ other:$`, 12},
		{`/* a /* nested */ still */ x -- y`, `id:x`, 0},
		{`a#-b ?| @> ->> <= != <> || *-1 1+-2 @-3`, `id:a op:#- id:b op:?| op:@> op:->> op:<= op:!= op:<> op:|| op:* op:- num:1 num:1 op:+ op:- num:2 op:@- num:3`, 0},
		{`x*--c` + "\n" + `y /*/ z */`, `id:x op:* id:y`, 0},
		{`1.5e-3 .5 0x1F 1_000 1..2 3e`, `num:1.5e-3 num:.5 num:0x1F num:1_000 num:1 .:. num:.2 num:3e`, 0},
		{`a[1:2] :: := ;`, `id:a [:[ num:1 ::: num:2 ]:] cast::: ::: op:= ;:;`, 0},
		{`t.nextval nextval(`, ``, 0}, // unbalanced: not ok
	} {
		got, maxParam, ok := lexString(tc.src)
		if tc.want == "" {
			if ok {
				t.Errorf("lex(%q) ok, want not ok", tc.src)
			}
			continue
		}
		if !ok {
			t.Errorf("lex(%q) not ok", tc.src)
			continue
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("lex(%q) =\n  %s\nwant\n  %s", tc.src, g, tc.want)
		}
		if maxParam != tc.maxParam {
			t.Errorf("lex(%q) maxParam = %d, want %d", tc.src, maxParam, tc.maxParam)
		}
	}
}

func TestLexRejects(t *testing.T) {
	for _, src := range []string{
		`'abc`, `E'abc\'`, `"abc`, `""`, `U&""`, `$a$ abc`, `$$`, `/* abc`, `/* /* */`,
		`(`, `)`, `(]`, `[)`, `$99999999999`, `'a'` + "\n" + `'b`,
	} {
		if _, _, ok := lex(src, nil); ok {
			t.Errorf("lex(%q) ok, want not ok", src)
		}
	}
}

func TestLexPairsAndKeywords(t *testing.T) {
	src := `SELECT (a[1], (b)) FROM t.select`
	toks, _, ok := lex(src, nil)
	if !ok {
		t.Fatal("not ok")
	}
	var pairs []string
	for i, tk := range toks {
		if tk.pair >= 0 {
			pairs = append(pairs, fmt.Sprintf("%d-%d", i, tk.pair))
		}
	}
	if want := []string{"1-10", "3-5", "5-3", "7-9", "9-7", "10-1"}; !slices.Equal(pairs, want) {
		t.Errorf("pairs = %v, want %v", pairs, want)
	}
	if toks[0].kw != kwSelect || toks[11].kw != kwFrom || toks[2].kw != kwNone {
		t.Errorf("key words: %v %v %v", toks[0].kw, toks[11].kw, toks[2].kw)
	}
	if last := toks[len(toks)-1]; last.kw != kwSelect || last.sub != identAfterDot {
		t.Errorf("t.select: kw %v sub %v, want a name after a dot", last.kw, last.sub)
	}
}

func TestLookupKeyword(t *testing.T) {
	for s, want := range map[string]keyword{
		"select": kwSelect, "SeLeCt": kwSelect, "NEXTVAL": kwNextval, "pg_catalog": kwPgCatalog,
		"selects": kwNone, "x": kwNone, "": kwNone, "materializedx": kwNone,
	} {
		if got := lookupKeyword(s); got != want {
			t.Errorf("lookupKeyword(%q) = %v, want %v", s, got, want)
		}
	}
	for k, s := range keywordNames {
		if k > 0 && (lookupKeyword(s) != keyword(k) || len(s) > maxKeywordLen) {
			t.Errorf("keyword %q does not round-trip", s)
		}
	}
}

func TestDecodeString(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		sub  uint8
		esc  byte
		want string
		ok   bool
	}{
		{`'it''s'`, strStd, 0, `it's`, true},
		{`'C:\'`, strStd, 0, `C:\`, true},
		{`E'\b\f\n\r\t\\\'\q'`, strEsc, 0, "\b\f\n\r\t\\'q", true},
		{`E'\101\x41\u0041\U00000041'`, strEsc, 0, "AAAA", true},
		{`E'\uD83D\uDE00'`, strEsc, 0, "\U0001F600", true},
		{`E'\xq'`, strEsc, 0, "xq", true},
		{`E'\0'`, strEsc, 0, "", false},
		{`E'\xff'`, strEsc, 0, "", false},
		{`E'\uD83D'`, strEsc, 0, "", false},
		{`U&'d\0061t\+000061'`, strUni, '\\', "data", true},
		{`U&'a\\b'`, strUni, '\\', `a\b`, true},
		{`U&'d!0061!!'`, strUni, '!', "da!", true},
		{`U&'\d83d\de00'`, strUni, '\\', "\U0001F600", true},
		{`U&'\00'`, strUni, '\\', "", false},
		{`U&'\0000'`, strUni, '\\', "", false},
		{"'a'\n'b'", strStd, 0, "ab", true},
		{"E'a\\n' -- x\n'b'", strEsc, 0, "a\nb", true},
	} {
		got, ok := decodeString(tc.raw, tc.sub, tc.esc)
		if got != tc.want || ok != tc.ok {
			t.Errorf("decodeString(%q) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}
