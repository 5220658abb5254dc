// maf_sample.cu: the fused sampling kernel of the masked autoregressive flow: base draws from
// the Gaussian mixture (Philox) and the inverse of all NB MADE blocks, for a tile of samples
// per thread block, in one launch. CPU reference: nn.MAFSample (MADEInverse per block).
//
// The inverse of one block solves x_i = y_i·exp(α_i(x_<i)) + μ_i(x_<i) one dimension at a
// time in the block's ordering. With nn's degrees (HidDeg[h] = ⌊h·D/H⌋, contiguous groups),
// step k needs only the hidden units of degree k−1 — one contiguous range [s, e) per layer,
// reading a prefix [0, e) of the layer below — so the whole inverse costs about half of one
// forward pass instead of D passes (the CPU path's incremental trick, nn.MADEInverse).
//
// Layout in one thread block (TS samples, `threads` threads):
//   shared: h[L][TS][HS] hidden activations, HS = H4 + 4 (H4 = H rounded up to 4): rows
//           are float4-aligned and 4 words apart modulo 32 banks, so the 8 lanes of a
//           quarter-warp reading float4s of 8 consecutive rows hit 32 distinct banks;
//           x[TS][D], y[TS][D] the block's output/input.
//   a hidden-layer work item is (row r, RU = 4 consecutive units) with item = ug·TS + r: the
//   lanes of a warp share the units (broadcast weight loads) and read consecutive rows. Each
//   item keeps RU accumulators, so one float4 load of h feeds 4·RU multiply-adds (one load
//   per 4 FMAs per weight row instead of two loads per FMA).
// Weights stay in global memory in a packed copy (maf_packed): the masked weights with every
// hidden and output row padded to H4 floats with zeros, so rows are float4-aligned; 5.7 MB
// for the paper flow, L2-resident on an A100/H100. Each block streams the lower-triangular
// half it needs once per tile of TS samples. The padding columns multiply entries of h that
// are finite (h is zeroed per tile), so they add exact zeros.
#include "flow.cuh"
#include "rng.cuh"

