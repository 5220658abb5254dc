//go:build (cuda || cudaemu) && mlcu_asan

package cuda

// emulationASan: the emulation library was built with AddressSanitizer (make
// test-cudaemu-asan), which keeps static shared arrays out of the poisoned section.
const emulationASan = true
