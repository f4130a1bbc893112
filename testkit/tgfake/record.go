package tgfake

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Button is one inline keyboard button as the seller sees it.
type Button struct {
	Text string
	Data string // callback_data
	URL  string
}

// File is a file carried by a call or a message.
type File struct {
	Field  string // form field: "video", "photo", "document"
	Name   string // upload filename; empty when sent by file_id
	Size   int64  // bytes received, all of them even past the kept cap
	Data   []byte // the bytes, at most MaxKeptBytes of them
	FileID string // set only when the file was sent by file_id instead of uploaded
}

// Invoice is what sendInvoice put in front of the seller.
type Invoice struct {
	Title, Description, Payload, Currency string
	Amount                                int // sum of the prices, in the smallest units (whole Stars for XTR)
}

// Payment is a successful payment the seller made, or its refund notice.
type Payment struct {
	Payload, Currency string
	Amount            int
	ChargeID          string // telegram_payment_charge_id
	Refunded          bool   // the service message Telegram posts after refundStarPayment
}

// Message is a message in a chat transcript, as the seller sees it now.
type Message struct {
	ID      int
	ChatID  int64
	FromBot bool
	// Method is the Bot API method that created it ("sendMessage", "sendVideo", "sendPhoto",
	// "sendDocument", "sendInvoice"), "seller" for what the seller sent, or "service" for the
	// refund notice Telegram posts itself.
	Method   string
	Text     string // after parse_mode is applied: what the seller reads
	Caption  string
	Buttons  [][]Button // current inline keyboard
	File     *File
	Invoice  *Invoice
	Payment  *Payment
	Edits    []string // the text (or caption) before each successful edit, oldest first
	Deleted  bool
	SentAt   time.Time
	EditedAt time.Time
}

// Button returns the callback_data of the first button whose data starts with prefix, or "".
func (m Message) Button(prefix string) string {
	return m.button(func(d string) bool { return strings.HasPrefix(d, prefix) })
}

func (m Message) button(match func(data string) bool) string {
	for _, row := range m.Buttons {
		for _, b := range row {
			if match(b.Data) {
				return b.Data
			}
		}
	}
	return ""
}

func (m Message) clone() Message {
	c := m
	c.Buttons = cloneButtons(m.Buttons)
	c.Edits = slices.Clone(m.Edits)
	if m.File != nil {
		f := *m.File
		c.File = &f
	}
	if m.Invoice != nil {
		i := *m.Invoice
		c.Invoice = &i
	}
	if m.Payment != nil {
		p := *m.Payment
		c.Payment = &p
	}
	return c
}

func cloneButtons(rows [][]Button) [][]Button {
	if rows == nil {
		return nil
	}
	out := make([][]Button, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}

func sameButtons(a, b [][]Button) bool {
	count := func(rows [][]Button) int {
		n := 0
		for _, r := range rows {
			n += len(r)
		}
		return n
	}
	if count(a) == 0 && count(b) == 0 {
		return true
	}
	return slices.EqualFunc(a, b, func(x, y []Button) bool { return slices.Equal(x, y) })
}

// Call is one request the bot made, as the fake answered it.
type Call struct {
	Method     string // canonical Bot API name, e.g. "sendMessage"; "file" for a file download
	ChatID     int64  // target chat (user_id for refunds, the query's chat for answers); 0 if none
	At         time.Time
	Fields     map[string]string // text fields as sent; JSON fields stay raw JSON
	Files      []File
	Status     int // HTTP status answered; 0 when the connection was closed instead
	RetryAfter int // parameters.retry_after of a 429
}

func (c Call) clone() Call {
	c.Fields = maps.Clone(c.Fields)
	c.Files = slices.Clone(c.Files)
	return c
}

// CallbackAnswer is one successful answerCallbackQuery.
type CallbackAnswer struct {
	QueryID   string
	ChatID    int64
	MessageID int
	Data      string // the callback_data the seller tapped
	Text      string
	ShowAlert bool
	URL       string
	At        time.Time
}

// PreCheckoutAnswer is one successful answerPreCheckoutQuery.
type PreCheckoutAnswer struct {
	QueryID      string
	UserID       int64
	Payload      string
	Currency     string
	Amount       int
	OK           bool
	ErrorMessage string
	At           time.Time
}

// StarRefund is one successful refundStarPayment.
type StarRefund struct {
	UserID   int64
	ChargeID string
	Amount   int
	At       time.Time
}

// Event is one change in a conversation, for printing it as it happens.
type Event struct {
	At     time.Time
	ChatID int64
	// Kind is one of "seller", "seller.tap", "seller.pre_checkout", "seller.pay", "service",
	// "bot.send", "bot.invoice", "bot.edit", "bot.delete", "bot.callback_answer", "bot.action",
	// "bot.pre_checkout_answer", "bot.refund", "bot.commands", "bot.error".
	Kind    string
	Message Message // the message concerned, as it is after the change; zero if none
	Text    string  // a one-line human summary
}
