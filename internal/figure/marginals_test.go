package figure

import (
	"bytes"
	"math"
	"testing"
)

func TestMarginalsFigure(t *testing.T) {
	a, b := make([]float64, 500), make([]float64, 500)
	for i := range a {
		a[i] = math.Sin(float64(i))
		b[i] = 0.3 * math.Cos(float64(i))
	}
	var buf bytes.Buffer
	f := Marginals{Names: []string{"x", "y"}, A: [][]float64{a, b}, B: [][]float64{b, a}, LabelA: "NDE", LabelB: "MCMC",
		Truth: []float64{0.1, math.NaN()}, Title: "t"}
	if err := f.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if w, h := decodePNG(t, buf.Bytes()); w <= 0 || h <= 0 {
		t.Errorf("figure is %d×%d px", w, h)
	}
	f.B = f.B[:1]
	if err := f.WritePNG(&buf); err == nil {
		t.Error("mismatched columns accepted")
	}
}
