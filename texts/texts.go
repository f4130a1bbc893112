// Package texts is the catalogue of everything the bot says to sellers, in Russian and English.
// No seller-visible sentence is written anywhere else.
package texts

import (
	"fmt"
	"strings"
	"time"

	"neurocards/messages"
)

// Key names one text in the catalogue.
type Key string

// Languages the bot speaks. Russian is the default.
const (
	RU = "ru"
	EN = "en"
)

// Lang maps a Telegram language_code (or a stored choice) to a catalogue language.
func Lang(code string) string {
	if strings.HasPrefix(strings.ToLower(code), "en") {
		return EN
	}
	return RU
}

// T formats the text key in lang with args (fmt verbs). A key missing in English falls back to Russian.
func T(lang string, key Key, args ...any) string {
	s, ok := catalogue[Lang(lang)][key]
	if !ok {
		s, ok = catalogue[RU][key]
	}
	if !ok {
		return string(key)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Credits renders an amount of credits with the right plural form: "1 кредит", "3 кредита", "10 credits".
func Credits(lang string, n int64) string {
	if Lang(lang) == EN {
		if n == 1 || n == -1 {
			return fmt.Sprintf("%d credit", n)
		}
		return fmt.Sprintf("%d credits", n)
	}
	a := n
	if a < 0 {
		a = -a
	}
	switch {
	case a%10 == 1 && a%100 != 11:
		return fmt.Sprintf("%d кредит", n)
	case a%10 >= 2 && a%10 <= 4 && (a%100 < 12 || a%100 > 14):
		return fmt.Sprintf("%d кредита", n)
	default:
		return fmt.Sprintf("%d кредитов", n)
	}
}

// Elapsed renders a duration as m:ss for the status message.
func Elapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// reasonTexts are, by failure reason, the message that explains a failed job and the short
// reason its history line shows. A reason not listed is ours: an internal failure.
var reasonTexts = map[messages.Reason]struct{ fail, why Key }{
	messages.ReasonContentPolicy: {FailContentPolicy, WhyContentPolicy},
	messages.ReasonBadPhoto:      {FailBadPhoto, WhyBadPhoto},
	messages.ReasonPhotoTooSmall: {FailBadPhoto, WhyBadPhoto},
	messages.ReasonPhotoTooLarge: {FailBadPhoto, WhyBadPhoto},
	messages.ReasonUnavailable:   {FailUnavailable, WhyUnavailable},
	messages.ReasonTimeout:       {FailTimeout, WhyTimeout},
	messages.ReasonDelivery:      {FailDelivery, WhyDelivery},
	messages.ReasonBlocked:       {FailInternal, WhyBlocked}, // a blocked seller is never sent the message
	messages.ReasonCancelled:     {FailCancelled, WhyCancelled},
	messages.ReasonUpstream:      {FailUpstream, WhyUpstream},
	messages.ReasonUpstreamDown:  {FailUpstream, WhyUpstream},
}

// FailureKey is the text that explains a failed job to the seller, by reason.
func FailureKey(f messages.Failure) Key {
	if t, ok := reasonTexts[f.Reason]; ok {
		return t.fail
	}
	return FailInternal
}

// WhyKey is the short reason a failed job shows in the history, by reason.
func WhyKey(f messages.Failure) Key {
	if t, ok := reasonTexts[f.Reason]; ok {
		return t.why
	}
	return WhyInternal
}

// SignedCredits is Credits with an explicit sign: "+10 кредитов", "−3 credits".
func SignedCredits(lang string, n int64) string {
	if n < 0 {
		return "−" + Credits(lang, -n)
	}
	return "+" + Credits(lang, n)
}

// Moscow is the time zone of every date the bot shows, in both languages: its sellers work on
// Russian marketplaces. Moscow has kept UTC+3 all year since 2014, so a fixed zone needs no tzdata.
var Moscow = time.FixedZone("MSK", 3*60*60)

// DayStart is midnight in Moscow of the day t falls on.
func DayStart(t time.Time) time.Time {
	t = t.In(Moscow)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Moscow)
}

var monthsRU = [...]string{"янв.", "февр.", "марта", "апр.", "мая", "июня", "июля", "авг.", "сент.", "окт.", "нояб.", "дек."}

// Date renders a moment in Moscow time: "28 нояб. 14:03", "28 Nov 14:03".
func Date(lang string, t time.Time) string {
	t = t.In(Moscow)
	if Lang(lang) == EN {
		return t.Format("2 Jan 15:04")
	}
	return fmt.Sprintf("%d %s %s", t.Day(), monthsRU[t.Month()-1], t.Format("15:04"))
}

// Wait renders how long until something starts, roughly: "примерно через 3 мин", "in about 3 min";
// under a minute it is "меньше чем через минуту", "in under a minute".
func Wait(lang string, d time.Duration) string {
	mins := int((d + 30*time.Second) / time.Minute)
	if Lang(lang) == EN {
		if mins < 1 {
			return "in under a minute"
		}
		return fmt.Sprintf("in about %d min", mins)
	}
	if mins < 1 {
		return "меньше чем через минуту"
	}
	return fmt.Sprintf("примерно через %d мин", mins)
}
