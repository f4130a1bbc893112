package tgfake

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestGetMeWithEmptyMultipartBody(t *testing.T) {
	s := newServer(t)
	me, err := newBot(t, s).GetMe(testCtx(t))
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.ID != BotID || !me.IsBot || me.Username != BotUsername {
		t.Fatalf("GetMe = %+v", me)
	}
}

func TestWrongTokenAndUnknownMethod(t *testing.T) {
	s := newServer(t)
	b, err := bot.New("999:wrong", bot.WithServerURL(s.URL()), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetMe(testCtx(t)); !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("GetMe with a wrong token: %v, want ErrorUnauthorized", err)
	}
	status, r := rawCall(testCtx(t), t, s, "sendTelepathy", nil)
	if status != http.StatusNotFound || r.ErrorCode != 404 || r.OK {
		t.Fatalf("unknown method: %d %+v", status, r)
	}
	if status, r := rawCall(testCtx(t), t, s, "GETME", nil); status != http.StatusOK || !r.OK {
		t.Fatalf("method names are case-insensitive: %d %+v", status, r)
	}
}

func TestURLEncodedAndJSONBodies(t *testing.T) {
	s := newServer(t)
	sl := s.Seller(7, "en", "Eve")
	resp, err := http.PostForm(s.URL()+"/bot"+testToken+"/sendMessage", url.Values{"chat_id": {"7"}, "text": {"form"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Post(s.URL()+"/bot"+testToken+"/sendMessage", "application/json",
		strings.NewReader(`{"chat_id":7,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"Go","callback_data":"go"}]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	msgs := sl.BotMessages()
	if len(msgs) != 2 || msgs[0].Text != "form" || msgs[1].Text != "json" || msgs[1].Buttons[0][0].Data != "go" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestSendMessageKeyboardAndTap(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(42, "ru", "Анна")

	first := sl.Send("/start@" + BotUsername + " promo")
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID:      sl.ID(),
		Text:        "<b>Привет</b>, выберите пакет &amp; оплатите",
		ParseMode:   models.ParseModeHTML,
		ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("10 карточек", "buy:10"), {Text: "Сайт", URL: "https://example.com"}}),
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if m.ID != 2 || m.Chat.ID != 42 || m.Text != "Привет, выберите пакет & оплатите" || m.ReplyMarkup == nil {
		t.Fatalf("SendMessage result = %+v", m)
	}

	got, ok := sl.Last()
	want := [][]Button{{{Text: "10 карточек", Data: "buy:10"}, {Text: "Сайт", URL: "https://example.com"}}}
	if !ok || got.Method != "sendMessage" || !got.FromBot || !slices.EqualFunc(got.Buttons, want, slices.Equal) {
		t.Fatalf("Last = %+v", got)
	}

	tap, err := sl.Tap("buy:10")
	if err != nil {
		t.Fatalf("Tap: %v", err)
	}
	if _, err := sl.Tap("buy:999"); err == nil {
		t.Fatal("Tap on a missing button succeeded")
	}
	stale := sl.TapOn(99, "forged")

	ups := poll(ctx, t, s, map[string]string{"offset": "0", "timeout": "0"})
	if !slices.Equal(updateIDs(ups), []int64{first, tap, stale}) {
		t.Fatalf("update ids = %v, want %v", updateIDs(ups), []int64{first, tap, stale})
	}
	cmd := ups[0].Message
	if cmd.From.LanguageCode != "ru" || len(cmd.Entities) != 1 || cmd.Entities[0].Type != models.MessageEntityTypeBotCommand ||
		cmd.Entities[0].Length != len("/start@"+BotUsername) {
		t.Fatalf("command message = %+v", cmd)
	}
	q := ups[1].CallbackQuery
	if q.Data != "buy:10" || q.From.ID != 42 || q.Message.Message == nil || q.Message.Message.ID != 2 ||
		q.Message.Message.ReplyMarkup == nil {
		t.Fatalf("callback query = %+v", q)
	}
	if st := ups[2].CallbackQuery; st.Message.Message != nil || st.Message.InaccessibleMessage == nil || st.Message.InaccessibleMessage.MessageID != 99 {
		t.Fatalf("stale callback query = %+v", st)
	}

	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "Готово"}); err != nil {
		t.Fatalf("AnswerCallbackQuery: %v", err)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("second answer: %v, want ErrorBadRequest", err)
	}
	answers := s.AnsweredCallbacks()
	if len(answers) != 1 || answers[0].Data != "buy:10" || answers[0].Text != "Готово" || answers[0].MessageID != 2 || answers[0].ChatID != 42 {
		t.Fatalf("answers = %+v", answers)
	}
}

func TestEditMessageText(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(1, "en", "Bob")

	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "Working… 0%", ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("Cancel", "cancel")})})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(text string, markup models.ReplyMarkup) error {
		_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 1, MessageID: m.ID, Text: text, ReplyMarkup: markup})
		return err
	}
	cancel := keyboard([]models.InlineKeyboardButton{cb("Cancel", "cancel")})
	if err := edit("Working… 50%", cancel); err != nil {
		t.Fatalf("edit: %v", err)
	}
	err = edit("Working… 50%", cancel)
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("identical edit: %v, want not modified", err)
	}
	// Leaving reply_markup out removes the keyboard, as on Telegram, so this is a change.
	if err := edit("Working… 50%", nil); err != nil {
		t.Fatalf("edit removing the keyboard: %v", err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 1, MessageID: 77, Text: "x"})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("edit of a missing message: %v", err)
	}

	got, _ := sl.Last()
	if got.Text != "Working… 50%" || got.Buttons != nil || !slices.Equal(got.Edits, []string{"Working… 0%", "Working… 50%"}) || got.EditedAt.IsZero() {
		t.Fatalf("after edits: %+v", got)
	}

	if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 1, MessageID: m.ID}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if _, ok := sl.Last(); ok {
		t.Fatal("Last returned a deleted message")
	}
	if msgs := sl.BotMessages(); len(msgs) != 1 || !msgs[0].Deleted {
		t.Fatalf("bot messages = %+v", msgs)
	}
	if err := edit("late", nil); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("edit of a deleted message: %v", err)
	}
}

func TestMessageValidation(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(5, "en", "Kim")
	tests := []struct {
		name   string
		params *bot.SendMessageParams
		want   string
	}{
		{"unknown chat", &bot.SendMessageParams{ChatID: 6, Text: "hi"}, "chat not found"},
		{"empty text", &bot.SendMessageParams{ChatID: 5, Text: " "}, "message text is empty"},
		{"too long", &bot.SendMessageParams{ChatID: 5, Text: strings.Repeat("я", 4097)}, "message is too long"},
		{"unescaped html", &bot.SendMessageParams{ChatID: 5, Text: "size <10 cm", ParseMode: models.ParseModeHTML}, "can't parse entities"},
		{"unescaped markdownv2", &bot.SendMessageParams{ChatID: 5, Text: "Price: 1.5", ParseMode: models.ParseModeMarkdown}, "reserved"},
		{"long callback data", &bot.SendMessageParams{ChatID: 5, Text: "x", ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("x", strings.Repeat("d", 65))})}, "BUTTON_DATA_INVALID"},
		{"null keyboard", &bot.SendMessageParams{ChatID: 5, Text: "x", ReplyMarkup: &models.InlineKeyboardMarkup{}}, "should be an Array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.SendMessage(ctx, tt.params)
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want Bad Request with %q", err, tt.want)
			}
		})
	}
	if n := len(sl.Messages()); n != 0 {
		t.Fatalf("failed sends left %d messages", n)
	}
}

func TestMessageIDsAreSharedAndConcurrentSendsAreSafe(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	a, c := s.Seller(10, "en", "A"), s.Seller(20, "ru", "C")
	a.Send("hello")

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			chat := a.ID()
			if i%2 == 1 {
				chat = c.ID()
			}
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "msg"}); err != nil {
				t.Errorf("SendMessage: %v", err)
			}
		})
	}
	wg.Wait()

	for _, tc := range []struct {
		sl   *Seller
		want int
	}{{a, 11}, {c, 10}} {
		var ids []int
		for _, m := range tc.sl.Messages() {
			ids = append(ids, m.ID)
		}
		if len(ids) != tc.want || ids[0] != 1 || ids[len(ids)-1] != tc.want || !slices.IsSorted(ids) {
			t.Fatalf("chat %d ids = %v", tc.sl.ID(), ids)
		}
	}
	if n := s.CountCalls("sendMessage", c.ID()); n != 10 {
		t.Fatalf("CountCalls(sendMessage, %d) = %d", c.ID(), n)
	}
}

func TestWaitHelpersAndEvents(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(3, "en", "Lee")

	kinds := make(chan string, 16)
	s.OnEvent(func(ev Event) {
		kinds <- ev.Kind
		// A scripted seller reacts from inside the handler; this must not deadlock.
		if ev.Kind == "bot.send" && ev.Message.Text == "Pick one" {
			if _, err := sl.Tap("one"); err != nil {
				t.Errorf("Tap from the event handler: %v", err)
			}
		}
	})

	sl.Send("/start")
	go func() {
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 3, Text: "Pick one", ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("One", "one")})})
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 3, Text: "Done"})
	}()
	picked := sl.Expect(t, 5*time.Second, "the menu", func(m Message) bool { return m.Text == "Pick one" })
	done := sl.ExpectNew(t, 5*time.Second, picked.ID, "the final message", func(m Message) bool { return strings.HasPrefix(m.Text, "Done") })
	if done.ID != picked.ID+1 {
		t.Fatalf("ids %d then %d", picked.ID, done.ID)
	}
	sl.ExpectUntil(t, 5*time.Second, "three messages", func(msgs []Message) bool { return len(msgs) == 3 })
	if err := s.WaitCalls(ctx, "sendMessage", 2); err != nil {
		t.Fatal(err)
	}

	want := []string{"seller", "bot.send", "seller.tap", "bot.send"}
	var got []string
	for len(got) < len(want) {
		select {
		case k := <-kinds:
			got = append(got, k)
		case <-ctx.Done():
			t.Fatalf("events = %v, want %v", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if tr := sl.Transcript(); !strings.Contains(tr, `"Pick one"`) || !strings.Contains(tr, "[One → one]") {
		t.Fatalf("transcript:\n%s", tr)
	}
}

func TestSetMyCommands(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	ru := []models.BotCommand{{Command: "start", Description: "Начать"}, {Command: "paysupport", Description: "Помощь с оплатой"}}
	en := []models.BotCommand{{Command: "start", Description: "Start"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: ru, LanguageCode: "ru"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en}); err != nil {
		t.Fatal(err)
	}
	_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad-Name", Description: "x"}}})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("invalid command: %v", err)
	}
	got := s.Commands()
	if len(got) != 2 || !slices.Equal(got["ru"], ru) || !slices.Equal(got[""], en) {
		t.Fatalf("Commands = %+v", got)
	}
}
