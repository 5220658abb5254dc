package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/mlcu/mlcu/internal/atomicfile"
)

// logRow is one row of the training log.
type logRow struct {
	epoch, step         int
	train, val, lr, eps float64
	prior               float64
	diag                valStats // the validation diagnostics
}

// logHeader are the log's columns; a log of an earlier version (the first seven) is read
// with the diagnostics NaN.
var logHeader = []string{"epoch", "step", "train_nll", "val_nll", "lr", "examples_per_s", "prior_val_nll",
	"val_median_nll", "val_p99_nll", "val_max_nll", "val_nll_batchstats"}

// writeLog writes the CSV log atomically.
func writeLog(path string, rows []logRow) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(logHeader)
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
		for _, r := range rows {
			cw.Write([]string{strconv.Itoa(r.epoch), strconv.Itoa(r.step), f(r.train), f(r.val), f(r.lr), f(r.eps), f(r.prior),
				f(r.diag.Median), f(r.diag.P99), f(r.diag.Max), f(r.diag.BatchStats)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// readLog reads a log written by writeLog.
func readLog(path string) ([]logRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var rows []logRow
	for i, rec := range recs {
		if i == 0 || (len(rec) != len(logHeader) && len(rec) != 7) {
			continue
		}
		var r logRow
		var e [11]error
		r.epoch, e[0] = strconv.Atoi(rec[0])
		r.step, e[1] = strconv.Atoi(rec[1])
		r.train, e[2] = strconv.ParseFloat(rec[2], 64)
		r.val, e[3] = strconv.ParseFloat(rec[3], 64)
		r.lr, e[4] = strconv.ParseFloat(rec[4], 64)
		r.eps, e[5] = strconv.ParseFloat(rec[5], 64)
		r.prior, e[6] = strconv.ParseFloat(rec[6], 64)
		r.diag.Median, r.diag.P99, r.diag.Max, r.diag.BatchStats = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if len(rec) == len(logHeader) {
			r.diag.Median, e[7] = strconv.ParseFloat(rec[7], 64)
			r.diag.P99, e[8] = strconv.ParseFloat(rec[8], 64)
			r.diag.Max, e[9] = strconv.ParseFloat(rec[9], 64)
			r.diag.BatchStats, e[10] = strconv.ParseFloat(rec[10], 64)
		}
		for _, x := range e {
			if x != nil {
				return nil, fmt.Errorf("%s: line %d: %v", path, i+1, x)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// writeLossPNG draws the training and validation NLL against the step, with the prior's
// validation NLL as a dashed line.
func writeLossPNG(path string, rows []logRow) error {
	if len(rows) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "mlcu train: NLL of standardised θ"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "NLL (nats)"
	tr, va, pr := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows)), make(plotter.XYs, 2)
	for i, r := range rows {
		tr[i] = plotter.XY{X: float64(r.step), Y: r.train}
		va[i] = plotter.XY{X: float64(r.step), Y: r.val}
	}
	pr[0] = plotter.XY{X: 0, Y: rows[0].prior}
	pr[1] = plotter.XY{X: float64(rows[len(rows)-1].step), Y: rows[0].prior}
	lt, gt, err := plotter.NewLinePoints(tr)
	if err != nil {
		return err
	}
	lt.Color, gt.Color = color.RGBA{B: 200, A: 255}, color.RGBA{B: 200, A: 255}
	lv, gv, err := plotter.NewLinePoints(va)
	if err != nil {
		return err
	}
	lv.Color, gv.Color = color.RGBA{R: 200, A: 255}, color.RGBA{R: 200, A: 255}
	lp, err := plotter.NewLine(pr)
	if err != nil {
		return err
	}
	lp.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(lt, gt, lv, gv, lp, plotter.NewGrid())
	p.Legend.Add("train", lt)
	p.Legend.Add("validation", lv)
	p.Legend.Add("prior (validation)", lp)
	p.Legend.Top = true
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error { _, err := wt.WriteTo(w); return err })
}
