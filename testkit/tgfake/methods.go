package tgfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

type methodFunc func(*Server, form) (any, *apiError)

// methodHandlers are the methods besides getUpdates, which holds the request and so is served
// on its own. Each runs with Server.mu held and must change nothing when it fails.
var methodHandlers = map[string]methodFunc{
	"getMe":                  func(*Server, form) (any, *apiError) { return botUser(), nil },
	"sendMessage":            (*Server).sendMessage,
	"editMessageText":        (*Server).editMessageText,
	"editMessageCaption":     (*Server).editMessageCaption,
	"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
	"deleteMessage":          (*Server).deleteMessage,
	"answerCallbackQuery":    (*Server).answerCallbackQuery,
	"sendChatAction":         (*Server).sendChatAction,
	"sendVideo":              func(s *Server, f form) (any, *apiError) { return s.sendMedia(f, "video") },
	"sendPhoto":              func(s *Server, f form) (any, *apiError) { return s.sendMedia(f, "photo") },
	"sendDocument":           func(s *Server, f form) (any, *apiError) { return s.sendMedia(f, "document") },
	"getFile":                (*Server).getFile,
	"setMyCommands":          (*Server).setMyCommands,
	"getMyCommands":          (*Server).getMyCommands,
	"deleteMyCommands":       (*Server).deleteMyCommands,
	"sendInvoice":            (*Server).sendInvoice,
	"answerPreCheckoutQuery": (*Server).answerPreCheckoutQuery,
	"refundStarPayment":      (*Server).refundStarPayment,
	"setWebhook":             (*Server).setWebhook,
	"deleteWebhook":          (*Server).deleteWebhook,
	"getWebhookInfo":         (*Server).getWebhookInfo,
}

// methodNames maps a lower-cased method to its canonical name: Telegram ignores the case.
var methodNames = func() map[string]string {
	m := map[string]string{"getupdates": "getUpdates"}
	for name := range methodHandlers {
		m[strings.ToLower(name)] = name
	}
	return m
}()

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// uploadLimit is the Bot API's multipart upload cap.
const uploadLimit = 50 << 20

// downloadLimit is the largest file getFile hands out.
const downloadLimit = 20 << 20

