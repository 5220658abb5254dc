// Package conformance holds one test suite per contract of mlcu's interchangeable
// implementations, after gonum's pattern: the package of each implementation runs the suite
// with one line from an external test package (package x_test), so that every
// implementation meets the same checks and a new one gets them for free.
//
//   - Gemm: the float32 matrix product (nn.Gemm on gonum or OpenBLAS, cuda.Gemm).
//   - TrainBackend: train.Backend (the CPU, cuda.Trainer).
//   - Curves: dataset.CurveBackend (dataset.CPUCurves, cuda.LightCurver).
//   - Sampler: infer.Sampler (infer.CPUSampler, cuda.ModelSampler).
//
// Each suite's checks compare with something independent of the implementation under test
// (a float64 triple loop, the VBBinaryLensing reference curves, the CPU model's passes and
// density) or state a property every implementation must have (determinism, batch
// independence, no state change on a rejected step). conformance_test.go runs each suite
// against a deliberately broken implementation and requires it to fail.
package conformance
