package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

const testToken = "123456:TEST-token"

func newServer(t *testing.T) *Server {
	t.Helper()
	s := New(testToken)
	t.Cleanup(s.Close)
	return s
}

func newBot(t *testing.T, s *Server) *bot.Bot {
	t.Helper()
	b, err := bot.New(testToken, bot.WithServerURL(s.URL()), bot.WithSkipGetMe(),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}))
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type rawResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// rawCall posts fields as multipart, the way go-telegram/bot does, and decodes the answer.
func rawCall(ctx context.Context, t *testing.T, s *Server, method string, fields map[string]string) (int, rawResponse) {
	t.Helper()
	status, r, err := post(ctx, s, method, fields)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return status, r
}

// post is rawCall without a testing.T, for goroutines.
func post(ctx context.Context, s *Server, method string, fields map[string]string) (int, rawResponse, error) {
	var r rawResponse
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			return 0, r, err
		}
	}
	if err := mw.Close(); err != nil {
		return 0, r, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+testToken+"/"+method, &body)
	if err != nil {
		return 0, r, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return resp.StatusCode, r, fmt.Errorf("decode: %w", err)
	}
	return resp.StatusCode, r, nil
}

// pollResult is the outcome of a getUpdates made in a goroutine.
type pollResult struct {
	updates []models.Update
	err     error
}

// pollAsync runs one getUpdates in a goroutine and delivers its outcome on the channel.
func pollAsync(ctx context.Context, s *Server, fields map[string]string) <-chan pollResult {
	out := make(chan pollResult, 1)
	go func() {
		status, r, err := post(ctx, s, "getUpdates", fields)
		if err == nil && (status != http.StatusOK || !r.OK) {
			err = fmt.Errorf("getUpdates: %d %s", status, r.Description)
		}
		var ups []models.Update
		if err == nil {
			err = json.Unmarshal(r.Result, &ups)
		}
		out <- pollResult{ups, err}
	}()
	return out
}

// poll is one getUpdates as a raw multipart POST.
func poll(ctx context.Context, t *testing.T, s *Server, fields map[string]string) []models.Update {
	t.Helper()
	status, r := rawCall(ctx, t, s, "getUpdates", fields)
	if status != http.StatusOK || !r.OK {
		t.Fatalf("getUpdates: %d %s", status, r.Description)
	}
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatalf("getUpdates: %v", err)
	}
	return ups
}

func updateIDs(ups []models.Update) []int64 {
	ids := make([]int64, len(ups))
	for i, u := range ups {
		ids[i] = u.ID
	}
	return ids
}

func keyboard(rows ...[]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func cb(text, data string) models.InlineKeyboardButton {
	return models.InlineKeyboardButton{Text: text, CallbackData: data}
}

// waitHeld waits until n getUpdates requests are being held.
func waitHeld(ctx context.Context, t *testing.T, s *Server, n int) {
	t.Helper()
	err := await(ctx, s, func() int { return s.held }, func(h int) bool { return h == n })
	if err != nil {
		t.Fatalf("waiting for %d held polls: %v", n, err)
	}
}
