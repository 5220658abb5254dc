package figure

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/mlcu/mlcu/internal/rng"
)

// cornerData returns n correlated Gaussian samples of d parameters.
func cornerData(n, d int) [][]float64 {
	src := rng.New(7, 0)
	rows := make([][]float64, n)
	for k := range rows {
		rows[k] = make([]float64, d)
		z := src.Normal()
		for j := range rows[k] {
			rows[k][j] = float64(j) + 0.5*z + 0.3*src.Normal()
		}
	}
	return rows
}

func TestCornerFigure(t *testing.T) {
	const d = 3
	names := []string{"log10 s", "α (rad)", "log10 tE (tE in d)"}
	f := Corner{Names: names, Samples: cornerData(500, d), Truth: []float64{0.1, math.NaN(), 2.2}, Title: "test event"}
	f.Samples[3][1] = math.NaN() // left out
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	px := func(l vg.Length) int { return int(math.Round(float64(l/vg.Inch) * DPI)) }
	wantW, wantH := px(d*CornerPanel), px(d*CornerPanel+CornerTitleHeight)
	if w, h := decodePNG(t, buf.Bytes()); w != wantW || h != wantH {
		t.Errorf("figure is %d×%d px, want %d×%d", w, h, wantW, wantH)
	}

	// No truth, one parameter, one sample, constant values: still a figure.
	for _, g := range []Corner{
		{Names: names[:1], Samples: [][]float64{{1}}},
		{Names: names[:2], Samples: [][]float64{{1, 2}, {1, 2}}, Truth: []float64{math.NaN(), math.NaN()}},
	} {
		buf.Reset()
		if err := g.Write(&buf); err != nil {
			t.Fatalf("%d parameters: %v", len(g.Names), err)
		}
		decodePNG(t, buf.Bytes())
	}

	for _, bad := range []Corner{
		{Samples: [][]float64{{}}},
		{Names: names, Samples: nil},
		{Names: names, Samples: [][]float64{{1, 2}}},
		{Names: names, Samples: cornerData(4, d), Truth: []float64{1}},
	} {
		if err := bad.Write(&buf); err == nil {
			t.Errorf("%d names, %d samples, %d truths: accepted", len(bad.Names), len(bad.Samples), len(bad.Truth))
		}
	}

	// WriteFile: SVG by extension.
	dir := t.TempDir()
	svg := filepath.Join(dir, "c.SVG")
	if err := f.WriteFile(svg); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b[:min(len(b), 512)]), "<svg") {
		t.Errorf("%s is not SVG (%v)", svg, err)
	}
	if err := (Corner{}).WriteFile(filepath.Join(dir, "bad.png")); err == nil {
		t.Error("WriteFile with no parameters accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.png")); err == nil {
		t.Error("WriteFile left a file after an error")
	}
}
