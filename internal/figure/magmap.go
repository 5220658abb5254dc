package figure

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlcu/mlcu/lens"
)

// MapClipQuantile is the quantile of log10 A at which the map's colour scale saturates, so
// that the few caustic pixels do not wash out the rest of the map.
const MapClipQuantile = 0.999

// noRays is the colour of pixels that received no ray (A = 0).
var noRays = color.RGBA{R: 128, G: 128, B: 128, A: 255}

// MagMap is the data of a magnification-map figure.
type MagMap struct {
	Map      *lens.MagMap
	Caustics []lens.Curve // drawn over the map; may be nil
	Title    string       // optional; a summary of the lens when empty
}

// WritePNG draws log10 A of the map as an image, pixel (i, j) of the map at
// x = X0 + (i+½)(X1−X0)/NX, y = Y0 + (j+½)(Y1−Y0)/NY, with equal axis scales, the caustics
// and lens positions over it and a colour bar beside it, and writes it as PNG to w. The colour
// scale runs from the smallest log10 A to its MapClipQuantile quantile; pixels with no rays
// are grey.
func (f MagMap) WritePNG(w io.Writer) error {
	m := f.Map
	if m == nil || m.NX <= 0 || m.NY <= 0 || len(m.A) != m.NX*m.NY {
		return errors.New("figure: magnification map has no pixels or the wrong number of values")
	}
	logA := make([]float64, len(m.A))
	var finite []float64
	for k, a := range m.A {
		logA[k] = math.NaN()
		if a > 0 && !math.IsInf(a, 0) {
			logA[k] = math.Log10(a)
			finite = append(finite, logA[k])
		}
	}
	lo, hi := 0.0, 1.0
	if len(finite) > 0 {
		sort.Float64s(finite)
		lo = finite[0]
		hi = finite[int(MapClipQuantile*float64(len(finite)-1))]
		if !(hi > lo) {
			hi = lo + 1
		}
	}
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(lo)
	cm.SetMax(hi)
	const nLUT = 256
	lut := cm.Palette(nLUT).Colors()

	img := image.NewRGBA(image.Rect(0, 0, m.NX, m.NY))
	for j := 0; j < m.NY; j++ {
		for i := 0; i < m.NX; i++ {
			v := logA[j*m.NX+i]
			c := color.Color(noRays)
			if !math.IsNaN(v) {
				k := int((v - lo) / (hi - lo) * nLUT)
				c = lut[min(max(k, 0), nLUT-1)]
			}
			img.Set(i, m.NY-1-j, c) // image row 0 is the top (y = Y1)
		}
	}

	p := plot.New()
	p.Title.Text = f.Title
	if p.Title.Text == "" {
		p.Title.Text = fmt.Sprintf("log10 A, s=%.4g q=%.3g", m.S, m.Q)
	}
	p.X.Label.Text = "y1 (θE)"
	p.Y.Label.Text = "y2 (θE)"
	p.Add(plotter.NewImage(img, m.X0, m.Y0, m.X1, m.Y1))
	if _, err := addCaustics(p, f.Caustics, color.RGBA{G: 220, B: 255, A: 255}, vg.Points(0.6)); err != nil {
		return fmt.Errorf("figure: %v", err)
	}
	if m.S > 0 && m.Q > 0 {
		s, err := addLenses(p, lens.NewBinary(m.S, m.Q))
		if err != nil {
			return fmt.Errorf("figure: %v", err)
		}
		s.GlyphStyle.Color = color.RGBA{G: 220, B: 255, A: 255}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = m.X0, m.X1, m.Y0, m.Y1

	bar := plot.New()
	bar.HideX()
	bar.Y.Label.Text = "log10 A"
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.Y.Min, bar.Y.Max = lo, hi

	// Size the canvas so that the map's data area has the map's aspect ratio.
	const mainW, barW = 6.5 * vg.Inch, 1.1 * vg.Inch
	aspect := (m.Y1 - m.Y0) / (m.X1 - m.X0)
	h := vg.Length(float64(mainW) * aspect)
	for it := 0; it < 2; it++ {
		dw, dh := dataSize(p, mainW, h)
		h += vg.Length(float64(dw)*aspect) - dh
	}
	h = max(min(h, 3*mainW), 2*vg.Inch)
	c, dc := newCanvas(mainW+barW, h)
	mainC := draw.Crop(dc, 0, -barW, 0, 0)
	p.Draw(mainC)
	// Align the colour bar with the map's data area.
	da := p.DataCanvas(mainC)
	barC := draw.Crop(dc, mainW, 0, 0, 0)
	barC.Min.Y, barC.Max.Y = da.Min.Y, da.Max.Y
	bar.Draw(barC)
	return writePNG(w, c)
}
