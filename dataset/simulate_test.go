package dataset

import (
	"math"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// TestDeriveSeedGolden checks DeriveSeed against the Python one-liner of its doc comment,
// run with CPython 3's hashlib:
//
//	int.from_bytes(hashlib.sha256(f"mlcu/{label}/{seed}".encode()).digest()[:8], "little")
func TestDeriveSeedGolden(t *testing.T) {
	for _, c := range []struct {
		split string
		want  uint64
	}{
		{"train", 7652428050712992779},
		{"val", 9658576554249074738},
		{"test", 7334870051641866662},
	} {
		got, err := SplitSeed(1, c.split)
		if err != nil || got != c.want {
			t.Errorf("SplitSeed(1, %q) = %d, %v; want %d", c.split, got, err, c.want)
		}
	}
	if _, err := SplitSeed(1, "trian"); err == nil {
		t.Error("unknown split accepted")
	}
}

// TestSplitsDoNotOverlap: the events of the train, val and test splits of one seed differ.
func TestSplitsDoNotOverlap(t *testing.T) {
	seen := map[event.Params]string{}
	for _, split := range Splits {
		ss, err := SplitSeed(7, split)
		if err != nil {
			t.Fatal(err)
		}
		sim := Simulator{Prior: event.DefaultPrior(), Seed: ss}
		for i := range 200 {
			p := sim.Params(i)
			if other, ok := seen[p]; ok {
				t.Fatalf("event %d of split %s equals an event of split %s", i, split, other)
			}
			seen[p] = split
		}
	}
}

// TestSimulatorEventCentred: the stored curve is the event's magnification at
// t0 + (j − 7200)·0.01 d, checked point by point against Binary.FiniteMag (the cold,
// per-point solver, not the warm-started light curve) at its default accuracy goal.
func TestSimulatorEventCentred(t *testing.T) {
	sim := Simulator{Prior: event.DefaultPrior(), Seed: 11}
	curve := make([]float32, event.StoredPoints)
	for i := range 3 {
		p, err := sim.Event(i, curve)
		if err != nil {
			t.Fatal(err)
		}
		if p != sim.Params(i) || p != event.DefaultPrior().Sample(rng.New(11, uint64(i))) {
			t.Fatalf("event %d: parameters %+v are not the prior's draw from stream (11, %d)", i, p, i)
		}
		b := lens.NewBinary(p.S, p.Q)
		e := p.Event() // t0 as drawn: absolute times t0 + τ_j give the same positions
		for _, j := range []int{0, 1, 3600, event.WindowPoints - 1, event.WindowPoints, event.WindowPoints + 1, 10000, event.StoredPoints - 1} {
			tj := p.T0 + float64(j-event.WindowPoints)*0.01
			y1, y2 := e.SourcePos(tj)
			want := b.FiniteMag(y1, y2, p.Rho, lens.DefaultTol)
			// Both sides meet the relative goal 1e-4; float32 rounding adds 6e-8.
			if got := float64(curve[j]); math.Abs(got-want) > 3e-4*want {
				t.Errorf("event %d sample %d (t − t0 = %.2f d): A = %v, FiniteMag %v", i, j, tj-p.T0, got, want)
			}
		}
	}
}

// TestSimulatorWindow: a window equals the same samples of the full curve to the solver's
// accuracy (the warm starts differ).
func TestSimulatorWindow(t *testing.T) {
	sim := Simulator{Prior: event.DefaultPrior(), Seed: 3}
	full := make([]float32, event.StoredPoints)
	if _, err := sim.Event(1, full); err != nil {
		t.Fatal(err)
	}
	k := 2345
	win := make([]float32, event.WindowPoints)
	if _, err := sim.Window(1, k, win); err != nil {
		t.Fatal(err)
	}
	for j := range win {
		if d := math.Abs(float64(win[j] - full[k+j])); d > 2e-4*float64(full[k+j]) {
			t.Fatalf("sample %d: window %v, full curve %v", k+j, win[j], full[k+j])
		}
	}
}

// BenchmarkSimulatorEvent: one stored event (prior draw and 14,400-point curve) of the
// default prior, cycling over 64 events.
func BenchmarkSimulatorEvent(b *testing.B) {
	sim := Simulator{Prior: event.DefaultPrior(), Seed: 1}
	curve := make([]float32, event.StoredPoints)
	for i := 0; b.Loop(); i++ {
		if _, err := sim.Event(i%64, curve); err != nil {
			b.Fatal(err)
		}
	}
}
