package conversation

import (
	"time"

	"github.com/go-telegram/bot/models"
)

// Window counts a seller's updates in the current window of the update limit. It lives in the
// session's memory only: a restart forgives.
type Window struct {
	Start  time.Time
	Count  int
	Warned bool
}

// Admission is what the update limit lets through.
type Admission int

const (
	Admitted Admission = iota
	Ignored            // over the limit, and the seller was already told
	Warn               // over the limit: tell the seller once, then ignore
)

// Admit applies the per-seller update limit: past limit updates in a window, the seller hears
// one polite notice and then nothing until the window passes. Payments always pass: they are
// money already spent.
func Admit(w Window, u *models.Update, now time.Time, limit int, window time.Duration) (Window, Admission) {
	if msg := u.Message; msg != nil && (msg.SuccessfulPayment != nil || msg.RefundedPayment != nil) {
		return w, Admitted
	}
	if limit <= 0 {
		return w, Admitted
	}
	if window <= 0 {
		window = time.Minute
	}
	if now.Sub(w.Start) >= window || now.Before(w.Start) {
		w = Window{Start: now}
	}
	if w.Count++; w.Count <= limit {
		return w, Admitted
	}
	if w.Warned {
		return w, Ignored
	}
	w.Warned = true
	return w, Warn
}
