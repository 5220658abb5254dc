package figure

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figures of the posterior-evaluation report of mlcu eval: parameter recovery
// (Recovery), calibration of credible intervals (Coverage), simulation-based-calibration
// rank histograms (Ranks) and the TARP coverage test (TARP).

// Sizes of the evaluation figures: the per-parameter figures (Recovery, Ranks) are a grid of
// evalPanel squares, at most evalCols across, under a title strip of evalTitleHeight; the
// single-panel figures (Coverage, TARP) are evalWidth × evalHeight.
const (
	evalPanel       = 4 * vg.Inch
	evalCols        = 4
	evalTitleHeight = 0.4 * vg.Inch
	evalWidth       = 6 * vg.Inch
	evalHeight      = 5 * vg.Inch
)

// Statistics of the evaluation figures.
const (
	evalBandSigma = 2.0  // half-width of the calibration band, in σ
	evalRankZ99   = 2.58 // two-sided 99% normal quantile
	evalBandSteps = 200  // segments of a calibration band's edges
)

// Colours of the evaluation figures.
var (
	evalBar95     = color.NRGBA{R: 120, G: 120, B: 120, A: 70} // 95% interval: thin, light
	evalBar68     = color.NRGBA{R: 50, G: 50, B: 50, A: 120}   // 68% interval: thick, dark
	evalPoint     = color.NRGBA{R: 0, G: 0, B: 0, A: 200}      // mode nearest the truth
	evalSecondary = color.NRGBA{R: 240, G: 130, B: 0, A: 230}  // secondary mode nearest the truth
	evalWrong     = color.NRGBA{R: 30, G: 90, B: 200, A: 230}  // global mode when it is not
	evalBand      = color.NRGBA{R: 128, G: 128, B: 128, A: 70} // binomial scatter band
	evalExpect    = color.NRGBA{R: 90, G: 90, B: 90, A: 255}   // diagonal, expected count
	evalRankFill  = color.NRGBA{R: 30, G: 60, B: 140, A: 150}  // rank histogram bars
	evalRankLine  = color.NRGBA{R: 30, G: 60, B: 140, A: 255}  // rank histogram outlines
	evalDashes    = []vg.Length{vg.Points(4), vg.Points(3)}    // the y = x diagonal
	evalLegendPad = vg.Points(2)                               // padding between legend entries
	evalSmallFont = vg.Points(8)                               // tick and legend labels
	evalLabelFont = vg.Points(10)                              // axis labels
	evalTitleFont = font.From(plot.DefaultFont, vg.Points(13)) // figure titles
)

// RecoveryClass says how a posterior's modes relate to the truth, which decides how an
// event is marked in Recovery.
type RecoveryClass int

const (
	RecoverySingle    RecoveryClass = iota // one mode: black point at (True, Pred)
	RecoveryGlobal                         // several modes, the global one nearest the truth: black point
	RecoverySecondary                      // several modes, a secondary one nearest the truth: orange point at (True, Secondary), blue at (True, Pred)
)

// RecoveryPoint is one event in one panel of Recovery, in the units of the panel's axis.
type RecoveryPoint struct {
	True, Pred float64       // truth and the posterior's global mode (x, y); finite
	Lo68, Hi68 float64       // central 68% interval (thick error bar); NaN leaves the bar out
	Lo95, Hi95 float64       // central 95% interval (thin, light error bar); NaN leaves it out
	Class      RecoveryClass // how the event is marked
	Secondary  float64       // the secondary mode nearest the truth; finite for RecoverySecondary
}

// Recovery is the figure of Zhang et al. 2021 (AJ 161, 262): for each parameter, the
// posterior's mode against the true value of each event, with its 68% and 95% central
// intervals as error bars, so that bias, scatter and degeneracies show at a glance over the
// whole prior range.
type Recovery struct {
	Names  []string          // axis label per parameter, e.g. "log10 s"
	Lo, Hi []float64         // axis range per parameter (the prior's range), both axes
	Points [][]RecoveryPoint // per parameter, one per event
}

