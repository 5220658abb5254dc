// Package cuda will hold the Go side of the C ABI to mlcu's CUDA kernels (cgo, behind the
// cuda and cudaemu build tags) and the CUDA backend (issue 5). It has no code yet.
package cuda
