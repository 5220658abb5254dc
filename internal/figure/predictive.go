package figure

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlcu/mlcu/lens"
)

// Predictive is the data of a posterior-predictive figure: observed photometry with the
// model light curves of posterior draws over it, and the source plane of the best draw.
type Predictive struct {
	T, Flux, Err []float64   // the data: times (days), fluxes and errors (data unit)
	Models       [][]float64 // model fluxes of the draws at T, the best fit first
	Best         lens.Event  // the best draw's event (source-plane panel)
	Label        string      // legend of the best draw, e.g. its χ²
	Title        string
}

// drawColor is the colour of the posterior draws' curves: translucent, so that where many
// agree the band darkens.
var drawColor = color.NRGBA{R: 30, G: 100, B: 200, A: 60}

// WritePNG draws the figure as PNG to w: on the left the data as points with the draws'
// curves (the best one opaque; a log10 flux axis as Observed's), on the right the best draw's source plane (caustics,
// lenses, trajectory, source disk) as LightCurve.WritePNG draws it.
func (f Predictive) WritePNG(w io.Writer) error {
	n := len(f.T)
	if n < 2 || len(f.Flux) != n || len(f.Err) != n || len(f.Models) == 0 {
		return errors.New("figure: predictive: need ≥ 2 data points with fluxes and errors and ≥ 1 model")
	}
	for _, m := range f.Models {
		if len(m) != n {
			return errors.New("figure: predictive: a model's length differs from the data's")
		}
	}
	if err := f.Best.Validate(); err != nil {
		return fmt.Errorf("figure: %v", err)
	}
	// A log10 axis when the data span more than LogScaleRatio and every value is positive
	// (a caustic crossing's peak flattens the baseline on a linear one).
	lo, hi := finiteRange(f.Flux)
	logY := lo > 0 && hi/lo > LogScaleRatio
	for _, m := range f.Models {
		if mlo, _ := finiteRange(m); !(mlo > 0) {
			logY = false
		}
	}
	p := timePlot(f.Title, f.Best, "flux", logY)
	pts := make(plotter.XYs, n)
	for i := range f.T {
		pts[i] = plotter.XY{X: f.T[i], Y: f.Flux[i]}
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("figure: %v", err)
	}
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	s.GlyphStyle.Radius = vg.Points(0.6)
	s.GlyphStyle.Color = pointColor
	p.Add(plotter.NewGrid(), s)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.Add("data", s)
	line := func(m []float64, c color.Color, width float64) (*plotter.Line, error) {
		xy := make(plotter.XYs, n)
		for i := range f.T {
			xy[i] = plotter.XY{X: f.T[i], Y: m[i]}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("figure: %v", err)
		}
		l.Color, l.Width = c, vg.Points(width)
		return l, nil
	}
	for k := len(f.Models) - 1; k >= 1; k-- {
		l, err := line(f.Models[k], drawColor, 0.7)
		if err != nil {
			return err
		}
		p.Add(l)
		if k == 1 {
			p.Legend.Add(fmt.Sprintf("%d posterior draws", len(f.Models)-1), l)
		}
	}
	best, err := line(f.Models[0], pathColor, 1.2)
	if err != nil {
		return err
	}
	p.Add(best)
	p.Legend.Add(f.Label, best)
	p.X.Min, p.X.Max = f.T[0], f.T[n-1]
	sp, err := LightCurve{Event: f.Best, T: f.T, A: f.Models[0]}.sourcePlane()
	if err != nil {
		return err
	}
	return writeBesideSourcePlane(w, p, sp)
}
