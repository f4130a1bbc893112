package kie

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
)

// Upload streams r to KIE's file host and returns the URL to put into a task's input. Each upload
// goes to its own "neurocards/<16 hex>" folder, because the same path would overwrite an earlier
// file that a running task may still need. The file is never held in memory, and r is not read
// after Upload returns (unless ctx ended while a Read on r was blocked: that Read is abandoned).
func (c *Client) Upload(ctx context.Context, r io.Reader, fileName string) (string, error) {
	const op = "upload"
	folder, err := uploadFolder()
	if err != nil {
		return "", &Error{Op: op, Err: err, local: true}
	}
	if r == nil {
		return "", &Error{Op: op, Msg: "no file", local: true}
	}
	if fileName == "" {
		fileName = "photo.jpg"
	}
	return guard(c, op, func() (string, error) {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		var readErr error // set by the writer goroutine before done is closed
		done := make(chan struct{})
		go func() {
			defer close(done)
			readErr = writeUploadForm(mw, r, folder, fileName)
			if readErr != nil {
				pw.CloseWithError(readErr)
				return
			}
			pw.Close()
		}()

		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.uploadURL+"/api/file-stream-upload", pr)
		if err != nil {
			pr.Close()
			<-done
			return "", &Error{Op: op, Err: err, local: true}
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		// net/http waits for the body writer before Do returns, even on cancellation, and the body
		// writer waits for r: unblock it ourselves when ctx ends.
		stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
		defer stop()
		data, err := c.do(op, req)
		if err != nil && ctx.Err() != nil {
			// Our deadline cut the body short; net/http may report the closed pipe instead.
			err = &Error{Op: op, Err: fmt.Errorf("%w (%v)", ctx.Err(), err)}
		}
		// Stop the writer and wait for it, so r is left alone once we return. Only a source
		// blocked inside Read can keep it; then ctx bounds the wait.
		pr.CloseWithError(errUploadOver)
		select {
		case <-done:
			var src sourceError
			if errors.As(readErr, &src) {
				return "", &Error{Op: op, Err: src, local: true}
			}
		case <-ctx.Done():
			if err == nil {
				err = &Error{Op: op, Msg: "the file was still being read", Err: ctx.Err()}
			}
		}
		if err != nil {
			return "", err
		}
		var out struct {
			DownloadURL string `json:"downloadUrl"`
			FileURL     string `json:"fileUrl"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return "", &Error{Op: op, Msg: "answer has no data", Err: err}
		}
		// The docs name fileUrl, the live API returns downloadUrl: accept both.
		u := out.DownloadURL
		if u == "" {
			u = out.FileURL
		}
		if u == "" {
			return "", &Error{Op: op, Msg: "answer has no downloadUrl"}
		}
		return u, nil
	})
}

// errUploadOver stops the form writer once the request is finished, successfully or not.
var errUploadOver = errors.New("upload request finished")

type sourceError struct{ err error }

func (e sourceError) Error() string { return "read source: " + e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

func writeUploadForm(mw *multipart.Writer, r io.Reader, folder, fileName string) error {
	if err := mw.WriteField("uploadPath", folder); err != nil {
		return err
	}
	if err := mw.WriteField("fileName", fileName); err != nil {
		return err
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName))
	ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(fileName)))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, readerOnly{r}); err != nil {
		return err
	}
	return mw.Close()
}

// readerOnly hides WriterTo so a read error is told apart from a write error below.
type readerOnly struct{ r io.Reader }

func (ro readerOnly) Read(p []byte) (int, error) {
	n, err := ro.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

func uploadFolder() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "neurocards/" + hex.EncodeToString(b[:]), nil
}
