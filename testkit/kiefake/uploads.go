package kiefake

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Upload is one file received by the upload host.
type Upload struct {
	Path     string // uploadPath
	FileName string
	Size     int64
	Data     []byte
	Chunked  bool // the request body came with chunked transfer encoding (streamed, length unknown)
}

const maxUpload = 100 << 20

// Uploads returns the received files in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.uploads))
	copy(out, s.uploads)
	return out
}

func (s *Server) handleStreamUpload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeJSON(w, uploadError(400, "Content-Type must be multipart/form-data"))
		return
	}
	var up Upload
	var gotFile bool
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeJSON(w, uploadError(400, "Malformed multipart body"))
			return
		}
		switch p.FormName() {
		case "uploadPath":
			up.Path = readField(p)
		case "fileName":
			up.FileName = readField(p)
		case "file":
			data, err := io.ReadAll(io.LimitReader(p, maxUpload+1))
			if err != nil {
				writeJSON(w, uploadError(400, "Malformed multipart body"))
				return
			}
			if len(data) > maxUpload {
				writeJSON(w, uploadError(400, "File too large"))
				return
			}
			up.Data, gotFile = data, true
			if up.FileName == "" {
				up.FileName = p.FileName()
			}
		default:
			io.Copy(io.Discard, p)
		}
		p.Close()
	}
	if !gotFile {
		writeJSON(w, uploadError(400, "Missing required parameter: file"))
		return
	}
	up.Chunked = r.ContentLength < 0 || len(r.TransferEncoding) > 0
	s.store(w, up)
}

func (s *Server) handleBase64Upload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var req struct {
		Base64Data string `json:"base64Data"`
		UploadPath string `json:"uploadPath"`
		FileName   string `json:"fileName"`
	}
	raw, err := readBody(r, maxUpload*2)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		writeJSON(w, uploadError(400, "Invalid request body"))
		return
	}
	b64 := req.Base64Data
	if strings.HasPrefix(b64, "data:") {
		if _, after, ok := strings.Cut(b64, ","); ok {
			b64 = after
		}
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || b64 == "" {
		writeJSON(w, uploadError(400, "Base64 decoding failed: Invalid Base64 format"))
		return
	}
	if req.FileName == "" {
		req.FileName = randomHex(8)
	}
	s.store(w, Upload{Path: req.UploadPath, FileName: req.FileName, Data: data})
}

// store checks uploadPath, keeps the file (the same path and name overwrite, as on KIE) and answers.
func (s *Server) store(w http.ResponseWriter, up Upload) {
	switch {
	case up.Path == "":
		writeJSON(w, uploadError(400, "Missing required parameter: uploadPath"))
		return
	case strings.HasPrefix(up.Path, "/") || strings.HasSuffix(up.Path, "/"):
		writeJSON(w, uploadError(400, "uploadPath must not start or end with a slash"))
		return
	case up.FileName == "" || strings.Contains(up.FileName, "/"):
		writeJSON(w, uploadError(400, "Invalid fileName"))
		return
	}
	up.Size = int64(len(up.Data))
	key := up.Path + "/" + up.FileName
	s.mu.Lock()
	if s.lean {
		s.files[key] = nil
	} else {
		s.uploads = append(s.uploads, up)
		s.files[key] = up.Data
	}
	s.mu.Unlock()

	writeJSON(w, map[string]any{
		"success": true, "code": 200, "msg": "File uploaded successfully",
		"data": map[string]any{
			"fileName":    up.FileName,
			"filePath":    key,
			"downloadUrl": s.srv.URL + "/uploads/" + escapePath(key),
			"fileSize":    up.Size,
			"mimeType":    contentType(strings.TrimPrefix(path.Ext(up.FileName), ".")),
			"uploadedAt":  time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		},
	})
}

func (s *Server) handleUploadedFile(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("path")
	s.mu.Lock()
	data, ok := s.files[key]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType(strings.TrimPrefix(path.Ext(key), ".")))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func uploadError(code int, msg string) map[string]any {
	return map[string]any{"success": false, "code": code, "msg": msg}
}

func readField(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	return string(b)
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("body too large")
	}
	return b, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func unescapePath(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return u
}
