//go:build (cuda || cudaemu) && !mlcu_asan

package cuda

// emulationASan: see sanitizer_asan_test.go.
const emulationASan = false
