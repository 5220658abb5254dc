//go:build cuda || cudaemu

package cuda

// Philox4x32 runs the Philox4x32-10 generator of the kernels (kernels/rng.cuh) on n counters
// ctr (n, 4) with key (k0, k1), returning (n, 4) words: the known-answer test's entry point.
func Philox4x32(ctr []uint32, k0, k1 uint32) ([]uint32, error) {
	n := len(ctr) / 4
	in, err := FromHost(ctr[:4*n])
	if err != nil {
		return nil, err
	}
	defer in.Free()
	out, err := Alloc[uint32](4 * n)
	if err != nil {
		return nil, err
	}
	defer out.Free()
	if err := mlcuPhilox4x32x10(out, in, n, k0, k1); err != nil {
		return nil, err
	}
	return out.Host()
}

// Uniform fills b with uniforms on [0, 1) (24 bits) from stream key: element i depends on
// (key, counterHi, i) only.
func Uniform(b *Buffer[float32], key uint64, counterHi uint32) error {
	return mlcuRngUniformF32(b, b.n, key, counterHi)
}
