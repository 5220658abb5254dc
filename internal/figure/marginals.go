package figure

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Marginals compares two sample sets of the same parameters, one panel per parameter: the
// normalised 1-D histograms of each as step lines over a shared range, the truth (when
// known) as a vertical line. It is the NDE-against-MCMC figure of mlcu fit.
type Marginals struct {
	Names          []string    // panel titles
	A, B           [][]float64 // per parameter, the samples of each set
	LabelA, LabelB string
	Truth          []float64 // per parameter; nil or NaN where unknown
	Title          string
}

var (
	marginalA = color.NRGBA{R: 150, G: 150, B: 150, A: 255} // the proposal: grey
	marginalB = color.NRGBA{R: 30, G: 100, B: 200, A: 255}  // the exact posterior: blue
)

// marginalBins is the number of histogram bins over each panel's range.
const marginalBins = 40

// WritePNG draws the panels in a grid.
func (f Marginals) WritePNG(w io.Writer) error {
	D := len(f.Names)
	if D == 0 || len(f.A) != D || len(f.B) != D {
		return errors.New("figure: marginals: need as many sample columns in A and B as names")
	}
	var panels []*plot.Plot
	for j, name := range f.Names {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range [][]float64{f.A[j], f.B[j]} {
			for _, v := range s {
				if evalFinite(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		if !(hi > lo) {
			lo, hi = lo-0.5, lo+0.5
		}
		if !evalFinite(lo) {
			return fmt.Errorf("figure: marginals: %s has no finite sample", name)
		}
		p := evalPlot(name, "", "density")
		for k, s := range [][]float64{f.A[j], f.B[j]} {
			l, err := stepHistogram(s, lo, hi)
			if err != nil {
				return err
			}
			l.Color, l.Width = []color.Color{marginalA, marginalB}[k], vg.Points(1.2)
			p.Add(l)
			if j == 0 {
				p.Legend.Add([]string{f.LabelA, f.LabelB}[k], l)
			}
		}
		if j < len(f.Truth) && evalFinite(f.Truth[j]) {
			_, top := p.Y.Min, p.Y.Max
			t, err := plotter.NewLine(plotter.XYs{{X: f.Truth[j], Y: 0}, {X: f.Truth[j], Y: top}})
			if err != nil {
				return err
			}
			t.Color, t.Width = color.NRGBA{R: 200, A: 255}, vg.Points(1)
			p.Add(t)
		}
		p.X.Min, p.X.Max = lo, hi
		panels = append(panels, p)
	}
	return writeEvalGrid(w, f.Title, panels)
}

// stepHistogram returns the normalised histogram of s over [lo, hi] as a step line.
func stepHistogram(s []float64, lo, hi float64) (*plotter.Line, error) {
	counts := make([]float64, marginalBins)
	n := 0
	for _, v := range s {
		if !evalFinite(v) || v < lo || v > hi {
			continue
		}
		b := min(int(float64(marginalBins)*(v-lo)/(hi-lo)), marginalBins-1)
		counts[b]++
		n++
	}
	width := (hi - lo) / marginalBins
	xy := plotter.XYs{{X: lo, Y: 0}}
	for b, c := range counts {
		d := 0.0
		if n > 0 {
			d = c / (float64(n) * width)
		}
		x0 := lo + float64(b)*width
		xy = append(xy, plotter.XY{X: x0, Y: d}, plotter.XY{X: x0 + width, Y: d})
	}
	xy = append(xy, plotter.XY{X: hi, Y: 0})
	return plotter.NewLine(xy)
}
