package figure

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Trace is the data of an MCMC trace plot: one panel per parameter with every walker's
// value against the step, and the end of the burn-in marked.
type Trace struct {
	Names  []string    // panel titles (parameter and coordinate, e.g. "log10 s")
	Chains [][]float64 // per walker: (Steps, len(Names)) row-major values
	Burn   int         // steps discarded (a dashed vertical line)
	Title  string
}

// traceColor is the colour of the walkers' lines: translucent, so that a crowd darkens.
var traceColor = color.NRGBA{R: 30, G: 100, B: 200, A: 90}

// WritePNG draws the figure as PNG to w: the panels in a grid, titled by Names.
func (f Trace) WritePNG(w io.Writer) error {
	D := len(f.Names)
	if D == 0 || len(f.Chains) == 0 || len(f.Chains[0]) < 2*D {
		return errors.New("figure: trace: need ≥ 1 parameter, ≥ 1 walker, ≥ 2 steps")
	}
	T := len(f.Chains[0]) / D
	for _, c := range f.Chains {
		if len(c) != T*D {
			return errors.New("figure: trace: walkers of different lengths")
		}
	}
	// At most ~2,000 points per line: thin long chains.
	stride := max(1, T/2000)
	var panels []*plot.Plot
	for j, name := range f.Names {
		p := evalPlot(name, "step", "")
		for _, c := range f.Chains {
			var xy plotter.XYs
			for t := 0; t < T; t += stride {
				xy = append(xy, plotter.XY{X: float64(t), Y: c[t*D+j]})
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("figure: trace: %v", err)
			}
			l.Color, l.Width = traceColor, vg.Points(0.5)
			p.Add(l)
		}
		if f.Burn > 0 {
			lo, hi := c2range(f.Chains, j, D)
			b, err := plotter.NewLine(plotter.XYs{{X: float64(f.Burn), Y: lo}, {X: float64(f.Burn), Y: hi}})
			if err != nil {
				return fmt.Errorf("figure: trace: %v", err)
			}
			b.Color, b.Dashes = color.Black, []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(b)
		}
		p.X.Min, p.X.Max = 0, float64(T-1)
		panels = append(panels, p)
	}
	return writeEvalGrid(w, f.Title, panels)
}

// c2range returns the range of column j over every walker.
func c2range(chains [][]float64, j, D int) (lo, hi float64) {
	lo, hi = chains[0][j], chains[0][j]
	for _, c := range chains {
		for t := j; t < len(c); t += D {
			lo, hi = min(lo, c[t]), max(hi, c[t])
		}
	}
	return lo, hi
}