// WritePNG draws the figure as PNG to w: one square panel per parameter, at most four
// across, each with the true value on x and the prediction on y over [Lo, Hi] on both
// axes; vertical error bars at x = True for the 68% (thick) and 95% (thin, lighter)
// intervals, clipped to the range; the diagonal y = x dashed; and a black point at the
// global mode, except where a secondary mode is nearer the truth (RecoverySecondary): there
// an orange point at that mode and a blue one at the wrong global mode.
func (f Recovery) WritePNG(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	n := 0
	for _, pts := range f.Points {
		n = max(n, len(pts))
	}
	plots := make([]*plot.Plot, len(f.Names))
	for j := range plots {
		p, err := f.panel(j, j == 0)
		if err != nil {
			return fmt.Errorf("figure: recovery: %v", err)
		}
		plots[j] = p
	}
	return writeEvalGrid(w, fmt.Sprintf("parameter recovery: posterior mode vs truth (%d events)", n), plots)
}

func (f Recovery) validate() error {
	d := len(f.Names)
	if d == 0 {
		return errors.New("figure: recovery: Names is empty")
	}
	if len(f.Lo) != d || len(f.Hi) != d {
		return fmt.Errorf("figure: recovery: Lo and Hi have %d and %d values, want %d (one per name)", len(f.Lo), len(f.Hi), d)
	}
	if len(f.Points) != d {
		return fmt.Errorf("figure: recovery: Points has %d parameters, want %d (one per name)", len(f.Points), d)
	}
	for j := range d {
		if !evalFinite(f.Lo[j]) || !evalFinite(f.Hi[j]) || f.Lo[j] >= f.Hi[j] {
			return fmt.Errorf("figure: recovery: %s: range Lo, Hi = %g, %g is not finite and increasing", f.Names[j], f.Lo[j], f.Hi[j])
		}
		if len(f.Points[j]) == 0 {
			return fmt.Errorf("figure: recovery: Points[%d] (%s) is empty", j, f.Names[j])
		}
		for i, pt := range f.Points[j] {
			where := fmt.Sprintf("figure: recovery: Points[%d][%d] (%s)", j, i, f.Names[j])
			switch {
			case !evalFinite(pt.True):
				return fmt.Errorf("%s: True = %g is not finite", where, pt.True)
			case !evalFinite(pt.Pred):
				return fmt.Errorf("%s: Pred = %g is not finite", where, pt.Pred)
			case pt.Class < RecoverySingle || pt.Class > RecoverySecondary:
				return fmt.Errorf("%s: unknown Class %d", where, pt.Class)
			case pt.Class == RecoverySecondary && !evalFinite(pt.Secondary):
				return fmt.Errorf("%s: Secondary = %g is not finite for RecoverySecondary", where, pt.Secondary)
			case pt.Lo68 > pt.Hi68:
				return fmt.Errorf("%s: Lo68 = %g > Hi68 = %g", where, pt.Lo68, pt.Hi68)
			case pt.Lo95 > pt.Hi95:
				return fmt.Errorf("%s: Lo95 = %g > Hi95 = %g", where, pt.Lo95, pt.Hi95)
			}
		}
	}
	return nil
}

