package figure

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlcu/mlcu/lens"
)

// Observed is the data of a figure of one noisy light curve as a network sees it: the
// measured flux normalised by the baseline, the noise-free model under it, and the source
// plane of the event.
type Observed struct {
	Event lens.Event // the event, with T0 in the time coordinate of T
	T     []float64  // times (days), length ≥ 2
	Flux  []float64  // noisy normalised flux F/F0, one per time
	Model []float64  // noise-free normalised flux fs·A + 1 − fs, one per time
	A     []float64  // noise-free magnification, one per time (places the source disks)
	Title string     // optional; a summary of the event when empty
}

// pointColor is the colour of the noisy flux points.
var pointColor = color.NRGBA{R: 60, G: 60, B: 60, A: 110}

// WritePNG draws the figure as PNG to w: on the left the noisy normalised flux as points
// with the noise-free model as a line (a log10 axis when the model's max/min exceeds
// LogScaleRatio and every point is positive); on the right the source-plane panel of
// LightCurve.WritePNG (caustics, lenses, trajectory, source disk to scale).
func (f Observed) WritePNG(w io.Writer) error {
	n := len(f.T)
	if n < 2 || len(f.Flux) != n || len(f.Model) != n || len(f.A) != n {
		return errors.New("figure: observed light curve needs ≥ 2 times and as many fluxes, model fluxes and magnifications")
	}
	if err := f.Event.Validate(); err != nil {
		return fmt.Errorf("figure: %v", err)
	}
	lc, err := f.fluxPlot()
	if err != nil {
		return err
	}
	sp, err := LightCurve{Event: f.Event, T: f.T, A: f.A}.sourcePlane()
	if err != nil {
		return err
	}
	return writeBesideSourcePlane(w, lc, sp)
}

func (f Observed) fluxPlot() (*plot.Plot, error) {
	lo, hi := finiteRange(f.Model)
	flo, _ := finiteRange(f.Flux)
	p := timePlot(f.Title, f.Event, "normalised flux F/F0", lo > 0 && flo > 0 && hi/lo > LogScaleRatio)
	pts := make(plotter.XYs, len(f.T))
	mod := make(plotter.XYs, len(f.T))
	for i := range f.T {
		pts[i] = plotter.XY{X: f.T[i], Y: f.Flux[i]}
		mod[i] = plotter.XY{X: f.T[i], Y: f.Model[i]}
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	s.GlyphStyle.Radius = vg.Points(0.6)
	s.GlyphStyle.Color = pointColor
	l, err := plotter.NewLine(mod)
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	l.Color = pathColor
	l.Width = vg.Points(1)
	p.Add(plotter.NewGrid(), s, l)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.Add("simulated flux", s)
	p.Legend.Add("noise-free model", l)
	p.X.Min, p.X.Max = f.T[0], f.T[len(f.T)-1]
	return p, nil
}

// linearTicks is plot.DefaultTicks with labels that carry as many decimals as the labelled
// values need (DefaultTicks labels 1.02 and 1.06 as "1" and "1.1" on a narrow range such as
// a faint event's normalised flux, and 1.25 as "1.2").
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	// The fewest decimals that write every labelled value to 1e-6 of the range.
	tol := 1e-6 * (hi - lo)
	dec := 0
	for ; dec < 12; dec++ {
		ok := true
		for _, t := range ticks {
			if t.Label != "" {
				v, _ := strconv.ParseFloat(strconv.FormatFloat(t.Value, 'f', dec, 64), 64)
				ok = ok && math.Abs(v-t.Value) <= tol
			}
		}
		if ok {
			break
		}
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', dec, 64)
		}
	}
	return ticks
}
