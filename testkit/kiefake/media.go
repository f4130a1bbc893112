package kiefake

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// samplePNG and sampleMP4 are the default results: small, but real enough for a content sniffer
// or an image decoder.
var (
	samplePNG = makePNG()
	sampleMP4 = makeMP4()
)

func makePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic("kiefake: " + err.Error())
	}
	return b.Bytes()
}

// makeMP4 builds an ISO BMFF file with an ftyp box, a movie header and an empty media box.
func makeMP4() []byte {
	box := func(typ string, payload ...[]byte) []byte {
		body := bytes.Join(payload, nil)
		out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		return append(append(out, typ...), body...)
	}
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

	ftyp := box("ftyp", []byte("isom"), u32(0x200), []byte("isomiso2avc1mp41"))
	matrix := []uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}
	var mvhd bytes.Buffer
	mvhd.Write(u32(0))    // version 0, flags
	mvhd.Write(u32(0))    // creation time
	mvhd.Write(u32(0))    // modification time
	mvhd.Write(u32(1000)) // timescale
	mvhd.Write(u32(5000)) // duration: 5 s
	mvhd.Write(u32(0x10000))
	mvhd.Write([]byte{0x01, 0x00, 0, 0}) // volume 1.0, reserved
	mvhd.Write(make([]byte, 8))
	for _, m := range matrix {
		mvhd.Write(u32(m))
	}
	mvhd.Write(make([]byte, 24))
	mvhd.Write(u32(2)) // next track id
	return bytes.Join([][]byte{ftyp, box("moov", box("mvhd", mvhd.Bytes())), box("mdat")}, nil)
}

func contentType(ext string) string {
	switch strings.ToLower(ext) {
	case "mp4":
		return "video/mp4"
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "webp":
		return "image/webp"
	}
	return "application/octet-stream"
}