// panel builds the plot of parameter j, with the legend of the markers when legend is set.
func (f Recovery) panel(j int, legend bool) (*plot.Plot, error) {
	lo, hi := f.Lo[j], f.Hi[j]
	pts := f.Points[j]
	p := evalPlot("", "true "+f.Names[j], "predicted "+f.Names[j])
	p.Title.Text = f.Names[j]
	p.Title.TextStyle.Font.Size = evalLabelFont

	p.Add(&recoveryBars{pts: pts, lo: lo, hi: hi})
	diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Width, diag.Dashes = evalExpect, vg.Points(1), evalDashes
	p.Add(diag)

	var black, blue, orange plotter.XYs
	for _, pt := range pts {
		if pt.Class == RecoverySecondary {
			blue = append(blue, plotter.XY{X: pt.True, Y: pt.Pred})
			orange = append(orange, plotter.XY{X: pt.True, Y: pt.Secondary})
		} else {
			black = append(black, plotter.XY{X: pt.True, Y: pt.Pred})
		}
	}
	radius := vg.Points(1.6)
	if len(pts) > 200 {
		radius = vg.Points(1)
	}
	marks := []struct {
		xys   plotter.XYs
		clr   color.Color
		label string
	}{
		{black, evalPoint, "mode nearest truth is global"},
		{blue, evalWrong, "global mode (secondary nearest truth)"},
		{orange, evalSecondary, "secondary mode nearest truth"},
	}
	for _, m := range marks {
		s, err := plotter.NewScatter(m.xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: m.clr, Radius: radius, Shape: draw.CircleGlyph{}}
		p.Add(s)
		if legend { // with glyphs that stay legible however small the points are
			key := &plotter.Scatter{GlyphStyle: s.GlyphStyle}
			key.GlyphStyle.Radius = vg.Points(2.5)
			p.Legend.Add(m.label, key)
		}
	}
	// Set after Add, which widens the ranges to the data.
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min, p.Y.Max = lo, hi
	return p, nil
}

// recoveryBars draws the 95% and 68% intervals of Recovery as vertical bars at x = True,
// clipped to [lo, hi]: one plotter for all events, which keeps a panel of a thousand events
// cheap.
type recoveryBars struct {
	pts    []RecoveryPoint
	lo, hi float64
}

// Plot implements plot.Plotter.
func (b *recoveryBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	bar := func(x, y0, y1 float64, sty draw.LineStyle) {
		if math.IsNaN(y0) || math.IsNaN(y1) || x < b.lo || x > b.hi {
			return
		}
		y0, y1 = math.Max(y0, b.lo), math.Min(y1, b.hi)
		if y0 > y1 {
			return
		}
		xc := trX(x)
		c.StrokeLine2(sty, xc, trY(y0), xc, trY(y1))
	}
	thin := draw.LineStyle{Color: evalBar95, Width: vg.Points(0.6)}
	thick := draw.LineStyle{Color: evalBar68, Width: vg.Points(1.4)}
	for _, pt := range b.pts {
		bar(pt.True, pt.Lo95, pt.Hi95, thin)
	}
	for _, pt := range b.pts {
		bar(pt.True, pt.Lo68, pt.Hi68, thick)
	}
}

// Coverage is a calibration figure: for each parameter, the fraction of events whose
// central credible interval at each nominal level holds the truth. A calibrated posterior
// follows the diagonal within the binomial scatter of N events; a curve below it means
// intervals too narrow (overconfident), above it too wide.
type Coverage struct {
	Names     []string    // legend label per parameter
	Nominal   []float64   // credible levels in (0, 1), increasing
	Empirical [][]float64 // per parameter, per level: the fraction of events covered, in [0, 1]
	N         int         // events, ≥ 1
}

// WritePNG draws the figure as PNG to w: one line per parameter (with a legend), the
// diagonal dashed, and a grey band of ±2σ, σ = sqrt(p(1−p)/N), about it.
func (f Coverage) WritePNG(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	p, err := calibrationPlot(fmt.Sprintf("coverage of central credible intervals (%d events)", f.N),
		"nominal credible level", "empirical coverage", f.N)
	if err != nil {
		return fmt.Errorf("figure: coverage: %v", err)
	}
	for j, emp := range f.Empirical {
		xys := make(plotter.XYs, len(emp))
		for k, v := range emp {
			xys[k] = plotter.XY{X: f.Nominal[k], Y: v}
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("figure: coverage: %v", err)
		}
		clr := plotutil.Color(j)
		l.Color, l.Width = clr, vg.Points(1.5)
		l.Dashes = plotutil.Dashes(j / len(plotutil.DefaultColors))
		s.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
		if len(xys) > 30 {
			s.GlyphStyle.Shape = nil // a dense grid reads better as a plain line
		}
		p.Add(l, s)
		p.Legend.Add(f.Names[j], l, s)
	}
	return writeEvalSingle(w, p)
}

