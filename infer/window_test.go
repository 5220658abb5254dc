package infer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/event"
)

// nightly returns a ground-survey-like light curve: one point a night (at t = 0.3 + night
// d) from night first to last, nights in [gapLo, gapHi) missing, flux
// base·(1 + 4/(1 + ((t − tPeak)/3)²)) (a bump, not physics) with unit errors.
func nightly(first, last, gapLo, gapHi int, base, tPeak float64) LightCurve {
	var lc LightCurve
	for n := first; n <= last; n++ {
		if n >= gapLo && n < gapHi {
			continue
		}
		t := 0.3 + float64(n)
		u := (t - tPeak) / 3
		lc.T = append(lc.T, t)
		lc.Flux = append(lc.Flux, base*(1+4/(1+u*u)))
		lc.Err = append(lc.Err, 1)
	}
	return lc
}

// PlaceWindow centres the window on the peak of a sparse curve spanning several windows,
// and starts a curve of exactly one window at its first point.
func TestPlaceWindow(t *testing.T) {
	lc := nightly(0, 300, 120, 150, 500, 200.3)
	start, err := PlaceWindow(lc)
	require.NoError(t, err)
	assert.InDelta(t, 200.3-window/2, start, 1e-9, "window start")
	// A peak near the end of the data: the window stays inside the curve.
	lc = nightly(0, 300, 0, 0, 500, 290.3)
	start, err = PlaceWindow(lc)
	require.NoError(t, err)
	assert.InDelta(t, 300.3-window, start, 1e-9)
	// Roman-like: one window of data starts at its first point.
	// A single outlier does not move it.
	lc = nightly(0, 300, 120, 150, 500, 200.3)
	lc.Flux[10] = 1e5
	start, err = PlaceWindow(lc)
	require.NoError(t, err)
	assert.InDelta(t, 200.3-window/2, start, 1e-9, "window start with an outlier")
	// Roman-like: one window of data starts at its first point.
	var roman LightCurve
	for j := range event.WindowPoints {
		tt := 100 + float64(j)*event.Cadence
		roman.T, roman.Flux, roman.Err = append(roman.T, tt), append(roman.Flux, 1+1/(1+(tt-150)*(tt-150))), append(roman.Err, 0.01)
	}
	start, err = PlaceWindow(roman)
	require.NoError(t, err)
	assert.InDelta(t, 100, start, 1e-9)
}

// WindowInput on nightly data with a gap: the input is the normalised flux at the
// observations, linear between them, 1 (the baseline) outside the observed span; the
// window's statistics count the points, the spacing and the longest gap.
func TestWindowInputSparse(t *testing.T) {
	lc := nightly(10, 100, 50, 60, 500, 70.3)
	start := 40.0 // window [40, 111.99]: observations from 40.3 to 100.3, none from 50 to 59
	x, w, err := WindowInput(lc, start)
	require.NoError(t, err)
	assert.Equal(t, 51, w.Points) // nights 40…100 less the 10 of the gap
	assert.InDelta(t, 1.0, w.Spacing, 1e-9)
	assert.InDelta(t, 111.99-100.3, w.MaxGap, 1e-9) // the window's end after the last night (longer than the 11-d gap 49.3 → 60.3)
	// The baseline: the median of the faintest 20% (10 of 51) of the window's points.
	faint := []float64{}
	for i, tt := range lc.T {
		if tt >= start && tt < start+window {
			faint = append(faint, lc.Flux[i])
		}
	}
	base, err := faintMedian(faint)
	require.NoError(t, err)
	assert.InDelta(t, base, w.Baseline, 1e-12)
	flux := func(tt float64) float64 { u := (tt - 70.3) / 3; return 500 * (1 + 4/(1+u*u)) / base }
	for j, v := range x {
		tt := start + float64(j)*event.Cadence
		switch {
		case tt < 40.3-1e-9 || tt > 100.3+1e-9:
			// Before the night of 40 the grid lies between the nights 39 and 40: interpolated.
			if tt > 100.3 {
				require.Equal(t, float32(1), v, "x at t = %.2f (after the data)", tt)
			}
		case math.Abs(tt-math.Round(tt-0.3)-0.3) < 1e-9 && (tt < 50 || tt >= 60):
			require.InDelta(t, flux(tt), float64(v), 1e-5, "x at the observation t = %.2f", tt)
		case tt > 49.3 && tt < 60.3: // across the gap: the straight line between its ends
			f := (tt - 49.3) / 11
			require.InDelta(t, flux(49.3)+f*(flux(60.3)-flux(49.3)), float64(v), 1e-5, "x in the gap at t = %.2f", tt)
		}
	}
	// Too few points in the window: an error naming the count.
	_, _, err = WindowInput(nightly(0, 300, 0, 0, 500, 70), 400)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "0 points in the 72-day window")
	_, _, err = WindowInput(lc, math.NaN())
	require.Error(t, err)
}
