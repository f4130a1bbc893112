package tgfake

import "github.com/go-telegram/bot/models"

// Push queues an arbitrary update as Telegram would deliver it — a tap on a keyboard that ended
// up in a group, a payload no client would send — and returns the update_id it was given. A
// callback query in it can be answered like a seller's tap.
func (s *Server) Push(u models.Update) int64 {
	var id int64
	s.change(func() {
		if q := u.CallbackQuery; q != nil {
			c := &callbackQuery{chatID: q.From.ID, data: q.Data}
			if m := q.Message.Message; m != nil {
				c.chatID, c.messageID = m.Chat.ID, m.ID
			}
			s.callbacks[q.ID] = c
		}
		id = s.enqueue(u)
	})
	return id
}