func (f Coverage) validate() error {
	d := len(f.Names)
	if d == 0 {
		return errors.New("figure: coverage: Names is empty")
	}
	if len(f.Nominal) == 0 {
		return errors.New("figure: coverage: Nominal is empty")
	}
	for k, v := range f.Nominal {
		if !(v > 0 && v < 1) {
			return fmt.Errorf("figure: coverage: Nominal[%d] = %g is not in (0, 1)", k, v)
		}
		if k > 0 && v <= f.Nominal[k-1] {
			return fmt.Errorf("figure: coverage: Nominal is not increasing at %d (%g after %g)", k, v, f.Nominal[k-1])
		}
	}
	if len(f.Empirical) != d {
		return fmt.Errorf("figure: coverage: Empirical has %d parameters, want %d (one per name)", len(f.Empirical), d)
	}
	for j, emp := range f.Empirical {
		if len(emp) != len(f.Nominal) {
			return fmt.Errorf("figure: coverage: Empirical[%d] (%s) has %d values, want %d (one per Nominal level)", j, f.Names[j], len(emp), len(f.Nominal))
		}
		for k, v := range emp {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("figure: coverage: Empirical[%d][%d] (%s) = %g is not in [0, 1]", j, k, f.Names[j], v)
			}
		}
	}
	if f.N < 1 {
		return fmt.Errorf("figure: coverage: N = %d events, want ≥ 1", f.N)
	}
	return nil
}

// Ranks is the figure of simulation-based calibration (Talts et al. 2018): for each
// parameter, the histogram over events of the rank of the truth among K posterior samples.
// For a calibrated posterior the ranks are uniform on 0…K; a ∪ shape means an overconfident
// posterior, ∩ an underdispersed truth (too wide a posterior), and a slope a bias.
type Ranks struct {
	Names []string // axis label per parameter
	Ranks [][]int  // per parameter, one per event, each in [0, K]
	K     int      // posterior samples per event (ranks run 0…K), ≥ 1
	Bins  int      // histogram bins, in [1, K+1]; equal bins when Bins divides K+1
}

// WritePNG draws the figure as PNG to w: one panel per parameter, at most four across, with
// the histogram of the ranks in Bins bins over [0, K+1), a horizontal line at the expected
// count N/Bins for N events, and a grey band of its 99% binomial interval
// (±2.58·sqrt(N·p·(1−p)), p = 1/Bins).
func (f Ranks) WritePNG(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	n := 0
	for _, r := range f.Ranks {
		n = max(n, len(r))
	}
	plots := make([]*plot.Plot, len(f.Names))
	for j := range plots {
		p, err := f.panel(j)
		if err != nil {
			return fmt.Errorf("figure: ranks: %v", err)
		}
		plots[j] = p
	}
	return writeEvalGrid(w, fmt.Sprintf("SBC rank histograms (%d events, %d samples, %d bins)", n, f.K, f.Bins), plots)
}

func (f Ranks) validate() error {
	d := len(f.Names)
	if d == 0 {
		return errors.New("figure: ranks: Names is empty")
	}
	if len(f.Ranks) != d {
		return fmt.Errorf("figure: ranks: Ranks has %d parameters, want %d (one per name)", len(f.Ranks), d)
	}
	if f.K < 1 {
		return fmt.Errorf("figure: ranks: K = %d samples, want ≥ 1", f.K)
	}
	if f.Bins < 1 || f.Bins > f.K+1 {
		return fmt.Errorf("figure: ranks: Bins = %d, want 1…K+1 = %d", f.Bins, f.K+1)
	}
	for j, rs := range f.Ranks {
		if len(rs) == 0 {
			return fmt.Errorf("figure: ranks: Ranks[%d] (%s) is empty", j, f.Names[j])
		}
		for i, r := range rs {
			if r < 0 || r > f.K {
				return fmt.Errorf("figure: ranks: Ranks[%d][%d] (%s) = %d is not in [0, K = %d]", j, i, f.Names[j], r, f.K)
			}
		}
	}
	return nil
}

