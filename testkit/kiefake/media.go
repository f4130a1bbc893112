package kiefake

import (
	"bytes"
	_ "embed"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// sampleMP4 is the default video result: a real 3-second 360×480 H.264 clip (22 KB) that a
// browser plays, made once with Debian's ffmpeg 5.1 by
//
//	ffmpeg -filter_complex "gradients=s=360x480:d=3:r=24:speed=0.03:c0=0x2b5278:c1=0xf0a030:c2=0x40c0a0:nb_colors=3[bg];
//	  color=c=0xf4f1ea:s=130x170:d=3:r=24,drawbox=x=0:y=40:w=130:h=36:color=0xd2553c:t=fill,
//	  drawbox=x=0:y=150:w=130:h=20:color=0x333333@0.25:t=fill[box];
//	  [bg][box]overlay=x='115+35*sin(2*PI*t/3)':y='155-12*t'" -t 3 -c:v libx264 -profile:v baseline
//	  -level 3.0 -pix_fmt yuv420p -crf 30 -movflags +faststart -an sample.mp4
//
//go:embed sample.mp4
var sampleMP4 []byte

// samplePNG is the default image result: a 360×480 "product card" that decodes as a PNG and
// looks like one in a chat.
var samplePNG = makePNG()

func makePNG() []byte {
	const w, h = 360, 480
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	top, bottom := color.RGBA{0x2b, 0x52, 0x78, 255}, color.RGBA{0x40, 0xc0, 0xa0, 255}
	blend := func(a, b uint8, y int) uint8 { return uint8((int(a)*(h-y) + int(b)*y) / h) }
	box := image.Rect(115, 150, 245, 320)
	label := image.Rect(115, 190, 245, 226)
	shadow := image.Rect(115, 300, 245, 320)
	for y := range h {
		bg := color.RGBA{blend(top.R, bottom.R, y), blend(top.G, bottom.G, y), blend(top.B, bottom.B, y), 255}
		for x := range w {
			p := image.Pt(x, y)
			switch {
			case p.In(label):
				img.Set(x, y, color.RGBA{0xd2, 0x55, 0x3c, 255})
			case p.In(shadow):
				img.Set(x, y, color.RGBA{0xc4, 0xc1, 0xbb, 255})
			case p.In(box):
				img.Set(x, y, color.RGBA{0xf4, 0xf1, 0xea, 255})
			default:
				img.Set(x, y, bg)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic("kiefake: " + err.Error())
	}
	return b.Bytes()
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
