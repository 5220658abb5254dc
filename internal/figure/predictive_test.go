package figure

import (
	"bytes"
	"math"
	"testing"

	"github.com/mlcu/mlcu/lens"
)

func TestPredictiveFigure(t *testing.T) {
	e := lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}
	ts := lens.RomanTimes(0, 72, 0.25)
	b := lens.NewBinary(e.S, e.Q)
	flux, ferr := make([]float64, len(ts)), make([]float64, len(ts))
	models := [][]float64{make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts))}
	for i, tv := range ts {
		a := b.PointMag(e.SourcePos(tv))
		for k, m := range models {
			m[i] = 100*a*(1+0.01*float64(k)) + 50
		}
		ferr[i] = math.Sqrt(models[0][i])
		flux[i] = models[0][i] + ferr[i]*math.Sin(float64(i))
	}
	var buf bytes.Buffer
	f := Predictive{T: ts, Flux: flux, Err: ferr, Models: models, Best: e, Label: "best draw"}
	if err := f.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if w, h := decodePNG(t, buf.Bytes()); w != 12*DPI || h != 5*DPI {
		t.Errorf("figure is %d×%d px, want %d×%d", w, h, 12*DPI, 5*DPI)
	}
	f.Models = [][]float64{models[0][:3]}
	if err := f.WritePNG(&buf); err == nil {
		t.Error("a model of the wrong length accepted")
	}
}