// panel builds the histogram of parameter j.
func (f Ranks) panel(j int) (*plot.Plot, error) {
	rs := f.Ranks[j]
	nb, top := f.Bins, float64(f.K+1)
	counts := make([]float64, nb)
	for _, r := range rs {
		counts[r*nb/(f.K+1)]++
	}
	bins := make([]plotter.HistogramBin, nb)
	peak := 0.0
	for b, c := range counts {
		bins[b] = plotter.HistogramBin{Min: float64(b*(f.K+1)) / float64(nb), Max: float64((b+1)*(f.K+1)) / float64(nb), Weight: c}
		peak = math.Max(peak, c)
	}
	n := float64(len(rs))
	pb := 1 / float64(nb)
	mean := n * pb
	half := evalRankZ99 * math.Sqrt(n*pb*(1-pb))

	p := evalPlot("", "rank of "+f.Names[j], "events")
	p.Title.Text = f.Names[j]
	p.Title.TextStyle.Font.Size = evalLabelFont
	band, err := plotter.NewPolygon(plotter.XYs{
		{X: 0, Y: math.Max(0, mean-half)}, {X: top, Y: math.Max(0, mean-half)},
		{X: top, Y: mean + half}, {X: 0, Y: mean + half},
	})
	if err != nil {
		return nil, err
	}
	band.Color, band.LineStyle.Width = evalBand, 0
	h := &plotter.Histogram{Bins: bins, Width: top / float64(nb), FillColor: evalRankFill,
		LineStyle: draw.LineStyle{Color: evalRankLine, Width: vg.Points(0.5)}}
	exp, err := plotter.NewLine(plotter.XYs{{X: 0, Y: mean}, {X: top, Y: mean}})
	if err != nil {
		return nil, err
	}
	exp.Color, exp.Width = evalExpect, vg.Points(1)
	p.Add(band, h, exp)
	p.X.Min, p.X.Max = 0, top
	p.Y.Min, p.Y.Max = 0, 1.1*math.Max(math.Max(peak, mean+half), 1)
	return p, nil
}

// TARP is the figure of the TARP coverage test (Lemos et al. 2023): the expected coverage
// probability of random reference points against the credibility level. A calibrated
// posterior follows the diagonal within the binomial scatter of N events; below it the
// posterior is overconfident, above it underconfident.
type TARP struct {
	Alpha, ECP []float64 // credibility levels, increasing in [0, 1], and the coverage at each, in [0, 1]
	N          int       // events, ≥ 1
}

// WritePNG draws the figure as PNG to w: ECP against α as a line, the diagonal dashed, and
// a grey band of ±2σ, σ = sqrt(α(1−α)/N), about it.
func (f TARP) WritePNG(w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	p, err := calibrationPlot(fmt.Sprintf("TARP expected coverage (%d events)", f.N),
		"credibility level α", "expected coverage probability", f.N)
	if err != nil {
		return fmt.Errorf("figure: TARP: %v", err)
	}
	xys := make(plotter.XYs, len(f.Alpha))
	for k := range xys {
		xys[k] = plotter.XY{X: f.Alpha[k], Y: f.ECP[k]}
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("figure: TARP: %v", err)
	}
	l.Color, l.Width = pathColor, vg.Points(1.8)
	p.Add(l)
	p.Legend.Add("ECP", l)
	return writeEvalSingle(w, p)
}

