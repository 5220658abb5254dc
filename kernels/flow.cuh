// flow.cuh: shapes and layouts shared by the flow kernels (mixture.cu, maf_sample.cu); they
// follow nn/made.go, nn/mixture.go and nn/maf.go exactly.
#pragma once
#include "common.cuh"

namespace mlcu {

// made_layout holds the offsets of one MADE block's parameters inside its slice of the
// flow's flat parameter vector (nn.MADEParams' order): W0 (H, D), Wc (H, C), B0 (H), then for
// l = 1..L−1 Wh (H, H), Bh (H), then Wo (2D, H), Bo (2D).
struct made_layout {
	int D, C, H, L;
	__host__ __device__ long w0() const { return 0; }
	__host__ __device__ long wc() const { return long(H) * D; }
	__host__ __device__ long b0() const { return wc() + long(H) * C; }
	__host__ __device__ long wh(int l) const { return b0() + H + long(l - 1) * (long(H) * H + H); } // l ≥ 1
	__host__ __device__ long bh(int l) const { return wh(l) + long(H) * H; }
	__host__ __device__ long wo() const { return b0() + H + long(L - 1) * (long(H) * H + H); }
	__host__ __device__ long bo() const { return wo() + 2L * D * H; }
	__host__ __device__ long size() const { return bo() + 2L * D; }
	// group_start returns the first hidden unit of degree g: HidDeg[h] = ⌊h·D/H⌋ ≥ g
	// ⟺ h ≥ ⌈g·H/D⌉; group_start(D) = H.
	__host__ __device__ int group_start(int g) const { return (g * H + D - 1) / D; }
};

// made_log_scale is nn's bound α = A·tanh(raw/A), A = 3 (MADELogScaleBound).
__host__ __device__ inline float made_log_scale(float raw) { return 3.0f * tanhf(raw / 3.0f); }

} // namespace mlcu
