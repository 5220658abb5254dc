package figure

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/lens"
)

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(1.07, 53) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "2 5 10 20 50" {
		t.Errorf("labels over [1.07, 53]: %q, want \"2 5 10 20 50\"", got)
	}
	labels = nil
	for _, tk := range (logTicks{}).Ticks(0.5, 2e4) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1 10 100 1000 10000" {
		t.Errorf("labels over [0.5, 2e4]: %q", got)
	}
}

func decodePNG(t *testing.T, b []byte) (w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestLightCurveFigure(t *testing.T) {
	e := lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}
	ts := lens.RomanTimes(0, 72, 0.5)
	as := make([]float64, len(ts))
	b := lens.NewBinary(e.S, e.Q)
	for i, tv := range ts {
		as[i] = b.PointMag(e.SourcePos(tv))
	}
	var buf bytes.Buffer
	if err := (LightCurve{Event: e, T: ts, A: as}).WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if w, h := decodePNG(t, buf.Bytes()); w != 12*DPI || h != 5*DPI {
		t.Errorf("figure is %d×%d px, want %d×%d", w, h, 12*DPI, 5*DPI)
	}
	if err := (LightCurve{Event: e, T: ts, A: as[:3]}).WritePNG(&buf); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestMagMapFigure(t *testing.T) {
	m := &lens.MagMap{S: 1, Q: 0.5, X0: -1, X1: 1, Y0: -0.5, Y1: 0.5, NX: 8, NY: 4, A: make([]float64, 32)}
	for k := range m.A {
		m.A[k] = 1 + float64(k)
	}
	m.A[5] = 0 // no rays
	m.A[6] = math.Inf(1)
	var buf bytes.Buffer
	if err := (MagMap{Map: m, Caustics: lens.NewBinary(1, 0.5).Caustics(64)}).WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes())
	m.A = m.A[:3]
	if err := (MagMap{Map: m}).WritePNG(&buf); err == nil {
		t.Error("map with the wrong number of values accepted")
	}
}
