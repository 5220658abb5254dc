package figure

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/cmplx"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlcu/mlcu/lens"
)

// LogScaleRatio is the ratio max A / min A above which a light curve is drawn with a
// logarithmic magnification axis.
const LogScaleRatio = 10

// CausticPoints is the number of points per critical curve asked of lens.Caustics.
const CausticPoints = 1024

// LightCurve is the data of a light-curve figure.
type LightCurve struct {
	Event lens.Event
	T, A  []float64 // times (days) and magnifications, same length ≥ 2
	Title string    // optional; a summary of the event when empty
}

// WritePNG draws the figure as PNG to w: on the left the magnification A(t), with a log10
// axis when max A / min A > LogScaleRatio; on the right, as a side panel rather than an
// inset so that it never hides part of the curve, the source plane around the caustic that
// the trajectory comes closest to: all caustics (lens.Caustics), the lens positions
// (crosses), the source trajectory with an arrow for its direction of motion, and the
// source disk drawn to scale (equal axis scales) at the peak and at a few other times
// while the source is in view.
func (f LightCurve) WritePNG(w io.Writer) error {
	if len(f.T) < 2 || len(f.T) != len(f.A) {
		return errors.New("figure: light curve needs ≥ 2 points and as many magnifications as times")
	}
	if err := f.Event.Validate(); err != nil {
		return fmt.Errorf("figure: %v", err)
	}
	lc, err := f.curvePlot()
	if err != nil {
		return err
	}
	sp, err := f.sourcePlane()
	if err != nil {
		return err
	}
	return writeBesideSourcePlane(w, lc, sp)
}

// timePlot returns an empty plot against time in days, titled title or, when that is empty,
// with the event's parameters, its y axis labelled ylabel and log-scaled when logY.
func timePlot(title string, e lens.Event, ylabel string, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if p.Title.Text == "" {
		p.Title.Text = fmt.Sprintf("s=%.4g q=%.3g α=%.4g u0=%.4g t0=%.4g tE=%.4g ρ=%.3g",
			e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE, e.Rho)
	}
	p.X.Label.Text = "t (days)"
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = linearTicks{}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text = ylabel + " (log scale)"
	}
	return p
}

// writeBesideSourcePlane draws a time-series plot with the source-plane panel sp to its
// right (square, equal axis scales) and writes the PNG: the layout of the light-curve and
// simulated-event figures.
func writeBesideSourcePlane(w io.Writer, lc, sp *plot.Plot) error {
	const width, height, side = 12 * vg.Inch, 5 * vg.Inch, 5 * vg.Inch
	img, dc := newCanvas(width, height)
	left := draw.Crop(dc, 0, -side, 0, 0)
	right := draw.Crop(dc, width-side, 0, 0, 0)
	lc.Draw(left)
	equalAspect(sp, right)
	sp.Draw(right)
	return writePNG(w, img)
}

