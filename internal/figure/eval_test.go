package figure

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
)

// evalPNG checks that write produces a PNG of the given size in inches and, when
// MLCU_FIGURE_DIR is set, keeps it there as name for a look.
func evalPNG(t *testing.T, name string, write func(*bytes.Buffer) error, wIn, hIn float64) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, write(&buf))
	w, h := decodePNG(t, buf.Bytes())
	require.Equal(t, int(math.Round(wIn*DPI)), w, "width in px")
	require.Equal(t, int(math.Round(hIn*DPI)), h, "height in px")
	if dir := os.Getenv("MLCU_FIGURE_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644))
	}
}

// recoveryData returns a Recovery of n events for d parameters on [0, 1], with every class
// of point and some intervals that run past the range.
func recoveryData(n, d int) Recovery {
	src := rng.New(11, 0)
	f := Recovery{}
	for j := range d {
		f.Names = append(f.Names, []string{"log10 s", "log10 q", "u0", "alpha", "log10 rho"}[j%5])
		f.Lo, f.Hi = append(f.Lo, 0), append(f.Hi, 1)
		pts := make([]RecoveryPoint, n)
		for i := range pts {
			tr := src.Uniform()
			sd := 0.02 + 0.1*src.Uniform()
			pred := math.Min(1, math.Max(0, tr+sd*src.Normal()))
			pt := RecoveryPoint{True: tr, Pred: pred,
				Lo68: pred - sd, Hi68: pred + sd, Lo95: pred - 2*sd, Hi95: pred + 2*sd}
			switch i % 5 {
			case 1:
				pt.Class = RecoveryGlobal
			case 2:
				pt.Class = RecoverySecondary
				pt.Secondary = tr + 0.01
				pt.Pred = 1 - tr
			case 3:
				pt.Lo95, pt.Hi95 = math.NaN(), math.NaN() // no 95% bar
			}
			pts[i] = pt
		}
		f.Points = append(f.Points, pts)
	}
	return f
}

func TestRecoveryFigure(t *testing.T) {
	for _, d := range []int{3, 5} {
		f := recoveryData(50, d)
		cols, rows := evalGridSize(d)
		evalPNG(t, fmt.Sprintf("recovery%d.png", d), func(b *bytes.Buffer) error { return f.WritePNG(b) },
			4*float64(cols), 4*float64(rows)+0.4)
	}
}

func TestRecoveryValidate(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*Recovery)
	}{
		{"Names", func(f *Recovery) { *f = Recovery{} }},
		{"Lo", func(f *Recovery) { f.Lo = f.Lo[:2] }},
		{"Hi", func(f *Recovery) { f.Hi = append(f.Hi, 1) }},
		{"Points", func(f *Recovery) { f.Points = f.Points[:1] }},
		{"Points[1]", func(f *Recovery) { f.Points[1] = nil }},
		{"range", func(f *Recovery) { f.Lo[0] = 1 }},
		{"range", func(f *Recovery) { f.Hi[2] = math.Inf(1) }},
		{"True", func(f *Recovery) { f.Points[0][4].True = math.NaN() }},
		{"Pred", func(f *Recovery) { f.Points[2][0].Pred = math.Inf(-1) }},
		{"Secondary", func(f *Recovery) { f.Points[1][2].Secondary = math.NaN() }},
		{"Class", func(f *Recovery) { f.Points[1][0].Class = 7 }},
		{"Lo68", func(f *Recovery) { f.Points[0][0].Lo68, f.Points[0][0].Hi68 = 0.6, 0.5 }},
		{"Lo95", func(f *Recovery) { f.Points[0][0].Lo95, f.Points[0][0].Hi95 = 0.6, 0.5 }},
	}
	for _, c := range cases {
		f := recoveryData(5, 3)
		c.edit(&f)
		require.ErrorContains(t, f.validate(), c.field)
		require.ErrorContains(t, f.WritePNG(new(bytes.Buffer)), c.field)
	}
	require.NoError(t, recoveryData(5, 3).validate())
}

func coverageData() Coverage {
	nom := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95}
	f := Coverage{Names: []string{"log10 s", "log10 q", "u0"}, Nominal: nom, N: 50}
	for j := range f.Names {
		emp := make([]float64, len(nom))
		for k, p := range nom {
			emp[k] = math.Min(1, math.Max(0, p+0.05*float64(j-1)))
		}
		f.Empirical = append(f.Empirical, emp)
	}
	return f
}

func TestCoverageFigure(t *testing.T) {
	f := coverageData()
	evalPNG(t, "coverage.png", func(b *bytes.Buffer) error { return f.WritePNG(b) }, 6, 5)
}

