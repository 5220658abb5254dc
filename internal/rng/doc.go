// Package rng is mlcu's deterministic random source: math/rand/v2's PCG generator (a 128-bit
// LCG with the DXSM output function), with every variate computed here from its raw 64-bit
// output rather than by math/rand's own conversions, whose algorithms a Go release may change.
//
// Guarantees: for the same (seed, stream), Uint64, Uniform, UniformOpen, Between and IntN
// return bit-identical values on every Go version and architecture (they use only integer
// arithmetic and exact float64 conversions). Normal and NormalPair also call math.Log,
// math.Sqrt and math.Sincos, so they are identical for the same Go version and architecture
// and may differ in the last bits between them.
//
// Every method consumes a fixed number of raw outputs (documented on the method) except IntN
// and Shuffle, whose rejection step consumes another output with probability below n/2⁶⁴.
// A Source holds no other state (no cached normal variate), so the number of raw outputs
// consumed so far determines everything that follows.
//
// A Source is not safe for concurrent use; give each goroutine its own.
package rng
