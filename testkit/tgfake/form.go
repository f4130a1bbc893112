package tgfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// MaxKeptBytes caps the bytes kept per uploaded file; larger uploads are still counted in full.
const MaxKeptBytes = 64 << 20

// maxTextField bounds a single text field so a broken client cannot exhaust memory.
const maxTextField = 1 << 20

// form is a request's parameters: text fields, and file parts in arrival order.
type form struct {
	fields map[string]string
	files  []File
}

// readForm accepts what go-telegram/bot sends (streamed multipart, possibly an empty body) and
// what is handy from curl (urlencoded, query string, JSON object).
func readForm(r *http.Request) (form, error) {
	// Read the body to its end whatever the parser left: only then does net/http watch the
	// connection and cancel r.Context() when the client goes away, which held calls rely on.
	defer io.Copy(io.Discard, r.Body)
	f := form{fields: map[string]string{}}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		return f, readMultipart(r, &f)
	case "application/json":
		return f, readJSON(r.Body, &f)
	default:
		if err := r.ParseForm(); err != nil {
			return f, err
		}
		for k, v := range r.Form {
			if len(v) > 0 {
				f.fields[k] = v[0]
			}
		}
		return f, nil
	}
}

func readMultipart(r *http.Request, f *form) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return err
	}
	for {
		p, err := mr.NextPart()
		// Parameterless calls (getMe) send an empty body with a multipart Content-Type, which
		// surfaces as "multipart: NextPart: EOF": that means no params, not a broken request.
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := p.FormName()
		if p.FileName() != "" {
			var kept bytes.Buffer
			n, err := io.Copy(&kept, io.LimitReader(p, MaxKeptBytes))
			if err != nil {
				return fmt.Errorf("read file %s: %w", name, err)
			}
			rest, err := io.Copy(io.Discard, p)
			if err != nil {
				return fmt.Errorf("read file %s: %w", name, err)
			}
			f.files = append(f.files, File{Field: name, Name: p.FileName(), Size: n + rest, Data: kept.Bytes()})
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxTextField+1))
		if err != nil {
			return fmt.Errorf("read field %s: %w", name, err)
		}
		if len(v) > maxTextField {
			return fmt.Errorf("field %s is too long", name)
		}
		f.fields[name] = string(v)
	}
}

func readJSON(body io.Reader, f *form) error {
	var obj map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(body, maxTextField)).Decode(&obj); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	for k, raw := range obj {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			f.fields[k] = s
			continue
		}
		f.fields[k] = string(raw)
	}
	return nil
}

func (f form) str(key string) string { return f.fields[key] }

func (f form) has(key string) bool {
	_, ok := f.fields[key]
	return ok
}

// int64Field parses an integer field; a missing field is 0.
func (f form) int64Field(key string) (int64, *apiError) {
	v, ok := f.fields[key]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, badRequest("invalid %s specified", key)
	}
	return n, nil
}

func (f form) boolField(key string) bool {
	v := strings.ToLower(strings.TrimSpace(f.fields[key]))
	return v == "true" || v == "1"
}

// file returns the upload part for field, or the file_id sent as text in its place.
func (f form) file(field string) (upload *File, fileID string) {
	for i := range f.files {
		if f.files[i].Field == field {
			return &f.files[i], ""
		}
	}
	return nil, f.fields[field]
}