func (f TARP) validate() error {
	if len(f.Alpha) == 0 {
		return errors.New("figure: TARP: Alpha is empty")
	}
	if len(f.ECP) != len(f.Alpha) {
		return fmt.Errorf("figure: TARP: ECP has %d values, want %d (one per Alpha)", len(f.ECP), len(f.Alpha))
	}
	for k, a := range f.Alpha {
		if !(a >= 0 && a <= 1) {
			return fmt.Errorf("figure: TARP: Alpha[%d] = %g is not in [0, 1]", k, a)
		}
		if k > 0 && a <= f.Alpha[k-1] {
			return fmt.Errorf("figure: TARP: Alpha is not increasing at %d (%g after %g)", k, a, f.Alpha[k-1])
		}
		if e := f.ECP[k]; !(e >= 0 && e <= 1) {
			return fmt.Errorf("figure: TARP: ECP[%d] = %g is not in [0, 1]", k, e)
		}
	}
	if f.N < 1 {
		return fmt.Errorf("figure: TARP: N = %d events, want ≥ 1", f.N)
	}
	return nil
}

// evalPlot returns an empty plot with the fonts of the evaluation figures.
func evalPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = evalTitleFont
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.X.Label.TextStyle.Font.Size = evalLabelFont
	p.Y.Label.TextStyle.Font.Size = evalLabelFont
	p.X.Tick.Label.Font.Size = evalSmallFont
	p.Y.Tick.Label.Font.Size = evalSmallFont
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = evalSmallFont
	p.Legend.Padding = evalLegendPad
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(4), -vg.Points(4)
	return p
}

// calibrationPlot returns the frame of Coverage and TARP: both axes over [0, 1], a grey band
// of ±2σ binomial scatter about the diagonal for n events, and the diagonal dashed.
func calibrationPlot(title, xlabel, ylabel string, n int) (*plot.Plot, error) {
	p := evalPlot(title, xlabel, ylabel)
	p.Add(plotter.NewGrid())
	upper := make(plotter.XYs, 0, 2*evalBandSteps+2)
	var lower plotter.XYs
	for k := 0; k <= evalBandSteps; k++ {
		x := float64(k) / evalBandSteps
		s := evalBandSigma * math.Sqrt(x*(1-x)/float64(n))
		upper = append(upper, plotter.XY{X: x, Y: math.Min(1, x+s)})
		lower = append(lower, plotter.XY{X: x, Y: math.Max(0, x-s)})
	}
	for k := len(lower) - 1; k >= 0; k-- {
		upper = append(upper, lower[k])
	}
	band, err := plotter.NewPolygon(upper)
	if err != nil {
		return nil, err
	}
	band.Color, band.LineStyle.Width = evalBand, 0
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Width, diag.Dashes = evalExpect, vg.Points(1), evalDashes
	p.Add(band, diag)
	p.Legend.Add(fmt.Sprintf("±%g σ binomial, N = %d", evalBandSigma, n), band)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	return p, nil
}

// writeEvalSingle draws the single-panel figure p at evalWidth × evalHeight as PNG.
func writeEvalSingle(w io.Writer, p *plot.Plot) error {
	img, dc := newCanvas(evalWidth, evalHeight)
	p.Draw(dc)
	return writePNG(w, img)
}

// evalGridSize returns the columns and rows of the grid of d panels.
func evalGridSize(d int) (cols, rows int) {
	cols = min(d, evalCols)
	return cols, (d + cols - 1) / cols
}

// writeEvalGrid draws the panels in rows of at most evalCols under the title and writes the
// PNG.
func writeEvalGrid(w io.Writer, title string, panels []*plot.Plot) error {
	cols, rows := evalGridSize(len(panels))
	img, dc := newCanvas(vg.Length(cols)*evalPanel, vg.Length(rows)*evalPanel+evalTitleHeight)
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for j, p := range panels {
		grid[j/cols][j%cols] = p
	}
	body := draw.Crop(dc, 0, 0, 0, -evalTitleHeight)
	cells := plot.Align(grid, draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(10),
		PadTop: vg.Points(4), PadRight: vg.Points(10), PadLeft: vg.Points(4), PadBottom: vg.Points(4)}, body)
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(cells[r][c])
			}
		}
	}
	sty := draw.TextStyle{Color: color.Black, Font: evalTitleFont, Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - evalTitleHeight/2}, title)
	return writePNG(w, img)
}

// evalFinite reports whether x is neither NaN nor infinite.
func evalFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