namespace {

using mlcu::made_layout;

// maf_packed gives the offsets (in floats) of one block's tensors in the packed weights
// (see the comment at the top); every block has the same layout, `stride` floats apart.
struct maf_packed {
	long w0;     // (H, D) masked input weights
	long wh, bh; // layer 1's (H, H4) weights and (H) bias; layer l at + (l−1)·hstride
	long hstride;
	long wo, bo; // (2D, H4) output weights, (2D) output bias
	long stride;
};

struct maf_args {
	made_layout m;
	maf_packed p;
	int NB, K;
	const float* packed; // NB blocks of maf_packed layout
	const int* order;    // (NB, D) block orderings
	const float* cterm;  // (NB, E, H) per block and event: ctx·Wcᵀ + b0
	const float* mix;    // (3, D, K): means, σ, cumulative weights (normalised, last = 1)
	const float* u_in;   // (N, D) base draws, or null to draw them here
	float* u_out;        // (N, D) the base draws used, or null
	float* out;          // (N, D) samples
	long N;              // rows: E·S
	long E;              // events
	int S;               // samples per event (row r belongs to event r / S)
	uint32_t k0, k1;     // Philox key
	long row0;           // global index of row 0 (the counter of row r is row0 + r)
};

// base_draw returns the base draw of dimension i of global row g: component by the
// cumulative weights at one uniform, then mean + σ·N(0,1) by Box–Muller from two more, all
// three from one Philox block at counter (g_lo, g_hi, i, 0x6d616600).
__device__ inline float base_draw(const maf_args& a, long g, int i) {
	const int D = a.m.D, K = a.K;
	mlcu::u32x4 w = mlcu::philox4x32_10(mlcu::u32x4{{uint32_t(g), uint32_t(uint64_t(g) >> 32), uint32_t(i), 0x6d616600u}}, a.k0, a.k1);
	const float* mean = a.mix;
	const float* sigma = a.mix + D * K;
	const float* cum = a.mix + 2 * D * K;
	float t = mlcu::uniform24(w.v[0]);
	int k = 0;
	while (k < K - 1 && t >= cum[i * K + k]) k++;
	// Box–Muller on (0, 1] × [0, 1): 1 − u24 is never 0.
	double u1 = 1.0 - mlcu::uniform53(w.v[1], w.v[2]);
	double u2 = mlcu::uniform24(w.v[3]);
	double z = sqrt(-2.0 * log(u1)) * cospi(2.0 * u2); // cos(2πu2) without a large-argument reduction
	return mean[i * K + k] + sigma[i * K + k] * float(z);
}

__device__ inline float dot4(float4 a, float4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

__global__ void maf_sample_kernel(maf_args a, int TS) {
	const made_layout m = a.m;
	const int D = m.D, H = m.H, L = m.L, H4 = (H + 3) & ~3, HS = H4 + 4;
	const int tid = threadIdx.x, nt = blockDim.x;
	const int RU = 4;
	MLCU_DYNAMIC_SHARED(float, smem);
	float* h = smem;                  // (L, TS, HS)
	float* x = h + long(L) * TS * HS; // (TS, D)
	float* y = x + TS * D;            // (TS, D)
	long ntiles = (a.N + TS - 1) / TS;
	for (long tile = blockIdx.x; tile < ntiles; tile += gridDim.x) {
		long r0 = tile * TS;
		int rows = int(a.N - r0 < TS ? a.N - r0 : TS);
		// Zero h (its padding columns are read against zero weights and must be finite), and
		// draw the base.
		for (long it = tid; it < long(L) * TS * HS; it += nt) h[it] = 0;
		for (int it = tid; it < TS * D; it += nt) {
			int r = it / D, i = it % D;
			float v = 0;
			if (r < rows) {
				long g = r0 + r;
				v = a.u_in ? a.u_in[g * D + i] : base_draw(a, a.row0 + g, i);
				if (a.u_out) a.u_out[g * D + i] = v;
			}
			y[it] = v;
		}
		__syncthreads();
		for (int b = a.NB - 1; b >= 0; b--) {
			const float* w = a.packed + long(b) * a.p.stride;
			const int* order = a.order + b * D;
			// Layer 0 starts from the context term; x starts at 0 (unknown dimensions).
			for (int it = tid; it < TS * H; it += nt) {
				int r = it % TS, u = it / TS;
				long ev = r < rows ? (r0 + r) / a.S : 0;
				h[r * HS + u] = a.cterm[(long(b) * a.E + ev) * H + u];
			}
			for (int it = tid; it < TS * D; it += nt) x[it] = 0;
			__syncthreads();
			for (int k = 1; k <= D; k++) {
				int s = m.group_start(k - 1), e = m.group_start(k), G = e - s;
				int e4 = (e + 3) >> 2; // float4s covering units 0..e−1
				// Layer 0, units [s, e): += x · W0[u]ᵀ over the D inputs (masked weights of
				// the unknown dimensions are 0, and so are those x), then ReLU.
				for (int it = tid; it < TS * G; it += nt) {
					int r = it % TS, u = s + it / TS;
					const float* wr = w + a.p.w0 + long(u) * D;
					float acc = h[r * HS + u];
					for (int j = 0; j < D; j++) acc += x[r * D + j] * wr[j];
					h[r * HS + u] = acc > 0 ? acc : 0;
				}
				__syncthreads();
				// Layers 1..L−1, units [s, e): bias + h_{l−1}[0:e] · Wh[u][0:e]ᵀ, ReLU; RU
				// units per item (the last group's extra units repeat unit e−1, discarded).
				int UG = (G + RU - 1) / RU;
				for (int l = 1; l < L; l++) {
					const float* hin = h + long(l - 1) * TS * HS;
					float* hout = h + long(l) * TS * HS;
					const float* W = w + a.p.wh + long(l - 1) * a.p.hstride;
					const float* bias = w + a.p.bh + long(l - 1) * a.p.hstride;
					for (int it = tid; it < TS * UG; it += nt) {
						int r = it % TS, u0 = s + (it / TS) * RU;
						const float4* hr = reinterpret_cast<const float4*>(hin + r * HS);
						const float4* wr[RU];
						float acc[RU];
#pragma unroll
						for (int q = 0; q < RU; q++) {
							int u = u0 + q < e ? u0 + q : e - 1;
							wr[q] = reinterpret_cast<const float4*>(W + long(u) * H4);
							acc[q] = 0;
						}
						for (int j4 = 0; j4 < e4; j4++) {
							float4 hv = hr[j4];
#pragma unroll
							for (int q = 0; q < RU; q++) acc[q] += dot4(hv, wr[q][j4]);
						}
#pragma unroll
						for (int q = 0; q < RU; q++) {
							int u = u0 + q;
							if (u < e) {
								float v = acc[q] + bias[u];
								hout[r * HS + u] = v > 0 ? v : 0;
							}
						}
					}
					__syncthreads();
				}
				// Outputs of dimension i: μ and raw α from h_{L−1}[0:e], then x_i.
				int i = order[k - 1];
				const float* hl = h + long(L - 1) * TS * HS;
				const float4* wm = reinterpret_cast<const float4*>(w + a.p.wo + long(2 * i) * H4);
				const float4* wa = reinterpret_cast<const float4*>(w + a.p.wo + long(2 * i + 1) * H4);
				for (int r = tid; r < TS; r += nt) {
					const float4* hr = reinterpret_cast<const float4*>(hl + r * HS);
					float mu = 0, raw = 0;
					for (int j4 = 0; j4 < e4; j4++) {
						float4 hv = hr[j4];
						mu += dot4(hv, wm[j4]);
						raw += dot4(hv, wa[j4]);
					}
					mu += w[a.p.bo + 2 * i];
					float alpha = mlcu::made_log_scale(raw + w[a.p.bo + 2 * i + 1]);
					x[r * D + i] = y[r * D + i] * expf(alpha) + mu;
				}
				__syncthreads();
			}
			// This block's x is the next (lower) block's y.
			for (int it = tid; it < TS * D; it += nt) y[it] = x[it];
			__syncthreads();
		}
		for (int it = tid; it < rows * D; it += nt) a.out[r0 * D + it] = y[it];
		__syncthreads();
	}
}

// maf_sample_smem returns the dynamic shared memory of a tile of TS rows.
size_t maf_sample_smem(const made_layout& m, int TS) {
	size_t H4 = (size_t(m.H) + 3) & ~size_t(3);
	return sizeof(float) * (size_t(m.L) * TS * (H4 + 4) + 2 * size_t(TS) * m.D);
}

// packed_layout returns the packed weights' offsets for a flow of shape m.
maf_packed packed_layout(const made_layout& m) {
	auto al4 = [](long n) { return (n + 3) & ~3L; };
	long H = m.H, D = m.D, H4 = al4(H);
	maf_packed p;
	p.w0 = 0;
	p.hstride = H * H4 + al4(H);
	p.wh = al4(H * D);
	p.bh = p.wh + H * H4;
	p.wo = p.wh + long(m.L - 1) * p.hstride;
	p.bo = p.wo + 2 * D * H4;
	p.stride = al4(p.bo + 2 * D);
	return p;
}

// pack_kernel copies block b's masked weights from nn's layout (eff) into the packed layout,
// zeros in the padding: one thread per packed float.
__global__ void pack_kernel(float* packed, const float* eff, made_layout m, maf_packed p, int NB) {
	const long n = long(NB) * p.stride;
	const int D = m.D, H = m.H, H4 = (H + 3) & ~3;
	for (long t = long(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += long(gridDim.x) * blockDim.x) {
		long b = t / p.stride, o = t % p.stride;
		const float* src = eff + b * m.size();
		float v = 0;
		if (o < long(H) * D) {
			v = src[m.w0() + o];
		} else if (o >= p.wh && o < p.wo) {
			long l = (o - p.wh) / p.hstride + 1, q = (o - p.wh) % p.hstride;
			if (q < long(H) * H4) {
				long row = q / H4, col = q % H4;
				if (col < H) v = src[m.wh(int(l)) + row * H + col];
			} else if (q - long(H) * H4 < H) {
				v = src[m.bh(int(l)) + (q - long(H) * H4)];
			}
		} else if (o >= p.wo && o < p.bo) {
			long row = (o - p.wo) / H4, col = (o - p.wo) % H4;
			if (col < H) v = src[m.wo() + row * H + col];
		} else if (o >= p.bo && o < p.bo + 2 * D) {
			v = src[m.bo() + (o - p.bo)];
		}
		packed[t] = v;
	}
}

} // namespace

extern "C" {

long mlcu_maf_packed_size(int D, int H, int L, int NB) { return long(NB) * packed_layout(made_layout{D, 0, H, L}).stride; }

int mlcu_maf_pack(float* d_packed, const float* d_eff, int D, int C, int H, int L, int NB) {
	made_layout m{D, C, H, L};
	maf_packed p = packed_layout(m);
	long n = long(NB) * p.stride;
	MLCU_LAUNCH(pack_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_packed, d_eff, m, p, NB);
	MLCU_LAUNCHED();
}

int mlcu_maf_sample(float* d_out, float* d_u_out, const float* d_u_in, const float* d_packed, const int32_t* d_order,
                    const float* d_cterm, const float* d_mix, int D, int C, int H, int L, int NB, int K, long E,
                    int S, uint64_t seed, long row0, int tile_rows, int threads) {
	if (E <= 0 || S <= 0) return 0;
	if (D < 2 || H < D || L < 1 || NB < 1 || K < 1 || tile_rows < 1 || threads < 32 || threads > 1024 || threads % 32)
		return int(cudaErrorInvalidValue);
	maf_args a;
	a.m = made_layout{D, C, H, L};
	a.p = packed_layout(a.m);
	a.NB = NB;
	a.K = K;
	a.packed = d_packed;
	a.order = d_order;
	a.cterm = d_cterm;
	a.mix = d_mix;
	a.u_in = d_u_in;
	a.u_out = d_u_out;
	a.out = d_out;
	a.N = E * S;
	a.E = E;
	a.S = S;
	a.k0 = uint32_t(seed);
	a.k1 = uint32_t(seed >> 32);
	a.row0 = row0;
	size_t smem = maf_sample_smem(a.m, tile_rows);
	if (smem > 48 * 1024) MLCU_TRY(cudaFuncSetAttribute(maf_sample_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
	long tiles = (a.N + tile_rows - 1) / tile_rows;
	long grid = tiles < 65535L * 16 ? tiles : 65535L * 16;
	MLCU_LAUNCH(maf_sample_kernel, dim3(unsigned(grid)), dim3(threads), smem, a, tile_rows);
	MLCU_LAUNCHED();
}

size_t mlcu_maf_sample_smem(int D, int H, int L, int tile_rows) {
	return maf_sample_smem(made_layout{D, 0, H, L}, tile_rows);
}

} // extern "C"
