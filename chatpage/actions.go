package chatpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // photos the person may pick
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// Telegram's limits on what a person can send, and what a bot can download.
const (
	maxTextUTF16 = 4096
	maxPhoto     = 10 << 20 // larger images go as a file, as Telegram clients send them
	maxFile      = 20 << 20 // getFile refuses more, so the bot could not read it
)

// payTimeout is what Telegram gives a bot to answer a pre-checkout before it cancels the payment.
const payTimeout = 10 * time.Second

// readJSON decodes a small JSON body into v, answering 400 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, "the request is not the JSON the page sends: "+err.Error())
		return false
	}
	return true
}

// sendText sends what the person typed as the seller's message; a leading /command becomes a
// command, as in a Telegram client.
func (p *Page) sendText(w http.ResponseWriter, r *http.Request, s Seller) {
	var req struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		httpError(w, http.StatusBadRequest, "Type a message first.")
		return
	}
	if n := len(utf16.Encode([]rune(text))); n > maxTextUTF16 {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("Telegram sends at most %d characters in one message; this one has %d.", maxTextUTF16, n))
		return
	}
	p.writing(s)
	p.tgSeller(s).Send(text)
	w.WriteHeader(http.StatusNoContent)
}

// sendFile sends a file from the person's disk: an image as a photo, anything else (or an image
// over 10 MB) as a file, as a Telegram client does.
func (p *Page) sendFile(w http.ResponseWriter, r *http.Request, s Seller) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFile+1<<20)
	f, hdr, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Telegram lets a bot download files up to %d MB; pick a smaller one.", maxFile>>20))
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "Pick a file to send.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "The file could not be read: "+err.Error())
		return
	}
	if len(data) > maxFile {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Telegram lets a bot download files up to %d MB; pick a smaller one.", maxFile>>20))
		return
	}
	if len(data) == 0 {
		httpError(w, http.StatusBadRequest, "The file is empty.")
		return
	}
	p.writing(s)
	sl := p.tgSeller(s)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && len(data) <= maxPhoto {
		sl.SendPhoto(data, cfg.Width, cfg.Height, "")
	} else {
		name := filepath.Base(hdr.Filename)
		ctype := mime.TypeByExtension(filepath.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		sl.SendDocument(data, name, ctype)
	}
	w.WriteHeader(http.StatusNoContent)
}

// sendSamplePhoto sends a 900×1200 product photo, for a person with none at hand.
func (p *Page) sendSamplePhoto(w http.ResponseWriter, _ *http.Request, s Seller) {
	p.writing(s)
	p.tgSeller(s).SendPhoto(harness.Photo(900, 1200), 900, 1200, "")
	w.WriteHeader(http.StatusNoContent)
}

// writing is the seller writing to the bot, which in Telegram ends their block of it.
func (p *Page) writing(s Seller) {
	p.mu.Lock()
	was := p.blocked[s.ID]
	delete(p.blocked, s.ID)
	p.mu.Unlock()
	if was {
		p.env.Telegram.Unblock(s.ID)
		p.note(s.ID, false, "%s unblocked the bot by writing to it", s.Name)
	}
}

// tap presses an inline button of one of the bot's messages.
func (p *Page) tap(w http.ResponseWriter, r *http.Request, s Seller) {
	var req struct {
		MessageID int    `json:"message_id"`
		Data      string `json:"data"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	sl := p.tgSeller(s)
	m, ok := sl.Message(req.MessageID)
	if !ok || !m.FromBot || m.Deleted || !hasButton(m, req.Data) {
		httpError(w, http.StatusNotFound, "That button is no longer there.")
		return
	}
	p.writing(s)
	sl.TapOn(req.MessageID, req.Data)
	w.WriteHeader(http.StatusNoContent)
}

func hasButton(m tgfake.Message, data string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if data != "" && b.Data == data {
				return true
			}
		}
	}
	return false
}

// pay pays an invoice the way Telegram does after "Pay": pre-checkout, the bot's answer, then the
// payment. A declined pre-checkout comes back as {"declined": why}, which Telegram shows the buyer.
func (p *Page) pay(w http.ResponseWriter, r *http.Request, s Seller) {
	var req struct {
		MessageID int `json:"message_id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	sl := p.tgSeller(s)
	m, ok := sl.Message(req.MessageID)
	if !ok || !m.FromBot || m.Deleted || m.Invoice == nil {
		httpError(w, http.StatusNotFound, "That invoice is no longer there.")
		return
	}
	if paidPayloads(sl.Messages())[m.Invoice.Payload] {
		httpError(w, http.StatusConflict, "This invoice is already paid.")
		return
	}
	p.writing(s)
	ctx, cancel := context.WithTimeout(r.Context(), payTimeout)
	defer cancel()
	answer, err := sl.PayInvoice(ctx, req.MessageID)
	if err != nil {
		httpError(w, http.StatusGatewayTimeout, fmt.Sprintf("The bot did not confirm the payment within %v, so Telegram cancelled it; no Stars were taken.", payTimeout))
		return
	}
	if !answer.OK {
		writeJSON(w, http.StatusOK, map[string]string{"declined": answer.ErrorMessage})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"paid": answer.Amount})
}

// file serves the photo, video or file a message carries, with range requests, so a video plays.
func (p *Page) file(w http.ResponseWriter, r *http.Request, s Seller) {
	id, err := strconv.Atoi(r.PathValue("msg"))
	if err != nil {
		httpError(w, http.StatusNotFound, "no such message")
		return
	}
	m, ok := p.tgSeller(s).Message(id)
	if !ok || m.Deleted || m.File == nil || len(m.File.Data) == 0 {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	data := m.File.Data
	ctype := mime.TypeByExtension(filepath.Ext(m.File.Name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	w.Header().Set("Content-Type", ctype)
	// A message's file never changes.
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(w, r, m.File.Name, m.SentAt, bytes.NewReader(data))
}
