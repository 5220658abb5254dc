// rng.cuh: Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"),
// the counter-based generator of mlcu's kernels: 4 words out of a 128-bit counter and a
// 64-bit key, no state, so any thread can draw element i of a stream directly.
#pragma once
#include "common.cuh"

namespace mlcu {

struct u32x4 {
	uint32_t v[4];
};

__host__ __device__ inline u32x4 philox4x32_10(u32x4 c, uint32_t k0, uint32_t k1) {
	const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
	for (int r = 0; r < 10; r++) {
		if (r > 0) {
			k0 += W0;
			k1 += W1;
		}
		uint64_t p0 = uint64_t(M0) * c.v[0], p1 = uint64_t(M1) * c.v[2];
		uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
		uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
		c = u32x4{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
	}
	return c;
}

// uniform24 maps a word to [0, 1) with 24 bits, exactly representable in float32.
__host__ __device__ inline float uniform24(uint32_t w) { return float(w >> 8) * (1.0f / 16777216.0f); }

// uniform53 maps two words to [0, 1) with 53 bits.
__host__ __device__ inline double uniform53(uint32_t hi, uint32_t lo) {
	return double(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

} // namespace mlcu
