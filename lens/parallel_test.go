package lens

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/testutil"
)

// TestParallelLightCurve checks that splitting a light curve into blocks on several
// goroutines gives LightCurve's values: identical with one worker, and within the reference
// contract (1e-3 relative to VBBinaryLensing) with any number of blocks, whose first points
// start the solver cold.
func TestParallelLightCurve(t *testing.T) {
	evs := refEvents(t)
	rows := testutil.RefRows(t, "lightcurves.csv.gz")
	ts := RomanTimes(0, 72, RomanCadence)
	for _, id := range []int{0, 7, 28} {
		e := evs[id]
		serial := LightCurve(e, ts, DefaultTol, nil)
		one, err := ParallelLightCurve(e, ts, DefaultTol, 1)
		require.NoError(t, err)
		require.Equal(t, serial, one, "curve %d: one worker must be LightCurve itself", id)
		for _, workers := range []int{2, 5, 64} {
			par, err := ParallelLightCurve(e, ts, DefaultTol, workers)
			require.NoError(t, err)
			require.Len(t, par, len(ts))
			for i, a := range par {
				ref := testutil.Num(t, rows[id*len(ts)+i], "A")
				if d := math.Abs(a-ref) / ref; d > 1e-3 {
					t.Fatalf("curve %d, %d workers, t = %.2f: A = %.9g, reference %.9g (rel %.2g > 1e-3)",
						id, workers, ts[i], a, ref, d)
				}
			}
		}
	}
}

// TestParallelLightCurveErrors checks that a solver panic comes back as an error naming
// the block's times instead of taking the program down.
func TestParallelLightCurveErrors(t *testing.T) {
	ts := RomanTimes(0, 10, RomanCadence)
	bad := Event{S: 1, Q: 0.1, Alpha: 1, U0: 0.1, T0: 5, TE: 10, Rho: -1} // fails ValidateRho
	_, err := ParallelLightCurve(bad, ts, DefaultTol, 2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the lens solver failed")
	assert.Contains(t, err.Error(), "between t = 0 and")

	out, err := ParallelLightCurve(Event{S: 1, Q: 0.1, Alpha: 1, U0: 0.1, T0: 5, TE: 10}, nil, DefaultTol, 4)
	require.NoError(t, err)
	assert.Empty(t, out)
}

// TestCausticCrossings checks the crossing count on trajectories whose answer is known from
// the caustic geometry: an equal-mass binary at s = 1 (the intermediate topology: one large six-cusp caustic around the
// centre of mass) crossed through its centre along the binary axis enters and leaves once;
// a path far outside crosses nothing; the count is the same when read backwards in time.
func TestCausticCrossings(t *testing.T) {
	b := NewBinary(1, 1)
	require.Equal(t, "intermediate", b.CausticTopology())
	ts := RomanTimes(0, 72, RomanCadence)
	through := Event{S: 1, Q: 1, Alpha: 0, U0: 0, T0: 36, TE: 10}
	assert.Equal(t, 2, CausticCrossings(through, ts))
	far := through
	far.U0 = 3
	assert.Equal(t, 0, CausticCrossings(far, ts))

	rev := make([]float64, len(ts))
	for i, v := range ts {
		rev[len(ts)-1-i] = v
	}
	oblique := Event{S: 1, Q: 1, Alpha: 0.7, U0: 0.05, T0: 36, TE: 10}
	n := CausticCrossings(oblique, ts)
	assert.Equal(t, n, CausticCrossings(oblique, rev))
	assert.True(t, n >= 2 && n%2 == 0, "oblique path through the caustic: %d crossings, want an even number ≥ 2", n)
}
