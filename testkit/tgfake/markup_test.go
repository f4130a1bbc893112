package tgfake

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	tests := []struct {
		mode, in, want, err string
	}{
		{"", "<b>raw</b> *stays*", "<b>raw</b> *stays*", ""},
		{"HTML", `<b>Кружка</b> &lt;350 мл&gt; &amp; <a href="https://x.io">ссылка</a> &#8381;`, "Кружка <350 мл> & ссылка ₽", ""},
		{"HTML", "AT&T & co", "AT&T & co", ""},
		{"HTML", "<i>a<b>b</b></i><tg-spoiler>s</tg-spoiler>", "abs", ""},
		{"html", "a < b", "", `Unsupported start tag ""`},
		{"HTML", "<br>", "", `Unsupported start tag "br"`},
		{"HTML", "<b>open", "", `Can't find end tag corresponding to start tag "b"`},
		{"HTML", "<b><i>x</b></i>", "", "Unmatched end tag"},
		{"HTML", "x</b>", "", "Unexpected end tag"},
		{"MarkdownV2", `*Готово\!* Цена: 10\.5 ⭐`, "Готово! Цена: 10.5 ⭐", ""},
		{"MarkdownV2", "__u__ ~s~ ||sp|| _i_", "u s sp i", ""},
		{"MarkdownV2", "[сайт](https://x.io/a_(b\\))", "сайт", ""},
		{"MarkdownV2", "`a.b` ```go\nx := 1.5\n```", "a.b x := 1.5\n", ""},
		{"MarkdownV2", ">quote\nline", "quote\nline", ""},
		{"MarkdownV2", "Price: 1.5", "", "Character '.' is reserved"},
		{"MarkdownV2", "*bold", "", "Can't find end of Bold entity at byte offset 0"},
		{"MarkdownV2", "a-b", "", "Character '-' is reserved"},
		{"Markdown", "*bold* _it_ `code` [link](https://x.io) a.b-c", "bold it code link a.b-c", ""},
		{"Markdown", "*bold", "", "Can't find end of the entity starting at byte offset 0"},
		{"Fancy", "x", "", "unsupported parse_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.in, func(t *testing.T) {
			got, e := render(tt.in, tt.mode)
			if tt.err != "" {
				if e == nil || e.status != 400 || !strings.Contains(e.desc, tt.err) {
					t.Fatalf("render = %q, %+v; want error with %q", got, e, tt.err)
				}
				return
			}
			if e != nil || got != tt.want {
				t.Fatalf("render = %q, %+v; want %q", got, e, tt.want)
			}
		})
	}
}

func TestUTF16Len(t *testing.T) {
	for in, want := range map[string]int{"": 0, "abc": 3, "Привет": 6, "⭐": 1, "😀": 2} {
		if got := utf16Len(in); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", in, got, want)
		}
	}
}
