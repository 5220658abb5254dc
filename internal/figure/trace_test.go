package figure

import (
	"bytes"
	"math"
	"testing"
)

func TestTraceFigure(t *testing.T) {
	const W, T, D = 4, 300, 2
	chains := make([][]float64, W)
	for w := range chains {
		chains[w] = make([]float64, T*D)
		for s := range T {
			chains[w][s*D] = math.Sin(float64(s+w)) / float64(1+s)
			chains[w][s*D+1] = float64(w) + 0.01*float64(s)
		}
	}
	var buf bytes.Buffer
	if err := (Trace{Names: []string{"a", "b"}, Chains: chains, Burn: 100, Title: "trace"}).WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if w, h := decodePNG(t, buf.Bytes()); w <= 0 || h <= 0 {
		t.Errorf("figure is %d×%d px", w, h)
	}
	chains[1] = chains[1][:10]
	if err := (Trace{Names: []string{"a", "b"}, Chains: chains}).WritePNG(&buf); err == nil {
		t.Error("walkers of different lengths accepted")
	}
}
