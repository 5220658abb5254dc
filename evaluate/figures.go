package evaluate

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/mlcu/mlcu/internal/atomicfile"
	"github.com/mlcu/mlcu/internal/figure"
)

// Figures are the PNG files of the report: Zhang et al. (2021)'s predicted-vs-true figure,
// the coverage curves, the SBC rank histograms and the TARP curve.
var Figures = []string{"recovery.png", "coverage.png", "ranks.png", "tarp.png"}

// Labels are the axis labels of the model's coordinates, by parameter name.
var Labels = map[string]string{
	"s": "log10 s", "q": "log10 q", "alpha": "α [rad]", "u0": "u0", "t0": "t0 [d]",
	"tE": "log10 tE [d]", "rho": "log10 ρ", "fs": "log10 fs",
}

func (r *Results) writeFigures(dir string) error {
	var labels []string
	for _, n := range r.Names {
		labels = append(labels, Labels[n])
	}
	rec := figure.Recovery{Names: labels}
	for j := range r.Names {
		lo, hi := 0.0, 0.0
		var pts []figure.RecoveryPoint
		for k, e := range r.Events {
			p := e.Params[j]
			pt := figure.RecoveryPoint{True: p.Truth, Pred: p.Mode, Lo68: p.Lo68, Hi68: p.Hi68, Lo95: p.Lo95, Hi95: p.Hi95, Class: figure.RecoverySingle}
			switch {
			case p.Modes > 1 && p.Correct():
				pt.Class = figure.RecoveryGlobal
			case p.Modes > 1:
				pt.Class, pt.Secondary = figure.RecoverySecondary, p.Nearest
			}
			pts = append(pts, pt)
			if k == 0 || p.Truth < lo {
				lo = p.Truth
			}
			if k == 0 || p.Truth > hi {
				hi = p.Truth
			}
			lo, hi = min(lo, p.Lo95), max(hi, p.Hi95)
		}
		rec.Lo, rec.Hi, rec.Points = append(rec.Lo, lo), append(rec.Hi, hi), append(rec.Points, pts)
	}
	cov := figure.Coverage{Names: labels, Nominal: Levels, Empirical: r.Coverage(), N: len(r.Events)}
	ranks := figure.Ranks{Names: labels, K: r.Samples, Bins: RankBins}
	for j := range r.Names {
		var rk []int
		for _, e := range r.Events {
			rk = append(rk, e.Params[j].Rank)
		}
		ranks.Ranks = append(ranks.Ranks, rk)
	}
	scores, _, _ := r.TARP()
	alphas := TARPAlphas()
	tarp := figure.TARP{Alpha: alphas, ECP: ECP(scores, alphas), N: len(r.Events)}
	for i, write := range []func(io.Writer) error{rec.WritePNG, cov.WritePNG, ranks.WritePNG, tarp.WritePNG} {
		if err := atomicfile.WriteFile(filepath.Join(dir, Figures[i]), 0o644, write); err != nil {
			return fmt.Errorf("%s: %v", Figures[i], err)
		}
	}
	return nil
}
