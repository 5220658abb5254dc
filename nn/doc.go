// Package nn holds mlcu's neural-network building blocks with hand-written forward and
// backward passes: the CPU reference of every op; the
// ResNet-GRU featurizer, the masked autoregressive flow and its Gaussian-mixture base are
// assembled from them. It knows nothing about microlensing.
//
// Conventions (after llm.c):
//
//   - Ops are plain functions over flat slices plus sizes, generic over the element type
//     (Float: float32 for training and sampling, float64 for gradient checks), so that the
//     same signatures map one-to-one onto CUDA kernels later.
//   - A forward/backward pair shares a signature shape: outputs, saved values, inputs,
//     weights, sizes. Gradients are named d<name>, and backward passes ADD into them (the
//     caller zeroes gradient buffers once per step), so shared inputs accumulate correctly.
//   - Tensors carry a shape comment such as // (B, C, L). Sequences for convolutions are
//     channels-first (B, C, L); the GRU is batch-first (B, T, C).
//   - Matrix products go through Gemm (row-major), one interface in front of the BLAS.
//   - Ops split their work over Workers() goroutines themselves (parallel.go): samples of a
//     convolution, channels of a batch norm, elements of a ReLU, batch rows of a GRU step.
//     Results are bitwise independent of the worker count and of scheduling: sums across
//     pieces use cuts that depend on the shapes only, added in a fixed order. OpenBLAS runs
//     on one thread for this reason; gonum's BLAS still splits large products itself, which
//     measured within noise of forcing it serial, so it is left alone.
package nn
