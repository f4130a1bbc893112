package tgfake

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // decoders for the thumbnails of uploaded images
	"image/jpeg"
	_ "image/png"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// storedFile is a file Telegram would keep: downloadable through getFile and resendable by id.
type storedFile struct {
	id, uniqueID, path string
	kind, name, mime   string
	size               int64
	data               []byte
	width, height      int
	duration           int
	thumb              *storedFile // photos only: the small size listed before the full one
}

var fileIDPrefix = map[string]string{"photo": "AgAC", "video": "BAAC", "document": "BQAC", "thumbnail": "AAMC"}

var defaultExt = map[string]string{"photo": ".jpg", "video": ".mp4", "document": "", "thumbnail": ".jpg"}

// storeFile registers bytes under a new file_id; call with s.mu held.
func (s *Server) storeFile(kind, name, mime string, data []byte, size int64) *storedFile {
	s.lastFile++
	n := s.lastFile
	ext := path.Ext(name)
	if ext == "" || kind == "photo" || kind == "thumbnail" {
		ext = defaultExt[kind]
	}
	sf := &storedFile{
		id:       fmt.Sprintf("%sfake%06d", fileIDPrefix[kind], n),
		uniqueID: fmt.Sprintf("AQADfake%06d", n),
		path:     fmt.Sprintf("%ss/file_%d%s", kind, n, ext),
		kind:     kind, name: name, mime: mime, size: size, data: data,
	}
	s.files[sf.id] = sf
	s.paths[sf.path] = sf
	return sf
}

// storeUpload registers a file the bot uploaded; call with s.mu held.
func (s *Server) storeUpload(kind string, up *File, f form) *storedFile {
	if kind == "photo" {
		return s.storePhoto(up.Data, 0, 0)
	}
	mime := "application/octet-stream"
	if kind == "video" {
		mime = "video/mp4"
	}
	sf := s.storeFile(kind, up.Name, mime, up.Data, up.Size)
	w, _ := f.int64Field("width")
	h, _ := f.int64Field("height")
	d, _ := f.int64Field("duration")
	sf.width, sf.height, sf.duration = int(w), int(h), int(d)
	return sf
}

// storePhoto registers a photo and a 90px thumbnail of it, as Telegram lists photo sizes.
// Zero width or height are read from the image when it decodes.
func (s *Server) storePhoto(img []byte, width, height int) *storedFile {
	if width <= 0 || height <= 0 {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(img)); err == nil {
			width, height = cfg.Width, cfg.Height
		}
	}
	full := s.storeFile("photo", "", "image/jpeg", img, int64(len(img)))
	full.width, full.height = width, height
	thumbData, tw, th := thumbnail(img, width, height, s.lean.on)
	full.thumb = s.storeFile("thumbnail", "", "image/jpeg", thumbData, int64(len(thumbData)))
	full.thumb.width, full.thumb.height = tw, th
	return full
}

// thumbnail scales an image to 90px on its longer side. Bytes that do not decode as an image,
// and every image when prefix is set (a lean server), get a prefix of themselves, so the thumb
// is still smaller than the original.
func thumbnail(img []byte, width, height int, prefix bool) ([]byte, int, int) {
	tw, th := 90, 90
	if width > 0 && height > 0 {
		if width >= height {
			th = max(1, height*90/width)
		} else {
			tw = max(1, width*90/height)
		}
	}
	if prefix {
		return img[:min(len(img), max(1, len(img)/10))], tw, th
	}
	src, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return img[:min(len(img), max(1, len(img)/10))], tw, th
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			dst.Set(x, y, src.At(b.Min.X+x*b.Dx()/tw, b.Min.Y+y*b.Dy()/th))
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return img[:min(len(img), max(1, len(img)/10))], tw, th
	}
	return out.Bytes(), tw, th
}

func (sf *storedFile) photoSize() models.PhotoSize {
	return models.PhotoSize{FileID: sf.id, FileUniqueID: sf.uniqueID, Width: sf.width, Height: sf.height, FileSize: int(sf.size)}
}

// photoSizes lists the sizes smallest first, the full photo last, as Telegram does.
func (sf *storedFile) photoSizes() []models.PhotoSize {
	if sf.thumb == nil {
		return []models.PhotoSize{sf.photoSize()}
	}
	return []models.PhotoSize{sf.thumb.photoSize(), sf.photoSize()}
}

func (sf *storedFile) video() *models.Video {
	return &models.Video{
		FileID: sf.id, FileUniqueID: sf.uniqueID, Width: sf.width, Height: sf.height, Duration: sf.duration,
		FileName: sf.name, MimeType: sf.mime, FileSize: sf.size,
	}
}

func (sf *storedFile) document() *models.Document {
	return &models.Document{FileID: sf.id, FileUniqueID: sf.uniqueID, FileName: sf.name, MimeType: sf.mime, FileSize: sf.size}
}

// serveFile answers GET /file/bot<token>/<file_path>, the URL bot.FileDownloadLink builds.
// Downloads are recorded as calls of method "file", and Fail("file", 0, ...) scripts them.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	c := Call{Method: "file", At: time.Now(), Fields: map[string]string{"file_path": filePath}}
	s.mu.Lock()
	rule := s.takeRule(c.Method, 0)
	s.mu.Unlock()
	if rule != nil && !s.scripted(w, r, *rule, c) {
		return
	}
	s.mu.Lock()
	sf := s.paths[filePath]
	switch {
	case token != s.token:
		c.Status = http.StatusUnauthorized
	case sf == nil:
		c.Status = http.StatusNotFound
	default:
		c.Status = http.StatusOK
	}
	s.record(c)
	s.broadcast()
	s.mu.Unlock()
	s.flush()

	switch c.Status {
	case http.StatusUnauthorized:
		writeError(w, &apiError{status: http.StatusUnauthorized, desc: "Unauthorized"})
	case http.StatusNotFound:
		writeError(w, &apiError{status: http.StatusNotFound, desc: "Not Found"})
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, path.Base(sf.path), time.Time{}, bytes.NewReader(sf.data))
	}
}
