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
//   shared: h[L][TS][H+1] hidden activations (row padding 1: conflict-free column reads),
//           x[TS][D], y[TS][D] the block's output/input, and per-row event indices.
//   a work item (row r, unit u) of a layer maps to thread (item % threads) with
//   item = u·TS + r: the 32 lanes of a warp share u (one broadcast weight load) and read 32
//   consecutive rows of h (distinct banks).
// Weights stay in global memory (the masked copy of the flow's parameters, 5.7 MB for the
// paper flow, L2-resident on an A100/H100); each block streams the lower-triangular half it
// needs once per tile of TS samples.
#include "flow.cuh"
#include "rng.cuh"

namespace {

using mlcu::made_layout;

struct maf_args {
	made_layout m;
	int NB, K;
	const float* eff;    // (NB·m.size() + 3·D·K) masked parameters, nn's flat layout
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
	double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
	return mean[i * K + k] + sigma[i * K + k] * float(z);
}

__global__ void maf_sample_kernel(maf_args a, int TS) {
	const made_layout m = a.m;
	const int D = m.D, H = m.H, L = m.L, HP = H + 1;
	const int tid = threadIdx.x, nt = blockDim.x;
	MLCU_DYNAMIC_SHARED(float, smem);
	float* h = smem;                  // (L, TS, HP)
	float* x = h + long(L) * TS * HP; // (TS, D)
	float* y = x + TS * D;            // (TS, D)
	long ntiles = (a.N + TS - 1) / TS;
	for (long tile = blockIdx.x; tile < ntiles; tile += gridDim.x) {
		long r0 = tile * TS;
		int rows = int(a.N - r0 < TS ? a.N - r0 : TS);
		// Base draws.
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
			const float* w = a.eff + long(b) * m.size();
			const int* order = a.order + b * D;
			// Layer 0 starts from the context term; x starts at 0 (unknown dimensions).
			for (int it = tid; it < TS * H; it += nt) {
				int r = it % TS, u = it / TS;
				long ev = r < rows ? (r0 + r) / a.S : 0;
				h[r * HP + u] = a.cterm[(long(b) * a.E + ev) * H + u];
			}
			for (int it = tid; it < TS * D; it += nt) x[it] = 0;
			__syncthreads();
			for (int k = 1; k <= D; k++) {
				int s = m.group_start(k - 1), e = m.group_start(k), G = e - s;
				// Layer 0, units [s, e): += x · W0[u]ᵀ over the D inputs (masked weights of
				// the unknown dimensions are 0, and so are those x), then ReLU.
				for (int it = tid; it < TS * G; it += nt) {
					int r = it % TS, u = s + it / TS;
					const float* wr = w + m.w0() + long(u) * D;
					float acc = h[r * HP + u];
					for (int j = 0; j < D; j++) acc += x[r * D + j] * wr[j];
					h[r * HP + u] = acc > 0 ? acc : 0;
				}
				__syncthreads();
				// Layers 1..L−1, units [s, e): bias + h_{l−1}[0:e] · Wh[u][0:e]ᵀ, ReLU.
				for (int l = 1; l < L; l++) {
					const float* hin = h + long(l - 1) * TS * HP;
					float* hout = h + long(l) * TS * HP;
					const float* W = w + m.wh(l);
					const float* bias = w + m.bh(l);
					for (int it = tid; it < TS * G; it += nt) {
						int r = it % TS, u = s + it / TS;
						const float* wr = W + long(u) * H;
						const float* hr = hin + r * HP;
						float acc = bias[u];
						for (int j = 0; j < e; j++) acc += hr[j] * wr[j];
						hout[r * HP + u] = acc > 0 ? acc : 0;
					}
					__syncthreads();
				}
				// Outputs of dimension i: μ and raw α from h_{L−1}[0:e], then x_i.
				int i = order[k - 1];
				const float* hl = h + long(L - 1) * TS * HP;
				for (int r = tid; r < TS; r += nt) {
					const float* wm = w + m.wo() + long(2 * i) * H;
					const float* wa = wm + H;
					const float* hr = hl + r * HP;
					float mu = 0, raw = 0;
					for (int j = 0; j < e; j++) {
						mu += hr[j] * wm[j];
						raw += hr[j] * wa[j];
					}
					mu += w[m.bo() + 2 * i];
					float alpha = mlcu::made_log_scale(raw + w[m.bo() + 2 * i + 1]);
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
	return sizeof(float) * (size_t(m.L) * TS * (m.H + 1) + 2 * size_t(TS) * m.D);
}

} // namespace

extern "C" {

int mlcu_maf_sample(float* d_out, float* d_u_out, const float* d_u_in, const float* d_eff, const int32_t* d_order,
                    const float* d_cterm, const float* d_mix, int D, int C, int H, int L, int NB, int K, long E,
                    int S, uint64_t seed, long row0, int tile_rows, int threads) {
	if (E <= 0 || S <= 0) return 0;
	if (D < 2 || H < D || L < 1 || NB < 1 || K < 1 || tile_rows < 1 || threads < 32 || threads > 1024 || threads % 32)
		return int(cudaErrorInvalidValue);
	maf_args a;
	a.m = made_layout{D, C, H, L};
	a.NB = NB;
	a.K = K;
	a.eff = d_eff;
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