func (s *Server) sendMessage(f form) (any, *apiError) {
	c, e := s.targetChat(f)
	if e != nil {
		return nil, e
	}
	text, e := messageText(f.str("text"), f.str("parse_mode"))
	if e != nil {
		return nil, e
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	en := c.add(Message{FromBot: true, Method: "sendMessage", Text: text, Buttons: buttons},
		models.Message{Text: text, ReplyMarkup: inlineMarkup(rows)})
	s.emit(c.user.ID, "bot.send", &en.Message, text)
	return en.model, nil
}

// editTarget finds the bot message an edit names.
func (s *Server) editTarget(f form) (*chat, *entry, *apiError) {
	if f.str("inline_message_id") != "" {
		return nil, nil, badRequest("MESSAGE_ID_INVALID")
	}
	c, e := s.targetChat(f)
	if e != nil {
		return nil, nil, e
	}
	id, e := f.int64Field("message_id")
	if e != nil {
		return nil, nil, e
	}
	if id == 0 {
		return nil, nil, badRequest("message identifier is not specified")
	}
	en := c.find(int(id))
	if en == nil || en.Deleted {
		return nil, nil, badRequest("message to edit not found")
	}
	if !en.FromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	return c, en, nil
}

// applyEdit records an edit; previous is the text or caption being replaced.
func (s *Server) applyEdit(c *chat, en *entry, previous string, model models.Message) {
	now := time.Now()
	if !s.lean.on {
		en.Edits = append(en.Edits, previous)
	}
	en.EditedAt = now
	model.EditDate = int(now.Unix())
	en.model = model
	s.emit(c.user.ID, "bot.edit", &en.Message, en.Text+en.Caption)
}

func (s *Server) editMessageText(f form) (any, *apiError) {
	c, en, e := s.editTarget(f)
	if e != nil {
		return nil, e
	}
	if en.model.Text == "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	text, e := messageText(f.str("text"), f.str("parse_mode"))
	if e != nil {
		return nil, e
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if text == en.Text && sameButtons(buttons, en.Buttons) {
		return nil, badRequest(notModified)
	}
	previous := en.Text
	en.Text, en.Buttons = text, buttons
	model := en.model
	model.Text, model.ReplyMarkup = text, inlineMarkup(rows)
	s.applyEdit(c, en, previous, model)
	return en.model, nil
}

func (s *Server) editMessageCaption(f form) (any, *apiError) {
	c, en, e := s.editTarget(f)
	if e != nil {
		return nil, e
	}
	if en.File == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	caption, e := captionText(f.str("caption"), f.str("parse_mode"))
	if e != nil {
		return nil, e
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if caption == en.Caption && sameButtons(buttons, en.Buttons) {
		return nil, badRequest(notModified)
	}
	previous := en.Caption
	en.Caption, en.Buttons = caption, buttons
	model := en.model
	model.Caption, model.ReplyMarkup = caption, inlineMarkup(rows)
	s.applyEdit(c, en, previous, model)
	return en.model, nil
}

func (s *Server) editMessageReplyMarkup(f form) (any, *apiError) {
	c, en, e := s.editTarget(f)
	if e != nil {
		return nil, e
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	if sameButtons(buttons, en.Buttons) {
		return nil, badRequest(notModified)
	}
	en.Buttons = buttons
	model := en.model
	model.ReplyMarkup = inlineMarkup(rows)
	s.applyEdit(c, en, en.Text+en.Caption, model)
	return en.model, nil
}

func (s *Server) deleteMessage(f form) (any, *apiError) {
	c, e := s.targetChat(f)
	if e != nil {
		return nil, e
	}
	id, e := f.int64Field("message_id")
	if e != nil {
		return nil, e
	}
	en := c.find(int(id))
	if en == nil || en.Deleted {
		return nil, badRequest("message to delete not found")
	}
	en.Deleted = true
	s.emit(c.user.ID, "bot.delete", &en.Message, "")
	return true, nil
}

func (s *Server) answerCallbackQuery(f form) (any, *apiError) {
	id := f.str("callback_query_id")
	q, ok := s.callbacks[id]
	// Telegram accepts one answer per query; a second one is refused like an expired query.
	if !ok || q.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	text := f.str("text")
	if utf16Len(text) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	q.answered = true
	s.cbAnswers = append(s.cbAnswers, CallbackAnswer{
		QueryID: id, ChatID: q.chatID, MessageID: q.messageID, Data: q.data,
		Text: text, ShowAlert: f.boolField("show_alert"), URL: f.str("url"), At: time.Now(),
	})
	var m *Message
	if c := s.chats[q.chatID]; c != nil {
		if en := c.find(q.messageID); en != nil {
			m = &en.Message
		}
	}
	s.emit(q.chatID, "bot.callback_answer", m, text)
	return true, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(f form) (any, *apiError) {
	c, e := s.targetChat(f)
	if e != nil {
		return nil, e
	}
	action := f.str("action")
	if !chatActions[action] {
		return nil, badRequest("wrong parameter action in request")
	}
	s.emit(c.user.ID, "bot.action", nil, action)
	return true, nil
}

// sendMedia serves sendVideo, sendPhoto and sendDocument; kind is the file field.
func (s *Server) sendMedia(f form, kind string) (any, *apiError) {
	c, e := s.targetChat(f)
	if e != nil {
		return nil, e
	}
	caption, e := captionText(f.str("caption"), f.str("parse_mode"))
	if e != nil {
		return nil, e
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	upload, fileID := f.file(kind)
	var (
		sf   *storedFile
		file File
	)
	switch {
	case upload != nil:
		if upload.Size == 0 {
			return nil, badRequest("file must be non-empty")
		}
		if upload.Size > uploadLimit {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
		}
		file = *upload
		sf = s.storeUpload(kind, upload, f)
	case fileID != "":
		sf = s.files[fileID]
		if sf == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		file = File{Field: kind, Size: sf.size, Data: sf.data, FileID: fileID}
	default:
		return nil, badRequest("there is no %s in the request", kind)
	}

	model := models.Message{Caption: caption, ReplyMarkup: inlineMarkup(rows)}
	switch kind {
	case "video":
		model.Video = sf.video()
	case "photo":
		model.Photo = sf.photoSizes()
	case "document":
		model.Document = sf.document()
	}
	method := "send" + strings.ToUpper(kind[:1]) + kind[1:]
	en := c.add(Message{FromBot: true, Method: method, Caption: caption, Buttons: buttons, File: &file}, model)
	s.emit(c.user.ID, "bot.send", &en.Message, fmt.Sprintf("%s %s, %d bytes", kind, sf.name, sf.size))
	return en.model, nil
}

func (s *Server) getFile(f form) (any, *apiError) {
	sf := s.files[f.str("file_id")]
	if sf == nil {
		return nil, badRequest("invalid file_id")
	}
	if sf.size > downloadLimit {
		return nil, badRequest("file is too big")
	}
	return models.File{FileID: sf.id, FileUniqueID: sf.uniqueID, FileSize: sf.size, FilePath: sf.path}, nil
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(f form) (any, *apiError) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(f.str("commands")), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(c.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	lang := f.str("language_code")
	if len(cmds) == 0 {
		delete(s.commands, lang)
	} else {
		s.commands[lang] = cmds
	}
	s.emit(0, "bot.commands", nil, fmt.Sprintf("%d commands for language %q", len(cmds), lang))
	return true, nil
}

func (s *Server) getMyCommands(f form) (any, *apiError) {
	cmds := s.commands[f.str("language_code")]
	if cmds == nil {
		cmds = []models.BotCommand{}
	}
	return cmds, nil
}

func (s *Server) deleteMyCommands(f form) (any, *apiError) {
	delete(s.commands, f.str("language_code"))
	return true, nil
}

func (s *Server) sendInvoice(f form) (any, *apiError) {
	c, e := s.targetChat(f)
	if e != nil {
		return nil, e
	}
	inv := Invoice{Title: f.str("title"), Description: f.str("description"), Payload: f.str("payload"), Currency: f.str("currency")}
	if n := utf16Len(inv.Title); n < 1 || n > 32 {
		return nil, badRequest("INVOICE_TITLE_INVALID")
	}
	if n := utf16Len(inv.Description); n < 1 || n > 255 {
		return nil, badRequest("INVOICE_DESCRIPTION_INVALID")
	}
	if n := len(inv.Payload); n < 1 || n > 128 {
		return nil, badRequest("INVOICE_PAYLOAD_INVALID")
	}
	if inv.Currency == "" {
		return nil, badRequest("CURRENCY_INVALID")
	}
	var prices []models.LabeledPrice
	if err := json.Unmarshal([]byte(f.str("prices")), &prices); err != nil {
		return nil, badRequest("can't parse prices JSON object")
	}
	if inv.Currency == "XTR" && (len(prices) != 1 || f.str("provider_token") != "") {
		return nil, badRequest("STARS_INVOICE_INVALID")
	}
	for _, p := range prices {
		inv.Amount += p.Amount
	}
	if len(prices) == 0 || inv.Amount <= 0 {
		return nil, badRequest("CURRENCY_TOTAL_AMOUNT_INVALID")
	}
	buttons, rows, e := parseMarkup(f.str("reply_markup"))
	if e != nil {
		return nil, e
	}
	model := models.Message{
		Invoice: &models.Invoice{
			Title: inv.Title, Description: inv.Description, StartParameter: f.str("start_parameter"),
			Currency: inv.Currency, TotalAmount: inv.Amount,
		},
		ReplyMarkup: inlineMarkup(rows),
	}
	en := c.add(Message{FromBot: true, Method: "sendInvoice", Invoice: &inv, Buttons: buttons}, model)
	s.emit(c.user.ID, "bot.invoice", &en.Message, fmt.Sprintf("%q %d %s payload %s", inv.Title, inv.Amount, inv.Currency, inv.Payload))
	return en.model, nil
}

func (s *Server) answerPreCheckoutQuery(f form) (any, *apiError) {
	id := f.str("pre_checkout_query_id")
	q, ok := s.preCheckouts[id]
	if !ok || q.answered {
		return nil, badRequest("QUERY_ID_INVALID")
	}
	if !f.has("ok") {
		return nil, badRequest("parameter \"ok\" is required")
	}
	okay, msg := f.boolField("ok"), f.str("error_message")
	if !okay && msg == "" {
		return nil, badRequest("ERROR_MESSAGE_EMPTY")
	}
	q.answered = true
	s.pcAnswers = append(s.pcAnswers, PreCheckoutAnswer{
		QueryID: id, UserID: q.userID, Payload: q.payload, Currency: q.currency, Amount: q.amount,
		OK: okay, ErrorMessage: msg, At: time.Now(),
	})
	summary := "ok"
	if !okay {
		summary = "declined: " + msg
	}
	s.emit(q.userID, "bot.pre_checkout_answer", nil, summary)
	return true, nil
}

func (s *Server) refundStarPayment(f form) (any, *apiError) {
	userID, e := f.int64Field("user_id")
	if e != nil {
		return nil, e
	}
	chargeID := f.str("telegram_payment_charge_id")
	ch := s.charges[chargeID]
	if ch == nil || ch.userID != userID {
		return nil, badRequest("CHARGE_ID_INVALID")
	}
	if ch.refunded {
		return nil, badRequest("CHARGE_ALREADY_REFUNDED")
	}
	ch.refunded = true
	s.refunds = append(s.refunds, StarRefund{UserID: userID, ChargeID: chargeID, Amount: ch.amount, At: time.Now()})

	// Telegram follows a refund with a refunded_payment service message in the chat.
	c := s.chats[userID]
	p := Payment{Payload: ch.payload, Currency: ch.currency, Amount: ch.amount, ChargeID: chargeID, Refunded: true}
	en := c.add(Message{Method: "service", Payment: &p}, models.Message{RefundedPayment: &models.RefundedPayment{
		Currency: ch.currency, TotalAmount: ch.amount, InvoicePayload: ch.payload, TelegramPaymentChargeID: chargeID,
	}})
	s.enqueueMessage(en)
	s.emit(userID, "bot.refund", &en.Message, fmt.Sprintf("refunded %d %s, charge %s", ch.amount, ch.currency, chargeID))
	return true, nil
}

// parseMarkup reads reply_markup. Only an inline keyboard belongs to the message; reply
// keyboards, keyboard removal and force_reply are accepted and not recorded.
func parseMarkup(raw string) ([][]Button, [][]models.InlineKeyboardButton, *apiError) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil, nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	ik, ok := obj["inline_keyboard"]
	if !ok {
		return nil, nil, nil
	}
	// A nil Go slice marshals as null, which Telegram refuses.
	if t := strings.TrimSpace(string(ik)); !strings.HasPrefix(t, "[") {
		return nil, nil, badRequest(`field "inline_keyboard" of the InlineKeyboardMarkup should be an Array`)
	}
	var rows [][]models.InlineKeyboardButton
	if err := json.Unmarshal(ik, &rows); err != nil {
		return nil, nil, badRequest("can't parse inline keyboard button: %v", err)
	}
	var buttons [][]Button
	for _, row := range rows {
		var out []Button
		for _, b := range row {
			if e := checkButton(b); e != nil {
				return nil, nil, e
			}
			out = append(out, Button{Text: b.Text, Data: b.CallbackData, URL: b.URL})
		}
		buttons = append(buttons, out)
	}
	return buttons, rows, nil
}

func checkButton(b models.InlineKeyboardButton) *apiError {
	if b.Text == "" {
		return badRequest("BUTTON_TEXT_INVALID")
	}
	if len(b.CallbackData) > 64 {
		return badRequest("BUTTON_DATA_INVALID")
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") {
			return badRequest("BUTTON_URL_INVALID")
		}
	}
	// go-telegram/bot sends "copy_text":{"text":""} on every button; only a non-empty one counts.
	hasAction := b.URL != "" || b.CallbackData != "" || b.WebApp != nil || b.LoginURL != nil ||
		b.SwitchInlineQuery != "" || b.SwitchInlineQueryCurrentChat != "" || b.SwitchInlineQueryChosenChat != nil ||
		b.CopyText.Text != "" || b.CallbackGame != nil || b.Pay
	if !hasAction {
		return badRequest("text buttons are unallowed in the inline keyboard")
	}
	return nil
}

// messageText renders a message text and applies Telegram's length rules.
func messageText(raw, mode string) (string, *apiError) {
	text, e := render(raw, mode)
	if e != nil {
		return "", e
	}
	if strings.TrimSpace(text) == "" {
		return "", badRequest("message text is empty")
	}
	if utf16Len(text) > 4096 {
		return "", badRequest("message is too long")
	}
	return text, nil
}

func captionText(raw, mode string) (string, *apiError) {
	text, e := render(raw, mode)
	if e != nil {
		return "", e
	}
	if utf16Len(text) > 1024 {
		return "", badRequest("message caption is too long")
	}
	return text, nil
}
