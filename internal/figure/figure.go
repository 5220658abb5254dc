package figure

import (
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/mlcu/mlcu/lens"
)

// DPI is the resolution of the PNG figures.
const DPI = 150

// Colours shared by the figures.
var (
	causticColor = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	pathColor    = color.RGBA{R: 30, G: 90, B: 200, A: 255}
	diskFill     = color.NRGBA{R: 255, G: 160, B: 0, A: 140}
	diskLine     = color.RGBA{R: 180, G: 100, B: 0, A: 255}
)

// newCanvas returns an image canvas of w × h at DPI.
func newCanvas(w, h vg.Length) (*vgimg.Canvas, draw.Canvas) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	return c, draw.New(c)
}

// writePNG encodes the canvas as PNG.
func writePNG(w io.Writer, c *vgimg.Canvas) error {
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// dataSize returns the size of p's data area when p is drawn on a w × h canvas.
func dataSize(p *plot.Plot, w, h vg.Length) (vg.Length, vg.Length) {
	dc := draw.Canvas{Canvas: new(recorder.Canvas), Rectangle: vg.Rectangle{Max: vg.Point{X: w, Y: h}}}
	da := p.DataCanvas(dc)
	return da.Max.X - da.Min.X, da.Max.Y - da.Min.Y
}

// equalAspect widens p's x or y range about its centre so that one unit has the same length
// on both axes when p is drawn in c: circles are drawn as circles.
func equalAspect(p *plot.Plot, c draw.Canvas) {
	w, h := dataSize(p, c.Max.X-c.Min.X, c.Max.Y-c.Min.Y)
	if w <= 0 || h <= 0 {
		return
	}
	sx := (p.X.Max - p.X.Min) / float64(w) // data units per length
	sy := (p.Y.Max - p.Y.Min) / float64(h)
	if sx > sy {
		mid, half := (p.Y.Min+p.Y.Max)/2, sx*float64(h)/2
		p.Y.Min, p.Y.Max = mid-half, mid+half
	} else {
		mid, half := (p.X.Min+p.X.Max)/2, sy*float64(w)/2
		p.X.Min, p.X.Max = mid-half, mid+half
	}
}

// addCaustics draws every caustic of curves on p and returns the line of the first, for a
// legend (nil when there are none).
func addCaustics(p *plot.Plot, curves []lens.Curve, clr color.Color, width vg.Length) (*plotter.Line, error) {
	var first *plotter.Line
	for _, cv := range curves {
		if len(cv.Caustic) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(cv.Caustic)+1)
		for _, w := range cv.Caustic {
			xys = append(xys, plotter.XY{X: real(w), Y: imag(w)})
		}
		xys = append(xys, xys[0]) // closed curve
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = clr
		l.Width = width
		p.Add(l)
		if first == nil {
			first = l
		}
	}
	return first, nil
}

// addLenses marks the two lens positions with crosses.
func addLenses(p *plot.Plot, b lens.Binary) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(plotter.XYs{{X: b.X1, Y: 0}, {X: b.X2, Y: 0}})
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Shape = draw.CrossGlyph{}
	s.GlyphStyle.Radius = vg.Points(4)
	s.GlyphStyle.Color = color.Black
	p.Add(s)
	return s, nil
}

// finiteRange returns the smallest and largest finite values of v.
func finiteRange(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
