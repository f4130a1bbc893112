package actors

import (
	"strconv"
	"strings"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/telegram"
	"neurocards/texts"
)

// Callback data is compact "action:arg" (≤ 64 bytes, Telegram's limit).
const (
	cbKind     = "k"     // k:<kind> — start an order of that kind
	cbSkip     = "skip"  // skip:<draft> — no product text
	cbGenerate = "ok"    // ok:<draft> — confirm and pay
	cbCancel   = "no"    // no:<draft> — drop the order
	cbAgain    = "again" // again:<kind> — same photo and text, new job
	cbRetry    = "retry" // retry:<job> — repeat a failed job
	cbMenu     = "menu"
	cbBalance  = "bal"
	cbHelp     = "help"
)

// callback is parsed callback data.
type callback struct {
	action string
	arg    string
}

// parseCallback splits "action:arg"; anything malformed gives ok=false and is answered as stale.
func parseCallback(data string) (callback, bool) {
	if data == "" || len(data) > 64 {
		return callback{}, false
	}
	action, arg, _ := strings.Cut(data, ":")
	switch action {
	case cbMenu, cbBalance, cbHelp:
		return callback{action: action}, arg == ""
	case cbKind, cbAgain:
		return callback{action, arg}, arg != ""
	case cbSkip, cbGenerate, cbCancel, cbRetry:
		_, err := strconv.ParseUint(arg, 10, 64)
		return callback{action, arg}, err == nil
	}
	return callback{}, false
}

func (cb callback) id() uint64 {
	n, _ := strconv.ParseUint(cb.arg, 10, 64)
	return n
}

func data(action string, arg any) string {
	switch a := arg.(type) {
	case uint64:
		return action + ":" + strconv.FormatUint(a, 10)
	case string:
		return action + ":" + a
	}
	return action
}

// menuKeyboard has one button per kind with its price, then Balance and Help.
func menuKeyboard(cfg config.Config, lang string) telegram.Keyboard {
	var kb telegram.Keyboard
	for _, k := range cfg.Kinds {
		kb = append(kb, telegram.Row(telegram.Button{
			Text: texts.T(lang, texts.KindButton, k.TitleIn(lang), texts.Credits(lang, k.Price)),
			Data: data(cbKind, k.ID),
		}))
	}
	return append(kb, telegram.Row(
		telegram.Button{Text: texts.T(lang, texts.ButtonBalance), Data: cbBalance},
		telegram.Button{Text: texts.T(lang, texts.ButtonHelp), Data: cbHelp},
	))
}

func skipKeyboard(lang string, draft uint64) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(telegram.Button{Text: texts.T(lang, texts.ButtonSkip), Data: data(cbSkip, draft)})}
}

func confirmKeyboard(lang string, draft uint64) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(lang, texts.ButtonGenerate), Data: data(cbGenerate, draft)},
		telegram.Button{Text: texts.T(lang, texts.ButtonCancel), Data: data(cbCancel, draft)},
	)}
}

func menuButton(lang string) telegram.Button {
	return telegram.Button{Text: texts.T(lang, texts.ButtonMenu), Data: cbMenu}
}

// statusKeyboard is on the job's status message: start another of the same kind at once.
func statusKeyboard(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(telegram.Button{Text: texts.T(j.Lang, texts.ButtonAgain), Data: data(cbAgain, j.Kind)})}
}

// resultKeyboard goes under a delivered result: another of the same kind, or the menu.
func resultKeyboard(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(j.Lang, texts.ButtonAgain), Data: data(cbAgain, j.Kind)},
		menuButton(j.Lang),
	)}
}

// failureKeyboard goes under a failure message: retry the same job, or the menu.
func failureKeyboard(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(j.Lang, texts.ButtonRetry), Data: data(cbRetry, j.ID)},
		menuButton(j.Lang),
	)}
}
