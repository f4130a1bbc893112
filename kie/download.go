package kie

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Download fetches a result file to path and returns its size. Result URLs are public storage
// links, so the key is not sent. The bytes go to path+".part", which is synced and renamed to
// path only when complete: path either does not exist or holds the whole file. A file over
// maxBytes (when maxBytes > 0) is an error and leaves nothing behind.
//
// Download does not go through the breaker: the result host is not the API host.
func (c *Client) Download(ctx context.Context, url, path string, maxBytes int64) (int64, error) {
	start := time.Now()
	n, err := c.download(ctx, url, path, maxBytes)
	c.observe("download", err, time.Since(start))
	return n, err
}

func (c *Client) download(ctx context.Context, url, path string, maxBytes int64) (int64, error) {
	const op = "download"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, &Error{Op: op, Err: scrubErr(err, c.key)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, &Error{
			Op:         op,
			HTTPStatus: resp.StatusCode,
			Msg:        c.snippet(b),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	if maxBytes > 0 && resp.ContentLength > maxBytes {
		return 0, tooLarge(maxBytes)
	}

	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	n, err := copyLimited(f, resp.Body, maxBytes)
	if err == nil {
		err = localErr(f.Sync())
	}
	if cerr := f.Close(); err == nil {
		err = localErr(cerr)
	}
	if err == nil {
		err = localErr(os.Rename(part, path))
	}
	if err != nil {
		os.Remove(part)
		return 0, err
	}
	syncDir(filepath.Dir(path))
	return n, nil
}

// copyLimited copies at most maxBytes (no limit when ≤ 0) and fails if src holds more.
func copyLimited(dst io.Writer, src io.Reader, maxBytes int64) (int64, error) {
	if maxBytes <= 0 {
		n, err := io.Copy(dst, readerOnly{src})
		return n, downloadCopyErr(err)
	}
	n, err := io.Copy(dst, readerOnly{io.LimitReader(src, maxBytes+1)})
	if err != nil {
		return n, downloadCopyErr(err)
	}
	if n > maxBytes {
		return n, tooLarge(maxBytes)
	}
	return n, nil
}

// downloadCopyErr tells a broken connection (worth retrying) from a failing disk (ours to fix).
func downloadCopyErr(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(sourceError); ok {
		return &Error{Op: "download", Err: se.err}
	}
	return &Error{Op: "download", Err: err, local: true}
}

func localErr(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: "download", Err: err, local: true}
}

func tooLarge(maxBytes int64) *Error {
	return &Error{Op: "download", Msg: fmt.Sprintf("result is larger than %d bytes", maxBytes), tooLarge: true}
}

// syncDir makes the rename durable. Best effort: not every platform can sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
