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
	cbAgain    = "again" // again:<kind>:<job> — another of that kind with that job's photo and text
	cbRetry    = "retry" // retry:<job> — repeat a failed job
	cbMenu     = "menu"
	cbBalance  = "bal"
	cbHelp     = "help"
	cbBuy      = "buy"  // buy — the packs; buy:<pack> — an invoice for that pack
	cbHistory  = "hist" // the last jobs
	cbRedo     = "redo" // redo:<job> — a new job like that one (from the history)
	cbLang     = "lang" // lang:<ru|en> — speak that language from now on
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
	case cbMenu, cbBalance, cbHelp, cbHistory:
		return callback{action: action}, arg == ""
	case cbBuy:
		return callback{action, arg}, true
	case cbKind, cbAgain:
		return callback{action, arg}, arg != ""
	case cbLang:
		return callback{action, arg}, arg == texts.RU || arg == texts.EN
	case cbSkip, cbGenerate, cbCancel, cbRetry, cbRedo:
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

// menuKeyboard has one button per kind with its price, then Balance and History, Top up and Help.
func menuKeyboard(cfg config.Config, lang string) telegram.Keyboard {
	var kb telegram.Keyboard
	for _, k := range cfg.Kinds {
		kb = append(kb, telegram.Row(telegram.Button{
			Text: texts.T(lang, texts.KindButton, k.TitleIn(lang), texts.Credits(lang, k.Price)),
			Data: data(cbKind, k.ID),
		}))
	}
	return append(kb,
		telegram.Row(
			telegram.Button{Text: texts.T(lang, texts.ButtonBalance), Data: cbBalance},
			telegram.Button{Text: texts.T(lang, texts.ButtonHistory), Data: cbHistory},
		),
		telegram.Row(
			topUpButton(lang),
			telegram.Button{Text: texts.T(lang, texts.ButtonHelp), Data: cbHelp},
		),
	)
}

func topUpButton(lang string) telegram.Button {
	return telegram.Button{Text: texts.T(lang, texts.ButtonTopUp), Data: cbBuy}
}

// lowKeyboard goes under "not enough credits": Top up first, then the menu.
func lowKeyboard(cfg config.Config, lang string) telegram.Keyboard {
	return append(telegram.Keyboard{telegram.Row(topUpButton(lang))}, menuKeyboard(cfg, lang)...)
}

// packsKeyboard offers every credit pack with its price in Stars, then the menu.
func packsKeyboard(cfg config.Config, lang string) telegram.Keyboard {
	var kb telegram.Keyboard
	for _, p := range cfg.Packs {
		kb = append(kb, telegram.Row(telegram.Button{
			Text: texts.T(lang, texts.PackButton, texts.Credits(lang, p.Credits), p.Stars),
			Data: data(cbBuy, p.ID),
		}))
	}
	return append(kb, telegram.Row(menuButton(lang)))
}

// balanceKeyboard goes under the balance: Top up, History, the menu.
func balanceKeyboard(lang string) telegram.Keyboard {
	return telegram.Keyboard{
		telegram.Row(topUpButton(lang), telegram.Button{Text: texts.T(lang, texts.ButtonHistory), Data: cbHistory}),
		telegram.Row(menuButton(lang)),
	}
}

// historyKeyboard has a button per finished job to run it again — retry for a failed one not yet
// retried, again for the rest — three to a row, then the menu.
func historyKeyboard(lang string, jobs []messages.Job) telegram.Keyboard {
	var (
		kb  telegram.Keyboard
		row []telegram.Button
	)
	for _, j := range jobs {
		if !j.Terminal() {
			continue
		}
		b := telegram.Button{Text: texts.T(lang, texts.ButtonRedo, j.ID), Data: data(cbRedo, j.ID)}
		if j.Outcome == messages.OutcomeFailed && j.RetriedBy == 0 {
			b = telegram.Button{Text: texts.T(lang, texts.ButtonRetryJob, j.ID), Data: data(cbRetry, j.ID)}
		}
		if row = append(row, b); len(row) == 3 {
			kb, row = append(kb, row), nil
		}
	}
	if len(row) > 0 {
		kb = append(kb, row)
	}
	return append(kb, telegram.Row(menuButton(lang)))
}

func langKeyboard() telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(texts.RU, texts.ButtonLangRU), Data: data(cbLang, texts.RU)},
		telegram.Button{Text: texts.T(texts.EN, texts.ButtonLangEN), Data: data(cbLang, texts.EN)},
	)}
}

// invoicePayload is the payload of a pack's invoice, "pack:<id>:<nonce>"; it comes back in the
// pre-checkout query and the successful payment.
func invoicePayload(packID, nonce string) string { return "pack:" + packID + ":" + nonce }

// payloadPack is the pack id of an invoice payload.
func payloadPack(payload string) (string, bool) {
	rest, ok := strings.CutPrefix(payload, "pack:")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok && id != ""
}

// Commands is the command menu in lang, registered with setMyCommands at start. Operator commands
// stay out of it: sellers should not see them.
func Commands(lang string) []telegram.Command {
	cmd := func(name string, key texts.Key) telegram.Command {
		return telegram.Command{Name: name, Description: texts.T(lang, key)}
	}
	return []telegram.Command{
		cmd("start", texts.CmdStart),
		cmd("buy", texts.CmdBuy),
		cmd("balance", texts.CmdBalance),
		cmd("history", texts.CmdHistory),
		cmd("lang", texts.CmdLang),
		cmd("help", texts.CmdHelp),
	}
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

// againButton starts another job of j's kind with j's photo and text. It names j, so a second
// tap on the same button is recognised and starts nothing.
func againButton(j messages.Job) telegram.Button {
	return telegram.Button{Text: texts.T(j.Lang, texts.ButtonAgain), Data: data(cbAgain, j.Kind+":"+strconv.FormatUint(j.ID, 10))}
}

// statusKeyboard is on the job's status message: start another of the same kind at once.
func statusKeyboard(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(againButton(j))}
}

// resultKeyboard goes under a delivered result: another of the same kind, or the menu.
func resultKeyboard(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		againButton(j),
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
