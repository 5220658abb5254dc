// Package cuda is the Go side of the C ABI to mlcu's CUDA kernels (kernels/mlcu_cuda.h) and
// the CUDA backend built on it: device memory, launches through the ABI functions, device
// discovery.
//
// Builds:
//
//   - -tags cuda links build/cuda/libmlcu_cuda.a (nvcc, `make cuda-lib`) and the CUDA runtime
//     statically (cudart_static): the binary needs only libc and, at run time, the driver.
//   - -tags cudaemu links build/cudaemu/libmlcu_cudaemu.a (`make cudaemu-lib`): the same
//     kernel sources compiled for the host with kernels/emu.cuh, so every kernel and every
//     line of this package run on a machine without a GPU. The parity tests run here.
//   - without either tag the package compiles to Available() == false and every entry point
//     returns ErrNotBuilt; nothing else changes.
//
// Build through the Makefile (make cuda, make cudaemu, make test-cudaemu): it rebuilds the
// library and passes its hash to cgo, so Go's build cache never links a stale library.
package cuda
