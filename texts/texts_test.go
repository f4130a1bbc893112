package texts

import (
	"strings"
	"testing"
	"time"
)

func TestEveryKeyInBothLanguages(t *testing.T) {
	for lang, other := range map[string]string{RU: EN, EN: RU} {
		for key := range catalogue[lang] {
			if _, ok := catalogue[other][key]; !ok {
				t.Errorf("%s has %q but %s does not", lang, key, other)
			}
		}
	}
}

func TestVerbsMatchAcrossLanguages(t *testing.T) {
	for key, ru := range catalogue[RU] {
		if got, want := verbs(catalogue[EN][key]), verbs(ru); got != want {
			t.Errorf("%q: en verbs %q, ru verbs %q", key, got, want)
		}
	}
}

func verbs(s string) string {
	var out []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.", s[j]) >= 0 {
				j++
			}
			if j < len(s) {
				out = append(out, s[i:j+1])
			}
			i = j
		}
	}
	return strings.Join(out, " ")
}

func TestLang(t *testing.T) {
	for code, want := range map[string]string{"en": EN, "en-US": EN, "ru": RU, "": RU, "uk": RU, "de": RU} {
		if got := Lang(code); got != want {
			t.Errorf("Lang(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestCredits(t *testing.T) {
	cases := []struct {
		lang string
		n    int64
		want string
	}{
		{RU, 1, "1 кредит"}, {RU, 2, "2 кредита"}, {RU, 5, "5 кредитов"}, {RU, 11, "11 кредитов"},
		{RU, 21, "21 кредит"}, {RU, 22, "22 кредита"}, {RU, 12, "12 кредитов"}, {RU, 0, "0 кредитов"},
		{RU, -10, "-10 кредитов"}, {EN, 1, "1 credit"}, {EN, 20, "20 credits"},
	}
	for _, c := range cases {
		if got := Credits(c.lang, c.n); got != c.want {
			t.Errorf("Credits(%s, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

func TestElapsed(t *testing.T) {
	if got := Elapsed(95 * time.Second); got != "1:35" {
		t.Errorf("Elapsed = %q", got)
	}
}

func TestEnglishFallsBackToRussianForUnknownLanguage(t *testing.T) {
	if got := T("de", ButtonMenu); got != catalogue[RU][ButtonMenu] {
		t.Errorf("T(de) = %q", got)
	}
	if got := T("en", ButtonMenu); got != "📋 Menu" {
		t.Errorf("T(en) = %q", got)
	}
}

func TestDateInMoscowTime(t *testing.T) {
	at := time.Date(2026, time.November, 28, 11, 3, 0, 0, time.UTC)
	if got := Date(RU, at); got != "28 нояб. 14:03" {
		t.Errorf("Date(ru) = %q", got)
	}
	if got := Date(EN, at); got != "28 Nov 14:03" {
		t.Errorf("Date(en) = %q", got)
	}
	late := time.Date(2026, time.November, 28, 22, 30, 0, 0, time.UTC)
	if got, want := DayStart(late), time.Date(2026, time.November, 29, 0, 0, 0, 0, Moscow); !got.Equal(want) {
		t.Errorf("DayStart = %v, want %v", got, want)
	}
}

func TestSignedCredits(t *testing.T) {
	if got := SignedCredits(RU, 10); got != "+10 кредитов" {
		t.Errorf("SignedCredits(+10) = %q", got)
	}
	if got := SignedCredits(EN, -1); got != "−1 credit" {
		t.Errorf("SignedCredits(-1) = %q", got)
	}
}
