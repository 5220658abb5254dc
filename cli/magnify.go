package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"sync/atomic"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/lens"
)

var magnifyCommand = &ucli.Command{
	Name:      "magnify",
	Usage:     "compute binary-lens magnifications for a CSV table of source positions",
	ArgsUsage: " ",
	Description: `Reads a CSV file whose header names the columns s, q, y1, y2 and optionally rho
(any order; other columns are kept; lines starting with # are comments) and writes the same
rows with a column A appended: the point-source magnification where rho is missing, empty
or 0, else the uniform finite-source magnification of a disk of radius rho with relative
accuracy goal --tol. Positions are in Einstein radii of the total mass, origin at the centre
of mass, the heavier lens (for q <= 1) on the left at y1 = -s q/(1+q).

A is written with the shortest representation that reads back as the same double (at most
17 significant digits). Rows are computed in parallel; the output keeps the input order.

Example:
   mlcu magnify --in points.csv --out mags.csv`,
	Flags: []ucli.Flag{
		&ucli.StringFlag{Name: "in", Aliases: []string{"i"}, Usage: "input CSV `FILE` (columns s,q,y1,y2[,rho]) (required)", Required: true, TakesFile: true, EnvVars: []string{"MLCU_MAGNIFY_IN"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output CSV `FILE` (default: standard output)", TakesFile: true, EnvVars: []string{"MLCU_MAGNIFY_OUT"}},
		tolFlag(),
		workersFlag(),
	},
	Action: runMagnify,
}

func runMagnify(c *ucli.Context) error {
	const cmd = "magnify"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	in, out, tol, workers := c.String("in"), c.String("out"), c.Float64("tol"), c.Int("workers")
	if err := checkTol(cmd, tol); err != nil {
		return err
	}
	if err := checkWorkers(cmd, workers); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return fail(cmd, "cannot read --in: %v", err)
	}
	pts, err := ReadPoints(f, in)
	f.Close()
	if err != nil {
		return fail(cmd, "%v", err)
	}
	for _, col := range pts.Header {
		if col == "A" {
			return fail(cmd, "%s: line %d: the input already has a column named A; rename it", in, pts.HeaderLine)
		}
	}
	mags, err := Magnify(pts, tol, workers)
	if err != nil {
		var re *RowError
		if errors.As(err, &re) {
			return fail(cmd, "%s: line %d: %s", in, pts.Lines[re.Row], re.Msg)
		}
		return fail(cmd, "%s: %v", in, err)
	}
	write := func(w io.Writer) error { return writeMagnified(w, pts, mags) }
	if out == "" {
		if err := write(c.App.Writer); err != nil {
			return fail(cmd, "writing standard output: %v", err)
		}
		return nil
	}
	return writeFile(cmd, out, write)
}

// magnifyChunk is the number of rows a worker takes at a time.
const magnifyChunk = 64

// RowError reports the row of a Points table whose magnification could not be computed.
type RowError struct {
	Row int    // index into the table's rows
	Msg string // what went wrong
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Msg) }

// Magnify returns the magnification of every point of pts: PointMag where Rho is 0, else
// FiniteMag with relative accuracy goal tol. It uses up to workers goroutines; the result is
// in row order and does not depend on workers. A magnification that is not a positive finite
// number, or a panic of the lens solver, is reported as a *RowError for the first such row.
func Magnify(pts *Points, tol float64, workers int) ([]float64, error) {
	n := len(pts.S)
	mags := make([]float64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first *RowError
	report := func(row int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil || row < first.Row {
			first = &RowError{Row: row, Msg: msg}
		}
	}
	for range max(1, min(workers, (n+magnifyChunk-1)/magnifyChunk)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(magnifyChunk)) - magnifyChunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+magnifyChunk, n); i++ {
					a, err := magnifyOne(pts.S[i], pts.Q[i], pts.Y1[i], pts.Y2[i], pts.Rho[i], tol)
					if err != nil {
						report(i, err.Error())
					}
					mags[i] = a
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return mags, nil
}

// magnifyOne computes one magnification, turning a panic of the lens solver or a result
// that is not a positive finite number into an error.
func magnifyOne(s, q, y1, y2, rho, tol float64) (a float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the lens solver failed (%v) for s=%v q=%v y1=%v y2=%v rho=%v", r, s, q, y1, y2, rho)
		}
	}()
	b := lens.NewBinary(s, q)
	if rho == 0 {
		a = b.PointMag(y1, y2)
	} else {
		a = b.FiniteMag(y1, y2, rho, tol)
	}
	if !(a > 0) || math.IsInf(a, 0) {
		return a, fmt.Errorf("the lens solver returned A = %v for s=%v q=%v y1=%v y2=%v rho=%v, outside the range it handles", a, s, q, y1, y2, rho)
	}
	return a, nil
}

// writeMagnified writes the rows of pts with the column A appended.
func writeMagnified(w io.Writer, pts *Points, mags []float64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string(nil), pts.Header...), "A")); err != nil {
		return err
	}
	for i, rec := range pts.Rows {
		if err := cw.Write(append(append(make([]string, 0, len(rec)+1), rec...), formatFloat(mags[i]))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
