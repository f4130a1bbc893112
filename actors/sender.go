package actors

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/anthdm/hollywood/actor"

	"neurocards/keyboard"
	"neurocards/kie"
	"neurocards/messages"
	"neurocards/telegram"
	"neurocards/texts"
)

// maxPhotoUpload is Telegram's limit for sendPhoto; larger images go as documents.
const maxPhotoUpload = 10 << 20

// sender makes one delivery attempt: download the result if it is not on disk yet, then upload it
// to the seller's chat. It never asks KIE for anything new, so a failed delivery never
// re-generates.
type sender struct {
	d   *Deps
	job messages.Job
	run int
}

func newSender(d *Deps, j messages.Job, run int) actor.Producer {
	s := &sender{d: d, job: j, run: run}
	return attemptActor(d, j.ID, messages.StepDeliver, run, 0, s.attempt)
}

// attempt runs off the actor goroutine and returns the event that ends the attempt.
func (s *sender) attempt(ctx context.Context, report func(messages.JobEvent)) messages.JobEvent {
	failed := func(f messages.Failure) messages.JobEvent {
		return messages.StepFailed{Run: s.run, Step: messages.StepDeliver, Failure: f}
	}
	timeout := s.d.Config.Timing.UploadTimeout
	file := s.job.FilePath
	if _, err := os.Stat(file); file == "" || err != nil {
		file = filepath.Join(s.d.OutputsDir(), fmt.Sprintf("%d%s", s.job.ID, resultExt(s.job)))
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return failed(messages.Failure{Class: messages.Operator, Reason: messages.ReasonDelivery, Detail: "outputs dir: " + err.Error()})
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := s.d.KIE.Download(dctx, s.job.ResultURL, file, s.d.Config.Limits.MaxResultBytes)
		cancel()
		if err != nil {
			return failed(kie.Classify(err))
		}
		report(messages.Downloaded{Run: s.run, Path: file})
	}
	kind := telegram.FileDocument
	switch {
	case s.job.Output == messages.OutputVideo:
		kind = telegram.FileVideo
	case fileSize(file) <= maxPhotoUpload:
		kind = telegram.FilePhoto
	}
	uctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent, err := s.d.Telegram.SendFile(uctx, s.job.ChatID, kind, file, s.caption(), keyboard.Result(s.job))
	if err != nil {
		return failed(telegram.ClassifyResult(err))
	}
	return messages.Delivered{Run: s.run, MessageID: sent.MessageID, FileID: sent.FileID}
}

func (s *sender) caption() string {
	lang := s.job.Lang
	balance := int64(0)
	if u, ok, err := s.d.Store.User(s.job.UserID); err == nil && ok {
		// The capture happens after delivery, so the balance the seller will have is one price lower.
		balance = u.Balance - s.job.Price
	}
	title := s.job.Kind
	if k, ok := s.d.Config.Kind(s.job.Kind); ok {
		title = k.TitleIn(lang)
	}
	return texts.T(lang, texts.ResultCaption, title, texts.Credits(lang, s.job.Price), texts.Credits(lang, balance))
}

// resultExt picks the result file's extension from its URL, falling back on the kind's output.
func resultExt(j messages.Job) string {
	if u, err := url.Parse(j.ResultURL); err == nil {
		switch ext := strings.ToLower(path.Ext(u.Path)); ext {
		case ".mp4", ".mov", ".webm", ".png", ".jpg", ".jpeg", ".webp":
			return ext
		}
	}
	if j.Output == messages.OutputVideo {
		return ".mp4"
	}
	return ".png"
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
