package operator

import (
	"strings"
	"testing"

	"neurocards/texts"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		cmd, arg string
		usage    texts.Key
		want     Command
	}{
		{"grant", "901 5", "", Command{Name: "grant", Seller: 901, Amount: 5}},
		{"grant", "901 +5 за жалобу", "", Command{Name: "grant", Seller: 901, Amount: 5, Reason: "за жалобу"}},
		{"grant", "901 -5", "", Command{Name: "grant", Seller: 901, Amount: -5}},
		{"grant", "901 +-5", texts.AdminGrantUsage, Command{Name: "grant"}},
		{"grant", "901 --5", texts.AdminGrantUsage, Command{Name: "grant"}},
		{"grant", "901 0", texts.AdminGrantUsage, Command{Name: "grant"}},
		{"grant", "901 9223372036854775808", texts.AdminGrantUsage, Command{Name: "grant"}},
		{"grant", "901 -9223372036854775808", texts.AdminOutOfRange, Command{Name: "grant"}},
		{"grant", "901 1000001", texts.AdminOutOfRange, Command{Name: "grant"}},
		{"grant", "-901 5", texts.AdminGrantUsage, Command{Name: "grant"}},
		{"grant", "901 5 " + strings.Repeat("я", 201), texts.AdminTooLong, Command{Name: "grant"}},
		{"grant", "901 5 " + strings.Repeat("x", 600), texts.AdminTooLong, Command{Name: "grant"}},
		{"user", "901", "", Command{Name: "user", Seller: 901}},
		{"user", "abc", texts.AdminUserUsage, Command{Name: "user"}},
		{"refund", "#12", "", Command{Name: "refund", JobID: 12}},
		{"refund", "0", texts.AdminRefundUsage, Command{Name: "refund"}},
		{"refundstars", "ch-1 extra", "", Command{Name: "refundstars", Charge: "ch-1"}},
		{"refundstars", "", texts.AdminStarsUsage, Command{Name: "refundstars"}},
		{"stats", "", "", Command{Name: "stats"}},
	} {
		got, usage, ok := Parse(c.cmd, c.arg)
		if !ok || usage != c.usage || (usage == "" && got != c.want) {
			t.Errorf("%s %q: %+v %q %v, want %+v %q", c.cmd, c.arg, got, usage, ok, c.want, c.usage)
		}
	}
	if _, _, ok := Parse("start", ""); ok {
		t.Error("/start read as an operator command")
	}
}

// FuzzParse: an operator's arguments never panic the parser, and what it accepts is within the
// bounds an answer can echo.
func FuzzParse(f *testing.F) {
	for _, seed := range [][2]string{{"grant", "901 5 причина"}, {"grant", "901 +-5"}, {"user", "1"}, {"refund", "#3"}, {"refundstars", "c:1"}, {"grant", "1 -9223372036854775808"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, cmd, arg string) {
		c, usage, ok := Parse(cmd, arg)
		if !ok || usage != "" {
			return
		}
		if len(arg) > MaxArgs || len([]rune(c.Reason)) > MaxReason || c.Amount > MaxAmount || c.Amount < -MaxAmount {
			t.Fatalf("%s %q accepted as %+v", cmd, arg, c)
		}
	})
}
