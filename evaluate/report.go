package evaluate

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/atomicfile"
)

// Results are an evaluation's per-event results.
type Results struct {
	Names   []string // free parameters, in the model's order
	Events  []EventResult
	Samples int           // posterior samples per event (SBC ranks run 0…Samples)
	Elapsed time.Duration // time spent evaluating in this run (not resumed events)
}

// SummaryHeader is the header of SummaryFile.
const SummaryHeader = "parameter,constrained,correct,coverage68,coverage95,width68"

// RankBins is the number of bins of the SBC rank histograms and their χ² test.
const RankBins = 20

// Summary is one parameter's row of SummaryFile.
type Summary struct {
	Parameter   string
	Constrained float64 // share of events whose posterior is constrained (Zhang et al. 2021)
	Correct     float64 // among the constrained, the share whose truth is nearest the global mode; NaN when none is constrained
	Coverage68  float64 // share of events whose central 68% interval holds the truth
	Coverage95  float64
	Width68     float64 // median width of the central 68% interval, in the model's coordinate
	RankP       float64 // p-value of the SBC ranks' χ² test of uniformity
}

// Summaries returns a row per parameter.
func (r *Results) Summaries() []Summary {
	l68, l95 := levelIndex(0.68), levelIndex(0.95)
	var out []Summary
	for j, name := range r.Names {
		s := Summary{Parameter: name}
		var widths []float64
		var ranks []int
		nc, ncorr := 0, 0
		for _, e := range r.Events {
			p := e.Params[j]
			if p.Constrained() {
				nc++
				if p.Correct() {
					ncorr++
				}
			}
			if p.Covered[l68] {
				s.Coverage68++
			}
			if p.Covered[l95] {
				s.Coverage95++
			}
			widths = append(widths, p.Hi68-p.Lo68)
			ranks = append(ranks, p.Rank)
		}
		n := float64(len(r.Events))
		s.Constrained, s.Coverage68, s.Coverage95 = float64(nc)/n, s.Coverage68/n, s.Coverage95/n
		s.Correct = math.NaN()
		if nc > 0 {
			s.Correct = float64(ncorr) / float64(nc)
		}
		sort.Float64s(widths)
		s.Width68 = infer.Quantile(widths, 0.5)
		_, s.RankP = RankChi2(ranks, r.Samples, RankBins)
		out = append(out, s)
	}
	return out
}

// Coverage returns, per parameter and per Levels, the share of events whose central
// interval holds the truth.
func (r *Results) Coverage() [][]float64 {
	out := make([][]float64, len(r.Names))
	for j := range r.Names {
		counts := make([]int, len(Levels))
		for _, e := range r.Events {
			for l, c := range e.Params[j].Covered {
				if c {
					counts[l]++
				}
			}
		}
		out[j] = make([]float64, len(Levels))
		for l, k := range counts {
			out[j][l] = float64(k) / float64(len(r.Events))
		}
	}
	return out
}

// TARPAlphas are the credibility levels of the TARP curve.
func TARPAlphas() []float64 {
	a := make([]float64, 51)
	for i := range a {
		a[i] = float64(i) / 50
	}
	return a
}

// TARP returns the events' TARP scores, the KS distance of their distribution from the
// uniform and its p-value.
func (r *Results) TARP() (scores []float64, dist, p float64) {
	for _, e := range r.Events {
		scores = append(scores, e.TARP)
	}
	dist, p = KSUniform(scores)
	return scores, dist, p
}

func levelIndex(p float64) int {
	for i, l := range Levels {
		if l == p {
			return i
		}
	}
	panic(fmt.Sprintf("evaluate: no level %v", p))
}

// CoverageTolerance is the goal: the coverage of the 68% and 95% intervals within ±3% of
// nominal. The report marks parameters outside it.
const CoverageTolerance = 0.03

// Header is the head of the report: what was evaluated.
type Header struct {
	Model, Data string
	Seed        uint64
	Command     string // the command line, for the record
}

