// Package bench is the benchmark harness behind `mlcu bench` and the peer comparisons
// (peer.sh and peer_vbm.py time VBMicrolensing; check_mulensmodel.py checks the mapping to
// MulensModel's parameters): it generates the fixed event sets that mlcu and the peer
// codes both time, reads and writes them as CSV, and times light-curve computation.
//
// The event prior (Prior) is the default training prior (event.DefaultPrior) with the mass
// ratio widened to log10 q ~ U(−6, 0); Events draws from it with event.Prior.Sample, so the
// same seed gives the same events on every machine.
package bench
