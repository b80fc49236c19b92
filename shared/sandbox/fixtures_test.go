package sandbox

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// The JPEG the sandbox returns is what image/jpeg makes of the gradient,
// and decodes as a 16x16 image.
func TestTinyJPEGIsTheEncodedGradient(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.SetGray(x, y, color.Gray{Y: uint8(96 + 8*((x+y)%8))})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(b.Bytes()); got != tinyJPEGBase64 {
		t.Fatalf("tinyJPEGBase64 is not the encoded gradient:\n%s", got)
	}
	raw, _ := base64.StdEncoding.DecodeString(jpegBase64)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width != 16 || cfg.Height != 16 {
		t.Fatalf("decode: %+v %v", cfg, err)
	}
}