func TestCoverageValidate(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*Coverage)
	}{
		{"Names", func(f *Coverage) { f.Names = nil }},
		{"Nominal", func(f *Coverage) { f.Nominal = nil }},
		{"Nominal[0]", func(f *Coverage) { f.Nominal[0] = 0 }},
		{"Nominal[9]", func(f *Coverage) { f.Nominal[9] = math.NaN() }},
		{"Nominal", func(f *Coverage) { f.Nominal[3] = 0.1 }},
		{"Empirical", func(f *Coverage) { f.Empirical = f.Empirical[:2] }},
		{"Empirical[1]", func(f *Coverage) { f.Empirical[1] = f.Empirical[1][:4] }},
		{"Empirical[2][3]", func(f *Coverage) { f.Empirical[2][3] = math.NaN() }},
		{"Empirical[0][0]", func(f *Coverage) { f.Empirical[0][0] = 1.2 }},
		{"N", func(f *Coverage) { f.N = 0 }},
	}
	for _, c := range cases {
		f := coverageData()
		c.edit(&f)
		require.ErrorContains(t, f.validate(), c.field)
		require.ErrorContains(t, f.WritePNG(new(bytes.Buffer)), c.field)
	}
	require.NoError(t, coverageData().validate())
}

func ranksData(n, k int) Ranks {
	src := rng.New(3, 0)
	f := Ranks{Names: []string{"log10 s", "log10 q", "u0"}, K: k, Bins: 10}
	for range f.Names {
		rs := make([]int, n)
		for i := range rs {
			rs[i] = src.IntN(k + 1)
		}
		f.Ranks = append(f.Ranks, rs)
	}
	return f
}

func TestRanksFigure(t *testing.T) {
	f := ranksData(50, 99)
	evalPNG(t, "ranks.png", func(b *bytes.Buffer) error { return f.WritePNG(b) }, 12, 4.4)

	// Every rank lands in a bin, the extremes included, and K+1 bins of one rank each work.
	for _, bins := range []int{1, 7, 100} {
		f.Bins = bins
		f.Ranks[0][0], f.Ranks[0][1] = 0, f.K
		require.NoError(t, f.WritePNG(new(bytes.Buffer)), "Bins = %d", bins)
	}
}

func TestRanksValidate(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*Ranks)
	}{
		{"Names", func(f *Ranks) { f.Names = nil }},
		{"Ranks", func(f *Ranks) { f.Ranks = f.Ranks[:2] }},
		{"Ranks[1]", func(f *Ranks) { f.Ranks[1] = nil }},
		{"Ranks[2][5]", func(f *Ranks) { f.Ranks[2][5] = f.K + 1 }},
		{"Ranks[0][0]", func(f *Ranks) { f.Ranks[0][0] = -1 }},
		{"K", func(f *Ranks) { f.K = 0 }},
		{"Bins", func(f *Ranks) { f.Bins = 0 }},
		{"Bins", func(f *Ranks) { f.Bins = f.K + 2 }},
	}
	for _, c := range cases {
		f := ranksData(20, 19)
		c.edit(&f)
		require.ErrorContains(t, f.validate(), c.field)
		require.ErrorContains(t, f.WritePNG(new(bytes.Buffer)), c.field)
	}
	require.NoError(t, ranksData(20, 19).validate())
}

func tarpData() TARP {
	f := TARP{N: 50}
	for k := 0; k <= 20; k++ {
		a := float64(k) / 20
		f.Alpha = append(f.Alpha, a)
		f.ECP = append(f.ECP, math.Pow(a, 1.2))
	}
	return f
}

func TestTARPFigure(t *testing.T) {
	f := tarpData()
	evalPNG(t, "tarp.png", func(b *bytes.Buffer) error { return f.WritePNG(b) }, 6, 5)
}

func TestTARPValidate(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*TARP)
	}{
		{"Alpha", func(f *TARP) { f.Alpha, f.ECP = nil, nil }},
		{"ECP", func(f *TARP) { f.ECP = f.ECP[:3] }},
		{"Alpha[4]", func(f *TARP) { f.Alpha[4] = math.NaN() }},
		{"Alpha[20]", func(f *TARP) { f.Alpha[20] = 1.5 }},
		{"Alpha", func(f *TARP) { f.Alpha[5] = f.Alpha[4] }},
		{"ECP[2]", func(f *TARP) { f.ECP[2] = math.NaN() }},
		{"ECP[3]", func(f *TARP) { f.ECP[3] = -0.1 }},
		{"N", func(f *TARP) { f.N = 0 }},
	}
	for _, c := range cases {
		f := tarpData()
		c.edit(&f)
		require.ErrorContains(t, f.validate(), c.field)
		require.ErrorContains(t, f.WritePNG(new(bytes.Buffer)), c.field)
	}
	require.NoError(t, tarpData().validate())
}
