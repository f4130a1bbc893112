package keyboard

import (
	"neurocards/config"
	"neurocards/messages"
	"neurocards/telegram"
	"neurocards/texts"
)

// MainMenu has one button per kind with its price, then Balance and History, Top up and Help.
func MainMenu(cfg config.Config, lang string) telegram.Keyboard {
	var kb telegram.Keyboard
	for _, k := range cfg.Kinds {
		kb = append(kb, telegram.Row(telegram.Button{
			Text: texts.T(lang, texts.KindButton, k.TitleIn(lang), texts.Credits(lang, k.Price)),
			Data: Kind.Data(k.ID),
		}))
	}
	return append(kb,
		telegram.Row(
			telegram.Button{Text: texts.T(lang, texts.ButtonBalance), Data: Balance.Data("")},
			telegram.Button{Text: texts.T(lang, texts.ButtonHistory), Data: History.Data("")},
		),
		telegram.Row(
			topUpButton(lang),
			telegram.Button{Text: texts.T(lang, texts.ButtonHelp), Data: Help.Data("")},
		),
	)
}

func topUpButton(lang string) telegram.Button {
	return telegram.Button{Text: texts.T(lang, texts.ButtonTopUp), Data: Buy.Data("")}
}

func menuButton(lang string) telegram.Button {
	return telegram.Button{Text: texts.T(lang, texts.ButtonMenu), Data: Menu.Data("")}
}

// Low goes under "not enough credits": Top up first, then the menu.
func Low(cfg config.Config, lang string) telegram.Keyboard {
	return append(telegram.Keyboard{telegram.Row(topUpButton(lang))}, MainMenu(cfg, lang)...)
}

// Packs offers every credit pack with its price in Stars, then the menu.
func Packs(cfg config.Config, lang string) telegram.Keyboard {
	var kb telegram.Keyboard
	for _, p := range cfg.Packs {
		kb = append(kb, telegram.Row(telegram.Button{
			Text: texts.T(lang, texts.PackButton, texts.Credits(lang, p.Credits), p.Stars),
			Data: Buy.Data(p.ID),
		}))
	}
	return append(kb, telegram.Row(menuButton(lang)))
}

// BalanceMenu goes under the balance: Top up, History, the menu.
func BalanceMenu(lang string) telegram.Keyboard {
	return telegram.Keyboard{
		telegram.Row(topUpButton(lang), telegram.Button{Text: texts.T(lang, texts.ButtonHistory), Data: History.Data("")}),
		telegram.Row(menuButton(lang)),
	}
}

// HistoryMenu has a button per finished job to run it again — retry for a failed one not yet
// retried, redo for the rest — three to a row, then the menu.
func HistoryMenu(lang string, jobs []messages.Job) telegram.Keyboard {
	var (
		kb  telegram.Keyboard
		row []telegram.Button
	)
	for _, j := range jobs {
		if !j.Terminal() {
			continue
		}
		b := telegram.Button{Text: texts.T(lang, texts.ButtonRedo, j.ID), Data: Redo.ID(j.ID)}
		if j.Outcome == messages.OutcomeFailed && j.RetriedBy == 0 {
			b = telegram.Button{Text: texts.T(lang, texts.ButtonRetryJob, j.ID), Data: Retry.ID(j.ID)}
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

// Languages offers Russian and English.
func Languages() telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(texts.RU, texts.ButtonLangRU), Data: Lang.Data(texts.RU)},
		telegram.Button{Text: texts.T(texts.EN, texts.ButtonLangEN), Data: Lang.Data(texts.EN)},
	)}
}

// SkipText goes under the request for the product text: order without one.
func SkipText(lang string, draft uint64) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(telegram.Button{Text: texts.T(lang, texts.ButtonSkip), Data: Skip.ID(draft)})}
}

// Confirm goes under the order's confirmation: Generate (pay) or Cancel.
func Confirm(lang string, draft uint64) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(lang, texts.ButtonGenerate), Data: Generate.ID(draft)},
		telegram.Button{Text: texts.T(lang, texts.ButtonCancel), Data: Cancel.ID(draft)},
	)}
}

// againButton starts another job of j's kind with j's photo and text. It names j, so a second
// tap on the same button is recognised and starts nothing.
func againButton(j messages.Job) telegram.Button {
	return telegram.Button{Text: texts.T(j.Lang, texts.ButtonAgain), Data: AgainData(j.Kind, j.ID)}
}

// Status is on a job's status message: start another of the same kind at once.
func Status(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(againButton(j))}
}

// Result goes under a delivered result: another of the same kind, or the menu.
func Result(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(againButton(j), menuButton(j.Lang))}
}

// Failure goes under a failure message: retry the same job, or the menu.
func Failure(j messages.Job) telegram.Keyboard {
	return telegram.Keyboard{telegram.Row(
		telegram.Button{Text: texts.T(j.Lang, texts.ButtonRetry), Data: Retry.ID(j.ID)},
		menuButton(j.Lang),
	)}
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
