package tgfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

// Seller is a person talking to the bot in a private chat; the chat id is the user id.
type Seller struct {
	s  *Server
	id int64
}

// callbackQuery is a tap waiting for answerCallbackQuery.
type callbackQuery struct {
	chatID    int64
	messageID int
	data      string
	answered  bool
}

// preCheckout is a pre_checkout_query waiting for answerPreCheckoutQuery.
type preCheckout struct {
	userID            int64
	payload, currency string
	amount            int
	answered          bool
}

// charge is a successful payment that refundStarPayment may refund once.
type charge struct {
	userID            int64
	payload, currency string
	amount            int
	refunded          bool
}

// Seller returns the seller with userID, creating the private chat on first use; lang is the
// client's language_code ("ru", "en"). Later calls for the same id return the same chat and
// keep its first lang and name. The bot gets "Bad Request: chat not found" for chats that were
// never created.
func (s *Server) Seller(userID int64, lang, firstName string) *Seller {
	s.mu.Lock()
	if _, ok := s.chats[userID]; !ok {
		s.chats[userID] = &chat{user: models.User{ID: userID, FirstName: firstName, LanguageCode: lang}, lean: s.lean.on}
	}
	s.mu.Unlock()
	return &Seller{s: s, id: userID}
}

// ID is the seller's user id, which is also the chat id.
func (sl *Seller) ID() int64 { return sl.id }

func (sl *Seller) chat() *chat { return sl.s.chats[sl.id] }

// Send sends a text message and returns its update_id. A leading "/command" (with an optional
// "@bot") gets a bot_command entity, as Telegram clients produce.
func (sl *Seller) Send(text string) int64 {
	var id int64
	sl.s.change(func() {
		en := sl.chat().add(Message{Method: "seller", Text: text}, models.Message{Text: text, Entities: commandEntity(text)})
		id = sl.s.enqueueMessage(en)
		sl.s.emit(sl.id, "seller", &en.Message, text)
	})
	return id
}

func commandEntity(text string) []models.MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	cmd := text
	if i := strings.IndexAny(text, " \t\n"); i >= 0 {
		cmd = text[:i]
	}
	if len(cmd) < 2 {
		return nil
	}
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(cmd)}}
}

// SendPhoto sends a photo and returns its update_id. The bytes become downloadable through
// getFile; the message lists a 90px thumbnail and the full size, largest last.
func (sl *Seller) SendPhoto(img []byte, width, height int, caption string) int64 {
	var id int64
	sl.s.change(func() {
		sf := sl.s.storePhoto(img, width, height)
		file := File{Field: "photo", Size: sf.size, Data: img}
		en := sl.chat().add(Message{Method: "seller", Caption: caption, File: &file},
			models.Message{Photo: sf.photoSizes(), Caption: caption})
		id = sl.s.enqueueMessage(en)
		sl.s.emit(sl.id, "seller", &en.Message, fmt.Sprintf("photo %dx%d, %d bytes %s", sf.width, sf.height, sf.size, caption))
	})
	return id
}

// SendDocument sends a file as a document and returns its update_id.
func (sl *Seller) SendDocument(data []byte, fileName, mime string) int64 {
	var id int64
	sl.s.change(func() {
		sf := sl.s.storeFile("document", fileName, mime, data, int64(len(data)))
		file := File{Field: "document", Name: fileName, Size: sf.size, Data: data}
		en := sl.chat().add(Message{Method: "seller", File: &file}, models.Message{Document: sf.document()})
		id = sl.s.enqueueMessage(en)
		sl.s.emit(sl.id, "seller", &en.Message, fmt.Sprintf("document %s, %d bytes", fileName, sf.size))
	})
	return id
}

// Tap sends a callback_query on the LATEST bot message in this chat whose keyboard has a button
// with that callback_data; it fails when there is none.
func (sl *Seller) Tap(data string) (int64, error) {
	return sl.tapWhere(func(d string) bool { return d == data }, fmt.Sprintf("%q", data))
}

// TapPrefix taps, on the latest bot message that has one, the first button whose callback_data
// starts with prefix — for buttons whose data carries an id the test does not know.
func (sl *Seller) TapPrefix(prefix string) (int64, error) {
	return sl.tapWhere(func(d string) bool { return strings.HasPrefix(d, prefix) }, fmt.Sprintf("starting %q", prefix))
}

func (sl *Seller) tapWhere(match func(data string) bool, what string) (int64, error) {
	var (
		id  int64
		err error
	)
	sl.s.change(func() {
		c := sl.chat()
		for _, en := range slices.Backward(c.msgs) {
			if !en.FromBot || en.Deleted {
				continue
			}
			if data := en.Message.button(match); data != "" {
				id = sl.s.tap(c, en.ID, data)
				return
			}
		}
		err = fmt.Errorf("tgfake: chat %d: no bot message has a button with callback_data %s", sl.id, what)
	})
	return id, err
}

