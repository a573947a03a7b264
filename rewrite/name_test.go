package rewrite

import (
	"errors"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes: truncated to 62 (no split rune)
	for _, tc := range []struct {
		in, def string
		want    Name
		err     error
	}{
		{"s", "", Name{"public", "s"}, nil},
		{"S", "", Name{"public", "s"}, nil},
		{"s", "app", Name{"app", "s"}, nil},
		{`"My"`, SearchPath, Name{"", "My"}, nil}, // unqualified, for the caller to resolve
		{"App.S", SearchPath, Name{"app", "s"}, nil},
		{"Public.Orders_Id_Seq", "", Name{"public", "orders_id_seq"}, nil},
		{`"Mixed"`, "", Name{"public", "Mixed"}, nil},
		{`"My ""Seq"""`, "", Name{"public", `My "Seq"`}, nil},
		{`Sales."Order.Seq"`, "", Name{"sales", "Order.Seq"}, nil},
		{`"a b" . "C"`, "", Name{"a b", "C"}, nil},
		{"  s  ", "", Name{"public", "s"}, nil},
		{"ÉTÉ", "", Name{"public", "ÉtÉ"}, nil}, // only ASCII folds
		{`a"b`, "", Name{"public", `a"b`}, nil}, // a quote inside an unquoted part is kept
		{strings.Repeat("A", 70), "", Name{"public", strings.Repeat("a", 63)}, nil},
		{long, "", Name{"public", strings.Repeat("é", 31)}, nil},
		{" 123", "", Name{"public", "123"}, nil},
		{"", "", Name{}, ErrNameSyntax},
		{"a..b", "", Name{}, ErrNameSyntax},
		{"a.", "", Name{}, ErrNameSyntax},
		{".a", "", Name{}, ErrNameSyntax},
		{`"a`, "", Name{}, ErrNameSyntax},
		{`""`, "", Name{}, ErrNameSyntax},
		{"a b", "", Name{}, ErrNameSyntax},
		{"a.b.c.d", "", Name{}, ErrNameSyntax},
		{"db.public.s", "", Name{}, ErrNameCatalog},
		{"16384", "", Name{}, ErrNameOID},
	} {
		got, err := ParseName(tc.in, tc.def)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("ParseName(%q, %q) = %#v, %v; want %#v, %v", tc.in, tc.def, got, err, tc.want, tc.err)
		}
	}
}

func TestNameKeyAndString(t *testing.T) {
	for _, tc := range []struct {
		n         Name
		key, text string
	}{
		{Name{"public", "s"}, "public.s", "public.s"},
		{Name{"public", "Mixed"}, "public.Mixed", `public."Mixed"`},
		{Name{"a b", `x"y`}, `a b.x"y`, `"a b"."x""y"`},
		{Name{"s1", "1x"}, "s1.1x", `s1."1x"`},
	} {
		if got := tc.n.Key(); got != tc.key {
			t.Errorf("%#v.Key() = %q, want %q", tc.n, got, tc.key)
		}
		if got := tc.n.String(); got != tc.text {
			t.Errorf("%#v.String() = %q, want %q", tc.n, got, tc.text)
		}
		// String round-trips through ParseName.
		if back, err := ParseName(tc.n.String(), "x"); err != nil || back != tc.n {
			t.Errorf("ParseName(%q) = %#v, %v", tc.n.String(), back, err)
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		s    string
		neg  bool
		want int64
		ok   bool
	}{
		{"42", false, 42, true},
		{"42", true, -42, true},
		{"010", false, 10, true},
		{"1_000_000", false, 1000000, true},
		{"0x1F", false, 31, true},
		{"0o17", false, 15, true},
		{"0b101", true, -5, true},
		{"9223372036854775807", false, 1<<63 - 1, true},
		{"9223372036854775808", true, -1 << 63, true},
		{"9223372036854775808", false, 0, false},
		{"1__0", false, 0, false},
		{"1_", false, 0, false},
		{"1.5", false, 0, false},
		{"1e3", false, 0, false},
	} {
		got, ok := parseInt(tc.s, tc.neg)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseInt(%q, %v) = %d, %v; want %d, %v", tc.s, tc.neg, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKindAndFuncStrings(t *testing.T) {
	got := []string{Pass.String(), Local.String(), Bind.String(), Implicit.String(), Refuse.String(), Kind(9).String(),
		Nextval.String(), Currval.String(), Setval.String(), Lastval.String(), Func(0).String()}
	want := []string{"Pass", "Local", "Bind", "Implicit", "Refuse", "Kind(9)", "nextval", "currval", "setval", "lastval", "Func(0)"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}
