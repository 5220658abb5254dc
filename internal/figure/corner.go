package figure

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mlcu/mlcu/internal/atomicfile"
)

// Sizes of the corner plot: a D×D grid of CornerPanel squares under a title strip of
// CornerTitleHeight, so the figure is D·CornerPanel wide and D·CornerPanel +
// CornerTitleHeight high (at DPI in the PNG).
const (
	CornerPanel       = 2 * vg.Inch
	CornerTitleHeight = 0.4 * vg.Inch
)

// CornerRangeQuantile is the fraction of the samples cut from each end of a parameter's axis
// range, so that a few outlying draws do not squash the bulk of the posterior; the truth is
// always inside the range.
const CornerRangeQuantile = 0.002

// Colours of the corner plot.
var (
	cornerHist  = color.RGBA{R: 30, G: 60, B: 140, A: 255}
	cornerFill  = color.NRGBA{R: 30, G: 60, B: 140, A: 50}
	cornerTruth = causticColor
)

// Corner is the data of a corner plot of posterior samples.
type Corner struct {
	Names   []string    // axis label of each of the D parameters, with units
	Samples [][]float64 // N rows of D values; non-finite values are left out
	Truth   []float64   // optional: D true values, NaN where unknown
	Title   string      // optional
}

// Write draws the figure as PNG to w: a D×D grid with the histogram of each parameter on
// the diagonal (solid line at the median, dashed at the 16th and 84th percentiles), the 2-D
// histogram of each pair below it (density as shade, row i against column j < i), the truth
// as red lines and markers where known, and an empty upper triangle that holds the median
// and 68% interval of each parameter. Each column shares one axis range.
func (f Corner) Write(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	wd, ht := f.size()
	img, dc := newCanvas(wd, ht)
	if err := f.draw(dc); err != nil {
		return err
	}
	return writePNG(w, img)
}

// WriteSVG draws the figure of Write as SVG to w.
func (f Corner) WriteSVG(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	wd, ht := f.size()
	c := vgsvg.New(wd, ht)
	if err := f.draw(draw.New(c)); err != nil {
		return err
	}
	_, err := c.WriteTo(w)
	return err
}

// WriteFile writes the figure to path (atomically), as SVG when the name ends in .svg
// (any case) and as PNG otherwise.
func (f Corner) WriteFile(path string) error {
	write := f.Write
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		write = f.WriteSVG
	}
	if err := f.validate(); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, 0o644, write)
}

func (f Corner) size() (w, h vg.Length) {
	d := vg.Length(len(f.Names))
	return d * CornerPanel, d*CornerPanel + CornerTitleHeight
}

func (f Corner) validate() error {
	d := len(f.Names)
	if d == 0 {
		return errors.New("figure: corner plot needs at least one parameter")
	}
	if len(f.Samples) == 0 {
		return errors.New("figure: corner plot needs at least one sample")
	}
	for k, row := range f.Samples {
		if len(row) != d {
			return fmt.Errorf("figure: corner plot: sample %d has %d values, want %d", k, len(row), d)
		}
	}
	if f.Truth != nil && len(f.Truth) != d {
		return fmt.Errorf("figure: corner plot: %d true values, want %d", len(f.Truth), d)
	}
	return nil
}

// cornerDim is one parameter's sorted finite samples, axis range and truth.
type cornerDim struct {
	sorted []float64
	lo, hi float64
	truth  float64 // NaN when unknown
}

// quantile returns the p quantile of the sorted samples (linear interpolation), NaN when
// there are none.
func (c cornerDim) quantile(p float64) float64 {
	n := len(c.sorted)
	if n == 0 {
		return math.NaN()
	}
	x := p * float64(n-1)
	i := int(x)
	if i >= n-1 {
		return c.sorted[n-1]
	}
	return c.sorted[i] + (x-float64(i))*(c.sorted[i+1]-c.sorted[i])
}