// TapOn sends a callback_query with any data for any message id, for stale buttons and forged
// data. A missing or deleted message arrives as inaccessible (date 0).
func (sl *Seller) TapOn(messageID int, data string) int64 {
	var id int64
	sl.s.change(func() { id = sl.s.tap(sl.chat(), messageID, data) })
	return id
}

// tap enqueues a callback_query; call with s.mu held.
func (s *Server) tap(c *chat, messageID int, data string) int64 {
	s.lastQuery++
	// Telegram query ids are long decimal strings.
	qid := strconv.FormatInt(1<<60+int64(s.lastQuery), 10)
	q := &models.CallbackQuery{ID: qid, From: c.user, ChatInstance: "ci" + strconv.FormatInt(c.user.ID, 10), Data: data}
	en := c.find(messageID)
	var m *Message
	if en != nil && !en.Deleted {
		mm := en.model
		q.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &mm}
		m = &en.Message
	} else {
		q.Message = models.MaybeInaccessibleMessage{
			Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: c.chatModel(), MessageID: messageID},
		}
	}
	s.callbacks[qid] = &callbackQuery{chatID: c.user.ID, messageID: messageID, data: data}
	id := s.enqueue(models.Update{CallbackQuery: q})
	s.emit(c.user.ID, "seller.tap", m, data)
	return id
}

// PreCheckout enqueues the pre_checkout_query Telegram sends when the seller confirms an
// invoice, and returns its update_id.
func (sl *Seller) PreCheckout(payload, currency string, amount int) int64 {
	var id int64
	sl.s.change(func() { id, _ = sl.preCheckout(payload, currency, amount) })
	return id
}

// preCheckout enqueues a pre_checkout_query and returns its update_id and query id; call with
// s.mu held.
func (sl *Seller) preCheckout(payload, currency string, amount int) (int64, string) {
	s := sl.s
	s.lastQuery++
	qid := "pcq" + strconv.Itoa(s.lastQuery)
	u := sl.chat().user
	s.preCheckouts[qid] = &preCheckout{userID: sl.id, payload: payload, currency: currency, amount: amount}
	id := s.enqueue(models.Update{PreCheckoutQuery: &models.PreCheckoutQuery{
		ID: qid, From: &u, Currency: currency, TotalAmount: amount, InvoicePayload: payload,
	}})
	s.emit(sl.id, "seller.pre_checkout", nil, fmt.Sprintf("%d %s payload %s", amount, currency, payload))
	return id, qid
}

// Pay enqueues the message with successful_payment that completes a purchase, and returns its
// update_id. The charge id becomes refundable by refundStarPayment.
func (sl *Seller) Pay(payload, currency string, amount int, chargeID string) int64 {
	var id int64
	sl.s.change(func() {
		s := sl.s
		if _, ok := s.charges[chargeID]; !ok {
			s.charges[chargeID] = &charge{userID: sl.id, payload: payload, currency: currency, amount: amount}
		}
		p := Payment{Payload: payload, Currency: currency, Amount: amount, ChargeID: chargeID}
		en := sl.chat().add(Message{Method: "seller", Payment: &p}, models.Message{SuccessfulPayment: &models.SuccessfulPayment{
			Currency: currency, TotalAmount: amount, InvoicePayload: payload, TelegramPaymentChargeID: chargeID,
		}})
		id = s.enqueueMessage(en)
		s.emit(sl.id, "seller.pay", &en.Message, fmt.Sprintf("paid %d %s payload %s charge %s", amount, currency, payload, chargeID))
	})
	return id
}

// Resend queues an exact copy of an earlier update with the same update_id, as Telegram does
// after a bot crashed before confirming it. The copy is delivered even if the bot has already
// confirmed that id. It panics on an update id the server never issued.
func (sl *Seller) Resend(updateID int64) {
	sl.s.mu.Lock()
	u, ok := sl.s.history[updateID]
	sl.s.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("tgfake: Resend of unknown update %d", updateID))
	}
	sl.s.change(func() { sl.s.queue = append(sl.s.queue, queued{u: u, redelivery: true}) })
}

// Messages is a snapshot of the transcript, the seller's and the bot's messages, in order.
func (sl *Seller) Messages() []Message {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	return sl.chat().snapshot(false)
}

// BotMessages is a snapshot of the bot's messages in order, deleted ones included.
func (sl *Seller) BotMessages() []Message {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	return sl.chat().snapshot(true)
}

// Last is the latest bot message that has not been deleted.
func (sl *Seller) Last() (Message, bool) {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	for _, en := range slices.Backward(sl.chat().msgs) {
		if en.FromBot && !en.Deleted {
			return en.clone(), true
		}
	}
	return Message{}, false
}
