package figure

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/lens"
)

func TestObservedFigure(t *testing.T) {
	e := lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}
	ts := lens.RomanTimes(0, 72, 0.25)
	as := make([]float64, len(ts))
	model := make([]float64, len(ts))
	flux := make([]float64, len(ts))
	b := lens.NewBinary(e.S, e.Q)
	for i, tv := range ts {
		as[i] = b.PointMag(e.SourcePos(tv))
		model[i] = 0.5*as[i] + 0.5
		flux[i] = model[i] + 0.01*math.Sin(float64(i)) // a deterministic stand-in for noise
	}
	var buf bytes.Buffer
	if err := (Observed{Event: e, T: ts, Flux: flux, Model: model, A: as}).WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if w, h := decodePNG(t, buf.Bytes()); w != 12*DPI || h != 5*DPI {
		t.Errorf("figure is %d×%d px, want %d×%d", w, h, 12*DPI, 5*DPI)
	}
	// A non-positive flux point must not break the (then linear) axis.
	flux[3] = -0.2
	buf.Reset()
	if err := (Observed{Event: e, T: ts, Flux: flux, Model: model, A: as}).WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if err := (Observed{Event: e, T: ts, Flux: flux[:4], Model: model, A: as}).WritePNG(&buf); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestLinearTicks(t *testing.T) {
	var labels []string
	for _, tk := range (linearTicks{}).Ticks(0.9797, 1.0766) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "0.98 1.02 1.06" {
		t.Errorf("labels over [0.9797, 1.0766]: %q, want \"0.98 1.02 1.06\"", got)
	}
	labels = nil
	for _, tk := range (linearTicks{}).Ticks(0.99, 8) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "2 4 6 8" {
		t.Errorf("labels over [0.99, 8]: %q, want \"2 4 6 8\"", got)
	}
}