func (f Corner) dims() []cornerDim {
	d := len(f.Names)
	out := make([]cornerDim, d)
	for j := range out {
		c := &out[j]
		c.truth = math.NaN()
		if f.Truth != nil && !math.IsInf(f.Truth[j], 0) {
			c.truth = f.Truth[j]
		}
		for _, row := range f.Samples {
			if v := row[j]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				c.sorted = append(c.sorted, v)
			}
		}
		sort.Float64s(c.sorted)
		c.lo, c.hi = c.quantile(CornerRangeQuantile), c.quantile(1-CornerRangeQuantile)
		if len(c.sorted) == 0 {
			c.lo, c.hi = math.Inf(1), math.Inf(-1)
		}
		if !math.IsNaN(c.truth) {
			c.lo, c.hi = math.Min(c.lo, c.truth), math.Max(c.hi, c.truth)
		}
		switch {
		case math.IsInf(c.lo, 1): // no finite samples, no truth
			c.lo, c.hi = 0, 1
		case c.hi-c.lo <= 1e-12*math.Max(1, math.Abs(c.lo)): // one value
			pad := 0.05 * math.Max(1e-3, math.Abs(c.lo))
			c.lo, c.hi = c.lo-pad, c.hi+pad
		default:
			pad := 0.05 * (c.hi - c.lo)
			c.lo, c.hi = c.lo-pad, c.hi+pad
		}
	}
	return out
}

// cornerBins returns the number of histogram bins per axis for n samples: 1-D and 2-D.
func cornerBins(n int) (bins1, bins2 int) {
	r := math.Sqrt(float64(n))
	return min(max(int(r), 10), 50), min(max(int(r/3), 8), 40)
}

// draw draws the figure on dc, of size f.size(); f is valid.
func (f Corner) draw(dc draw.Canvas) error {
	d := len(f.Names)
	dims := f.dims()
	nb1, nb2 := cornerBins(len(f.Samples))
	plots := make([][]*plot.Plot, d)
	for i := range plots {
		plots[i] = make([]*plot.Plot, d)
		for j := 0; j <= i; j++ {
			p, err := f.panel(dims, i, j, nb1, nb2)
			if err != nil {
				return fmt.Errorf("figure: corner plot: %v", err)
			}
			plots[i][j] = p
		}
	}
	grid := draw.Crop(dc, 0, 0, 0, -CornerTitleHeight)
	cells := plot.Align(plots, draw.Tiles{Rows: d, Cols: d, PadX: vg.Points(4), PadY: vg.Points(4),
		PadTop: vg.Points(4), PadRight: vg.Points(6), PadLeft: vg.Points(2), PadBottom: vg.Points(2)}, grid)
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(cells[i][j])
			}
		}
	}

	// Title at the top; the intervals in the empty upper triangle (from the second column
	// on) when there is room for them.
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(12)), Handler: plot.DefaultTextHandler}
	if f.Title != "" {
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - CornerTitleHeight/2}, f.Title)
	}
	if d < 2 {
		return nil
	}
	size := min(vg.Points(11), CornerPanel*vg.Length(d-1)/vg.Length(2*d+2))
	sty.Font = font.From(plot.DefaultFont, size)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	pt := vg.Point{X: grid.Min.X + CornerPanel*vg.Length(d/2+1), Y: grid.Max.Y - vg.Points(8)}
	line := func(s string) {
		dc.FillText(sty, pt, s)
		pt.Y -= 1.4 * size
	}
	line("median and 68% interval (16–84%)")
	for j, c := range dims {
		m := c.quantile(0.5)
		s := fmt.Sprintf("%s = %.4g  [%.4g, %.4g]", f.Names[j], m, c.quantile(0.16), c.quantile(0.84))
		if !math.IsNaN(c.truth) {
			s += fmt.Sprintf("  truth %.4g", c.truth)
		}
		line(s)
	}
	return nil
}