func (f LightCurve) curvePlot() (*plot.Plot, error) {
	lo, hi := finiteRange(f.A)
	p := timePlot(f.Title, f.Event, "magnification A", lo > 0 && hi/lo > LogScaleRatio)
	xys := make(plotter.XYs, len(f.T))
	for i := range f.T {
		xys[i] = plotter.XY{X: f.T[i], Y: f.A[i]}
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	l.Color = pathColor
	p.Add(l, plotter.NewGrid())
	p.X.Min, p.X.Max = f.T[0], f.T[len(f.T)-1]
	return p, nil
}

// sourcePlane builds the caustic panel; its ranges are set before equalAspect widens one.
func (f LightCurve) sourcePlane() (*plot.Plot, error) {
	e := f.Event
	b := lens.NewBinary(e.S, e.Q)
	curves := b.Caustics(CausticPoints)
	p := plot.New()
	p.Title.Text = "source plane"
	p.X.Label.Text = "y1 (θE)"
	p.Y.Label.Text = "y2 (θE)"

	// The view: the caustic that comes closest to the trajectory during the window,
	// widened to show the trajectory's nearest approach to it.
	ya := complex(e.SourcePos(f.T[0]))
	yb := complex(e.SourcePos(f.T[len(f.T)-1]))
	best, bestD := -1, math.Inf(1)
	for i, cv := range curves {
		for _, c := range cv.Caustic {
			if d := segDist(c, ya, yb); d < bestD {
				best, bestD = i, d
			}
		}
	}
	var xlo, xhi, ylo, yhi float64
	if best >= 0 {
		xlo, ylo, xhi, yhi = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range curves[best].Caustic {
			xlo, xhi = math.Min(xlo, real(c)), math.Max(xhi, real(c))
			ylo, yhi = math.Min(ylo, imag(c)), math.Max(yhi, imag(c))
		}
		mid := complex((xlo+xhi)/2, (ylo+yhi)/2)
		near := segClosest(mid, ya, yb)
		xlo, xhi = math.Min(xlo, real(near)), math.Max(xhi, real(near))
		ylo, yhi = math.Min(ylo, imag(near)), math.Max(yhi, imag(near))
	} else { // no caustic: centre of mass and the trajectory's closest approach
		near := segClosest(0, ya, yb)
		xlo, xhi = math.Min(0, real(near)), math.Max(0, real(near))
		ylo, yhi = math.Min(0, imag(near)), math.Max(0, imag(near))
	}
	span := math.Max(math.Max(xhi-xlo, yhi-ylo), 20*e.Rho)
	span = math.Max(span, 1e-6)
	cx, cy := (xlo+xhi)/2, (ylo+yhi)/2
	half := 0.7 * span

	caus, err := addCaustics(p, curves, causticColor, vg.Points(1))
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	path, err := plotter.NewLine(plotter.XYs{{X: real(ya), Y: imag(ya)}, {X: real(yb), Y: imag(yb)}})
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	path.Color = pathColor
	p.Add(path)
	lenses, err := addLenses(p, b)
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}

	// Source disks: at the peak, and at up to four evenly spaced times in view.
	inView := func(y complex128) bool {
		return math.Abs(real(y)-cx) <= half && math.Abs(imag(y)-cy) <= half
	}
	peak := 0
	for i, a := range f.A {
		if a > f.A[peak] {
			peak = i
		}
	}
	var shown []int
	for i := range f.T {
		if inView(complex(e.SourcePos(f.T[i]))) {
			shown = append(shown, i)
		}
	}
	idx := []int{peak}
	if n := len(shown); n > 0 {
		for k := 0; k < 4; k++ {
			idx = append(idx, shown[(2*k+1)*n/8])
		}
	}
	var disk *plotter.Polygon
	if e.Rho == 0 {
		idx = nil // a point source has no disk to draw
	}
	for _, i := range idx {
		y1, y2 := e.SourcePos(f.T[i])
		if disk, err = addDisk(p, y1, y2, e.Rho); err != nil {
			return nil, fmt.Errorf("figure: %v", err)
		}
	}

	// Arrow for the direction of motion, at the in-view point nearest the view centre.
	mid := segClosest(complex(cx, cy), ya, yb)
	dir := cmplx.Rect(1, e.Alpha+math.Pi) // motion along (-cos α, -sin α)
	tip := mid + dir*complex(0.06*half, 0)
	back := -dir * complex(0.05*half, 0)
	wing := cmplx.Rect(1, math.Pi/6)
	a1, a2 := tip+back*wing, tip+back/wing
	arrow, err := plotter.NewLine(plotter.XYs{{X: real(a1), Y: imag(a1)}, {X: real(tip), Y: imag(tip)}, {X: real(a2), Y: imag(a2)}})
	if err != nil {
		return nil, fmt.Errorf("figure: %v", err)
	}
	arrow.Color = pathColor
	arrow.Width = vg.Points(1.5)
	p.Add(arrow)

	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	if caus != nil {
		p.Legend.Add("caustic", caus)
	}
	p.Legend.Add("source path", path)
	if disk != nil {
		p.Legend.Add(fmt.Sprintf("source disk ρ=%.2g (to scale)", e.Rho), disk)
	}
	p.Legend.Add("lenses", lenses)

	p.X.Min, p.X.Max = cx-half, cx+half
	p.Y.Min, p.Y.Max = cy-half, cy+half
	return p, nil
}

// addDisk draws a filled circle of radius r at (x, y) in data units.
func addDisk(p *plot.Plot, x, y, r float64) (*plotter.Polygon, error) {
	const n = 64
	xys := make(plotter.XYs, n)
	for k := range xys {
		s, c := math.Sincos(2 * math.Pi * float64(k) / n)
		xys[k] = plotter.XY{X: x + r*c, Y: y + r*s}
	}
	poly, err := plotter.NewPolygon(xys)
	if err != nil {
		return nil, err
	}
	poly.Color = diskFill
	poly.LineStyle.Color = diskLine
	poly.LineStyle.Width = vg.Points(0.5)
	p.Add(poly)
	return poly, nil
}

// segClosest returns the point of the segment [a, b] closest to c.
func segClosest(c, a, b complex128) complex128 {
	d := b - a
	l2 := real(d)*real(d) + imag(d)*imag(d)
	if l2 == 0 {
		return a
	}
	t := (real(c-a)*real(d) + imag(c-a)*imag(d)) / l2
	t = math.Min(math.Max(t, 0), 1)
	return a + complex(t, 0)*d
}

// segDist returns the distance from c to the segment [a, b].
func segDist(c, a, b complex128) float64 { return cmplx.Abs(c - segClosest(c, a, b)) }

// logTicks marks a logarithmic axis: labelled ticks at 1, 2 and 5 times the powers of ten
// when the range spans at most three decades (at the powers of ten only above that), and
// unlabelled ticks at the other integer multiples of the powers of ten.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	}
	labelled := map[int]bool{1: true, 2: true, 5: true}
	if math.Log10(hi/lo) > 3 {
		labelled = map[int]bool{1: true}
	}
	var ticks []plot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		p := math.Pow(10, float64(k))
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < lo*(1-1e-12) || v > hi*(1+1e-12) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled[m] {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
