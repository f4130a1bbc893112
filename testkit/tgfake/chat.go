package tgfake

import (
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
)

// chat is a private chat between the bot and one seller.
type chat struct {
	user   models.User
	lastID int // message ids are per chat and shared by both sides, like Telegram's
	msgs   []*entry
	lean   bool // keep only the latest messages (Server.Lean)
}

// entry is a message twice over: what tests see, and what the Bot API returns for it. Both are
// touched only under Server.mu; model pointers are replaced, never mutated, on edits.
type entry struct {
	Message
	model models.Message
}

func (c *chat) chatModel() models.Chat {
	return models.Chat{ID: c.user.ID, Type: models.ChatTypePrivate, FirstName: c.user.FirstName}
}

// add appends a message with the next id and fills in the common model fields.
func (c *chat) add(m Message, model models.Message) *entry {
	c.lastID++
	now := time.Now()
	m.ID, m.ChatID, m.SentAt = c.lastID, c.user.ID, now
	model.ID, model.Date, model.Chat = c.lastID, int(now.Unix()), c.chatModel()
	if m.FromBot {
		u := botUser()
		model.From = &u
	} else {
		u := c.user
		model.From = &u
	}
	e := &entry{Message: m, model: model}
	c.msgs = append(c.msgs, e)
	if c.lean {
		c.trim()
	}
	return e
}

func (c *chat) find(id int) *entry {
	for _, e := range c.msgs {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func (c *chat) snapshot(botOnly bool) []Message {
	out := make([]Message, 0, len(c.msgs))
	for _, e := range c.msgs {
		if !botOnly || e.FromBot {
			out = append(out, e.clone())
		}
	}
	return out
}

// targetChat resolves chat_id to a chat the bot can write to; call with s.mu held.
func (s *Server) targetChat(f form) (*chat, *apiError) {
	raw := f.str("chat_id")
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("chat not found")
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, badRequest("chat not found")
	}
	return c, nil
}

// chatOf is the chat a call concerns, for Fail, Block, limits and Call.ChatID; call with s.mu held.
func (s *Server) chatOf(method string, f form) int64 {
	switch method {
	case "refundStarPayment":
		n, _ := f.int64Field("user_id")
		return n
	case "answerCallbackQuery":
		if q, ok := s.callbacks[f.str("callback_query_id")]; ok {
			return q.chatID
		}
		return 0
	case "answerPreCheckoutQuery":
		if q, ok := s.preCheckouts[f.str("pre_checkout_query_id")]; ok {
			return q.userID
		}
		return 0
	}
	n, _ := f.int64Field("chat_id")
	return n
}

func inlineMarkup(rows [][]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	if len(rows) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}
