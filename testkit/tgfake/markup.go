package tgfake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// render applies parse_mode the way Telegram does: the seller reads the text without markup,
// and malformed markup fails the call with "can't parse entities", so escaping bugs in the bot
// (a product name with "<" or ".") show up in tests rather than in production.
func render(text, mode string) (string, *apiError) {
	var (
		out string
		err error
	)
	switch strings.ToLower(mode) {
	case "":
		return text, nil
	case "html":
		out, err = renderHTML(text)
	case "markdownv2":
		out, err = renderMarkdownV2(text)
	case "markdown":
		out, err = renderMarkdown(text)
	default:
		return "", badRequest("unsupported parse_mode")
	}
	if err != nil {
		return "", badRequest("can't parse entities: %v", err)
	}
	return out, nil
}

// utf16Len is a length as Telegram counts it, in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "span": true, "tg-spoiler": true, "a": true, "code": true, "pre": true,
	"blockquote": true, "tg-emoji": true,
}

var htmlEntities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "apos": "'", "nbsp": "\u00a0"}

func renderHTML(s string) (string, error) {
	var (
		out  strings.Builder
		open []string
	)
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if rest, closing := strings.CutPrefix(s[i+1:], "/"); closing {
				end := strings.IndexByte(rest, '>')
				if end < 0 {
					return "", fmt.Errorf("Unclosed end tag at byte offset %d", i)
				}
				name := strings.ToLower(strings.TrimSpace(rest[:end]))
				if len(open) == 0 {
					return "", fmt.Errorf("Unexpected end tag at byte offset %d", i)
				}
				if top := open[len(open)-1]; top != name {
					return "", fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top, name)
				}
				open = open[:len(open)-1]
				i += 2 + end + 1
				continue
			}
			// The name is checked before the closing '>' is looked for, so "a < b" and "<3" fail
			// as unsupported tags, like on Telegram.
			rest := s[i+1:]
			name := rest
			if j := strings.IndexAny(rest, " \t\n/>"); j >= 0 {
				name = rest[:j]
			}
			name = strings.ToLower(name)
			if !htmlTags[name] {
				return "", fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, i)
			}
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return "", fmt.Errorf("Unclosed start tag at byte offset %d", i)
			}
			open = append(open, name)
			i += 1 + end + 1
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 1 && j <= 10 {
				if r, ok := htmlEntity(s[i+1 : i+j]); ok {
					out.WriteString(r)
					i += j + 1
					continue
				}
			}
			out.WriteByte('&')
			i++
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", open[len(open)-1])
	}
	return out.String(), nil
}

func htmlEntity(name string) (string, bool) {
	if r, ok := htmlEntities[name]; ok {
		return r, true
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok {
		return "", false
	}
	base := 10
	if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
		num, base = hex, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return "", false
	}
	return string(rune(n)), true
}

// mdv2Reserved must be escaped with a backslash outside entities in MarkdownV2.
const mdv2Reserved = "_*[]()~`>#+-=|{}.!"

// renderMarkdownV2 strips MarkdownV2 markup and enforces its escaping rules. Entity names in
// errors follow Telegram's ("Bold", "Italic", ...).
func renderMarkdownV2(s string) (string, error) {
	var out strings.Builder
	open := map[string]int{} // entity → byte offset of its opening marker
	toggle := func(name string, at int) {
		if _, ok := open[name]; ok {
			delete(open, name)
		} else {
			open[name] = at
		}
	}
	linkAt := -1
	lineStart := true
	for i := 0; i < len(s); {
		c := s[i]
		atLineStart := lineStart
		lineStart = c == '\n'
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", errors.New("Character '\\' is reserved and must be escaped with the preceding '\\'")
			}
			_, size := utf8.DecodeRuneInString(s[i+1:])
			out.WriteString(s[i+1 : i+1+size])
			i += 1 + size
		case strings.HasPrefix(s[i:], "```"):
			body, n, ok := codeSpan(s[i+3:], "```")
			if !ok {
				return "", fmt.Errorf("Can't find end of Pre entity at byte offset %d", i)
			}
			if nl := strings.IndexByte(body, '\n'); nl >= 0 && !strings.ContainsAny(body[:nl], " \t") {
				body = body[nl+1:] // the first line names the language
			}
			out.WriteString(body)
			i += 3 + n
		case c == '`':
			body, n, ok := codeSpan(s[i+1:], "`")
			if !ok {
				return "", fmt.Errorf("Can't find end of Code entity at byte offset %d", i)
			}
			out.WriteString(body)
			i += 1 + n
		case c == '*':
			toggle("Bold", i)
			i++
		case c == '_' && strings.HasPrefix(s[i:], "__"):
			toggle("Underline", i)
			i += 2
		case c == '_':
			toggle("Italic", i)
			i++
		case c == '~':
			toggle("Strikethrough", i)
			i++
		case strings.HasPrefix(s[i:], "||"):
			toggle("Spoiler", i)
			i += 2
		case strings.HasPrefix(s[i:], "!["):
			linkAt = i
			i += 2
		case c == '[' && linkAt < 0:
			linkAt = i
			i++
		case c == ']' && linkAt >= 0:
			if !strings.HasPrefix(s[i+1:], "(") {
				return "", fmt.Errorf("Can't find end of TextUrl entity at byte offset %d", linkAt)
			}
			_, n, ok := codeSpan(s[i+2:], ")")
			if !ok {
				return "", fmt.Errorf("Can't find end of a URL at byte offset %d", i+1)
			}
			linkAt = -1
			i += 2 + n
		case c == '>' && atLineStart:
			i++ // blockquote marker
		case strings.IndexByte(mdv2Reserved, c) >= 0:
			return "", fmt.Errorf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
		default:
			out.WriteByte(c)
			i++
		}
	}
	if linkAt >= 0 {
		return "", fmt.Errorf("Can't find end of TextUrl entity at byte offset %d", linkAt)
	}
	first, at := "", len(s)
	for name, off := range open {
		if off < at {
			first, at = name, off
		}
	}
	if first != "" {
		return "", fmt.Errorf("Can't find end of %s entity at byte offset %d", first, at)
	}
	return out.String(), nil
}

// codeSpan reads up to the closing marker, honouring backslash escapes. It returns the unescaped
// body and the bytes consumed, closing marker included.
func codeSpan(s, closing string) (string, int, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '\\' && i+1 < len(s) {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		if strings.HasPrefix(s[i:], closing) {
			return b.String(), i + len(closing), true
		}
		b.WriteByte(s[i])
		i++
	}
	return "", 0, false
}

// renderMarkdown strips legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url).
func renderMarkdown(s string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("_*`[", s[i+1]) >= 0:
			out.WriteByte(s[i+1])
			i += 2
		case strings.HasPrefix(s[i:], "```"):
			end := strings.Index(s[i+3:], "```")
			if end < 0 {
				return "", fmt.Errorf("Can't find end of the entity starting at byte offset %d", i)
			}
			out.WriteString(s[i+3 : i+3+end])
			i += 3 + end + 3
		case c == '*' || c == '_' || c == '`':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return "", fmt.Errorf("Can't find end of the entity starting at byte offset %d", i)
			}
			out.WriteString(s[i+1 : i+1+end])
			i += 1 + end + 1
		case c == '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				return "", fmt.Errorf("Can't find end of the entity starting at byte offset %d", i)
			}
			out.WriteString(s[i+1 : i+1+end])
			i += 1 + end + 1
			if strings.HasPrefix(s[i:], "(") {
				if close := strings.IndexByte(s[i:], ')'); close >= 0 {
					i += close + 1
				}
			}
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}