// WriteReport writes SummaryFile, CoverageFile, ReportFile and the Figures into dir.
func (r *Results) WriteReport(dir string, h Header) error {
	sums := r.Summaries()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	var sb strings.Builder
	sb.WriteString(SummaryHeader + "\n")
	for _, s := range sums {
		corr := "nan"
		if !math.IsNaN(s.Correct) {
			corr = f(s.Correct)
		}
		fmt.Fprintf(&sb, "%s,%s,%s,%s,%s,%s\n", s.Parameter, f(s.Constrained), corr, f(s.Coverage68), f(s.Coverage95), f(s.Width68))
	}
	if err := writeBytes(filepath.Join(dir, SummaryFile), []byte(sb.String())); err != nil {
		return err
	}
	cov := r.Coverage()
	sb.Reset()
	sb.WriteString("parameter,nominal,empirical\n")
	for j, name := range r.Names {
		for l, p := range Levels {
			fmt.Fprintf(&sb, "%s,%s,%s\n", name, f(p), f(cov[j][l]))
		}
	}
	if err := writeBytes(filepath.Join(dir, CoverageFile), []byte(sb.String())); err != nil {
		return err
	}
	if err := r.writeFigures(dir); err != nil {
		return err
	}
	return writeBytes(filepath.Join(dir, ReportFile), []byte(r.markdown(h, sums, cov)))
}

// markdown is the report's text.
func (r *Results) markdown(h Header, sums []Summary, cov [][]float64) string {
	var sb strings.Builder
	n := len(r.Events)
	acc := 0.0
	for _, e := range r.Events {
		acc += e.Accepted / float64(n)
	}
	fmt.Fprintf(&sb, "# Evaluation of %s\n\n", h.Model)
	fmt.Fprintf(&sb, "- test data: `%s`, %d events, noise seed %d\n", h.Data, n, h.Seed)
	fmt.Fprintf(&sb, "- %d posterior samples per event; %.1f%% of the flow's draws inside the prior's support (the rest rejected)\n", r.Samples, 100*acc)
	if h.Command != "" {
		fmt.Fprintf(&sb, "- command: `%s`\n", h.Command)
	}
	sb.WriteString("\nCoordinates: log10 s, log10 q, α [rad], u0, t0 [d], log10 tE [d], log10 ρ. Constrained / correct: Zhang et al. (2021) — the peak of the 1-D marginal (Gaussian KDE, Silverman bandwidth, modes ≥ 25% of the highest peak) at least twice the prior's density; correct = the truth nearest the global mode, among the constrained.\n\n")
	sb.WriteString("| parameter | constrained | correct | coverage 68% | coverage 95% | width 68% | SBC χ² p |\n|---|---|---|---|---|---|---|\n")
	se68, se95 := math.Sqrt(0.68*0.32/float64(n)), math.Sqrt(0.95*0.05/float64(n))
	for _, s := range sums {
		mark := func(v, nominal float64) string {
			if math.Abs(v-nominal) > CoverageTolerance {
				return fmt.Sprintf("**%.3f**", v)
			}
			return fmt.Sprintf("%.3f", v)
		}
		corr := "–"
		if !math.IsNaN(s.Correct) {
			corr = fmt.Sprintf("%.3f", s.Correct)
		}
		fmt.Fprintf(&sb, "| %s | %.3f | %s | %s | %s | %.3f | %.2g |\n", s.Parameter, s.Constrained, corr, mark(s.Coverage68, 0.68), mark(s.Coverage95, 0.95), s.Width68, s.RankP)
	}
	fmt.Fprintf(&sb, "\nBold: outside ±%.0f%% of nominal (the goal). Binomial standard error of a calibrated estimator at N = %d: ±%.3f (68%%), ±%.3f (95%%).\n", 100*CoverageTolerance, n, se68, se95)
	_, dist, p := r.TARP()
	verdict := "p ≥ 0.01: no evidence of joint miscalibration at this N"
	if p < 0.01 {
		verdict = "p < 0.01: the joint posterior is miscalibrated"
	}
	fmt.Fprintf(&sb, "\nJoint calibration (TARP, Lemos et al. 2023): KS distance of the scores from uniform %.3f, p = %.2g (%s).\n", dist, p, verdict)
	sb.WriteString("\n## Coverage of central intervals\n\n| nominal |")
	for _, name := range r.Names {
		fmt.Fprintf(&sb, " %s |", name)
	}
	sb.WriteString("\n|---|" + strings.Repeat("---|", len(r.Names)) + "\n")
	for l, lv := range Levels {
		fmt.Fprintf(&sb, "| %.2f |", lv)
		for j := range r.Names {
			fmt.Fprintf(&sb, " %.3f |", cov[j][l])
		}
		sb.WriteString("\n")
	}
	sb.WriteString("\n## Figures\n\n")
	for _, fig := range Figures {
		fmt.Fprintf(&sb, "![%s](%s)\n\n", strings.TrimSuffix(fig, ".png"), fig)
	}
	return sb.String()
}

// writeBytes writes b to path through a temporary file (atomicfile): a reader never sees a
// half-written file.
func writeBytes(path string, b []byte) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