// panel builds the plot of row i, column j ≤ i.
func (f Corner) panel(dims []cornerDim, i, j, nb1, nb2 int) (*plot.Plot, error) {
	d := len(f.Names)
	p := plot.New()
	cx, cy := dims[j], dims[i]
	p.X.Min, p.X.Max = cx.lo, cx.hi
	p.X.Tick.Label.Font.Size = vg.Points(7)
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	p.Y.Label.TextStyle.Font.Size = vg.Points(9)
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	if i == d-1 {
		p.X.Label.Text = f.Names[j]
	} else {
		p.X.Tick.Marker = unlabelledTicks{}
	}
	// vline draws the vertical line x from y0 to y1 (nothing when x is NaN).
	vline := func(x, y0, y1 float64, clr color.Color, dashed bool) error {
		if math.IsNaN(x) {
			return nil
		}
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
		if err != nil {
			return err
		}
		l.Color, l.Width = clr, vg.Points(1)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		}
		p.Add(l)
		return nil
	}

	if i == j { // 1-D histogram
		p.HideY()
		counts := make([]float64, nb1)
		w := (cx.hi - cx.lo) / float64(nb1)
		for _, v := range cx.sorted {
			if k := int((v - cx.lo) / w); k >= 0 && k < nb1 {
				counts[k]++
			}
		}
		top := 0.0
		xys := make(plotter.XYs, nb1+1)
		for k, n := range counts {
			xys[k] = plotter.XY{X: cx.lo + float64(k)*w, Y: n}
			top = math.Max(top, n)
		}
		xys[nb1] = plotter.XY{X: cx.hi, Y: counts[nb1-1]}
		top = math.Max(top, 1) * 1.08
		h, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		h.StepStyle = plotter.PostStep
		h.Color, h.FillColor = cornerHist, cornerFill
		p.Add(h)
		for _, q := range []float64{0.16, 0.5, 0.84} {
			if err := vline(cx.quantile(q), 0, top, cornerHist, q != 0.5); err != nil {
				return nil, err
			}
		}
		if err := vline(cx.truth, 0, top, cornerTruth, false); err != nil {
			return nil, err
		}
		p.Y.Min, p.Y.Max = 0, top
		return p, nil
	}

	// 2-D histogram of (column j, row i), as an image whose shade grows with the count.
	p.Y.Min, p.Y.Max = cy.lo, cy.hi
	if j == 0 {
		p.Y.Label.Text = f.Names[i]
	} else {
		p.Y.Tick.Marker = unlabelledTicks{}
	}
	counts := make([]float64, nb2*nb2)
	wx, wy := (cx.hi-cx.lo)/float64(nb2), (cy.hi-cy.lo)/float64(nb2)
	top := 0.0
	for _, row := range f.Samples {
		kx, ky := int(math.Floor((row[j]-cx.lo)/wx)), int(math.Floor((row[i]-cy.lo)/wy))
		if kx >= 0 && kx < nb2 && ky >= 0 && ky < nb2 { // false for NaN too
			counts[ky*nb2+kx]++
			top = math.Max(top, counts[ky*nb2+kx])
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, nb2, nb2))
	for ky := range nb2 {
		for kx := range nb2 {
			if n := counts[ky*nb2+kx]; n > 0 {
				a := 0.15 + 0.85*math.Sqrt(n/top)
				img.SetNRGBA(kx, nb2-1-ky, color.NRGBA{R: cornerHist.R, G: cornerHist.G, B: cornerHist.B, A: uint8(255 * a)})
			}
		}
	}
	p.Add(plotter.NewImage(img, cx.lo, cy.lo, cx.hi, cy.hi))
	tx, ty := cx.truth, cy.truth
	if err := vline(tx, cy.lo, cy.hi, cornerTruth, false); err != nil {
		return nil, err
	}
	if !math.IsNaN(ty) {
		l, err := plotter.NewLine(plotter.XYs{{X: cx.lo, Y: ty}, {X: cx.hi, Y: ty}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = cornerTruth, vg.Points(1)
		p.Add(l)
	}
	if !math.IsNaN(tx) && !math.IsNaN(ty) {
		s, err := plotter.NewScatter(plotter.XYs{{X: tx, Y: ty}})
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: cornerTruth, Radius: vg.Points(3), Shape: draw.SquareGlyph{}}
		p.Add(s)
	}
	return p, nil
}

// unlabelledTicks are linearTicks without labels: the tick marks of an inner panel of a grid
// whose outer panels carry the labels.
type unlabelledTicks struct{}

// Ticks implements plot.Ticker.
func (unlabelledTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := linearTicks{}.Ticks(lo, hi)
	for i := range ts {
		ts[i].Label = ""
	}
	return ts
}
