// Package keyboard is every inline keyboard the bot shows and the codec of the data its buttons
// carry. Callback data is compact "action:arg" (≤ 64 bytes, Telegram's limit); the conversation
// parses it here, and tests build and find buttons with the same names instead of string literals.
package keyboard

import (
	"strconv"
	"strings"

	"neurocards/texts"
)

// Action is what a button asks for: the part of its data before the first colon.
type Action string

const (
	Kind     Action = "k"     // k:<kind> — start an order of that kind
	Skip     Action = "skip"  // skip:<draft> — no product text
	Generate Action = "ok"    // ok:<draft> — confirm and pay
	Cancel   Action = "no"    // no:<draft> — drop the order
	Again    Action = "again" // again:<kind>:<job> — another of that kind with that job's photo and text
	Retry    Action = "retry" // retry:<job> — repeat a failed job
	Redo     Action = "redo"  // redo:<job> — a new job like that one (from the history)
	Menu     Action = "menu"
	Balance  Action = "bal"
	Help     Action = "help"
	Buy      Action = "buy"  // buy — the packs; buy:<pack> — an invoice for that pack
	History  Action = "hist" // the last jobs
	Lang     Action = "lang" // lang:<ru|en> — speak that language from now on
)

// MaxData is Telegram's limit on callback data, in bytes.
const MaxData = 64

// Prefix is the start of every button's data with this action and an argument: "ok:" — what a
// test looks for when the argument is an id it does not know.
func (a Action) Prefix() string { return string(a) + ":" }

// Callback is parsed callback data.
type Callback struct {
	Action Action
	Arg    string // the raw argument: a kind, a pack, a language
	ID     uint64 // the draft or job the button names, for actions that name one
}

// Parse reads callback data. Anything malformed gives ok=false; the conversation answers it as a
// stale button.
func Parse(data string) (Callback, bool) {
	if data == "" || len(data) > MaxData {
		return Callback{}, false
	}
	action, arg, _ := strings.Cut(data, ":")
	cb := Callback{Action: Action(action), Arg: arg}
	switch cb.Action {
	case Menu, Balance, Help, History:
		return cb, arg == ""
	case Buy:
		return cb, arg == "" || validID(arg)
	case Kind:
		return cb, validID(arg)
	case Again:
		kind, job, named := strings.Cut(arg, ":")
		if !validID(kind) {
			return Callback{}, false
		}
		cb.Arg = kind
		if named { // buttons from before "again" named its job carry only the kind
			id, err := strconv.ParseUint(job, 10, 64)
			if err != nil || id == 0 {
				return Callback{}, false
			}
			cb.ID = id
		}
		return cb, true
	case Lang:
		return cb, arg == texts.RU || arg == texts.EN
	case Skip, Generate, Cancel, Retry, Redo:
		id, err := strconv.ParseUint(arg, 10, 64)
		cb.ID, cb.Arg = id, strconv.FormatUint(id, 10)
		return cb, err == nil && id != 0
	}
	return Callback{}, false
}

// validID is a kind or pack id as the configuration allows them: a-z, 0-9, _ and -, short.
func validID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Data is the callback data of a button with this action and argument.
func (a Action) Data(arg string) string {
	if arg == "" {
		return string(a)
	}
	return string(a) + ":" + arg
}

// ID is the callback data of a button that names a draft or a job.
func (a Action) ID(id uint64) string { return a.Data(strconv.FormatUint(id, 10)) }

// AgainData is the data of an "again" button: another of kind, with job's photo and text.
func AgainData(kind string, job uint64) string {
	return Again.Data(kind + ":" + strconv.FormatUint(job, 10))
}

// InvoicePayload is the payload of a pack's invoice, "pack:<id>:<nonce>"; it comes back in the
// pre-checkout query and the successful payment.
func InvoicePayload(packID, nonce string) string { return "pack:" + packID + ":" + nonce }

// PayloadPack is the pack id of an invoice payload.
func PayloadPack(payload string) (string, bool) {
	rest, ok := strings.CutPrefix(payload, "pack:")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok && validID(id)
}
