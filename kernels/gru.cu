// gru.cu: the multi-layer, batch-first GRU (nn/gru.go's GRUForward and GRUBackward) in
// float32, with PyTorch's equations and gate order r, z, n:
//
//	r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//	z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//	h' = (1 − z) ⊙ n + z ⊙ h,       h_0 = 0.
//
// Plan, per layer (the recurrence makes the time steps sequential; everything that is not
// sequential is batched over all B·T rows):
//
//   forward   Gates (B·T, 3H) = x (B·T, C_l) · W_ihᵀ + b_ih     one GEMM (gemm_kernel)
//             for t = 0 … T−1: one launch of gru_fwd_step_kernel, which computes the
//             hidden projections h_{t−1} · W_hhᵀ + b_hh of the step (a tiled product whose
//             output tile holds the r, z and n columns of the same hidden units) and the
//             gate update fused, overwriting the step's Gates row with r, z, n.
//   backward  for t = T−1 … 0: one launch of gru_bwd_step_kernel, which forms dL/dh_t from
//             the layer above's gradient and the path from step t+1 (a tiled product
//             dgh_{t+1} · W_hh plus dL/dh_{t+1} ⊙ z_{t+1}) and the gate derivatives fused;
//             then over all rows at once: db_ih, db_hh by column sums, dW_hh and dW_ih by
//             GEMMs, and the input gradient by a GEMM.
//
// Every sum in a result runs in an order fixed by the shapes (tiles, then k within a tile),
// with no atomics, so results are bitwise reproducible run to run.
//
// Device activations (d_acts), the mirror of nn.GRUActs: for each layer l in turn, three
// consecutive arrays
//	Gates (B, T, 3H)  r, z, n per row (first the input projections, overwritten per step)
//	HN    (B, T, H)   W_hn h_{t−1} + b_hn
//	H     (B, T, H)   h_1 … h_T
// so layer l starts at l·5·B·T·H. The backward scratch (d_scratch, 8·B·T·H) holds
//	dg (B, T, 3H), dgh (B, T, 3H), dh (B, T, H), dhIn (B, T, H)
// as in nn.GRUActs.
//
// The GEMM here is a small tiled kernel of this file (a general SGEMM is a separate family);
// it can be swapped for the shared one once that exists.
#include "common.cuh"

namespace {

// ---- GEMM ----

// gemm_args describes C (M, N) = [C +] bias + Σ_k A(m, k)·B(k, n) over strided operands.
// K runs over K/kin groups of kin rows each, so that an operand may skip rows between groups
// (dW_hh pairs dgh row (b, t) with h row (b, t−1), t ≥ 1):
//	A(m, k) = a[m·a_m + (k / kin)·a_kg + (k % kin)·a_k]
//	B(k, n) = b[n·b_n + (k / kin)·b_kg + (k % kin)·b_k]
// Transposes are strides: a row-major (M, K) A has a_m = K, a_k = 1; Aᵀ of a row-major (K, M)
// has a_m = 1, a_k = M.
struct gemm_args {
	float* c;
	const float* a;
	const float* b;
	const float* bias; // (N) or null
	long M, N, K, kin;
	long ldc;
	long a_m, a_k, a_kg;
	long b_n, b_k, b_kg;
	bool add; // false: overwrite C (C is not read); true: add into C
};

constexpr int GT = 32;   // output tile GT × GT per block
constexpr int GK = 16;   // k-tile
constexpr int GTH = 16;  // threads per block side: 16 × 16 threads, 2 × 2 outputs each

__device__ inline long gemm_koff(long k, long kin, long s_kg, long s_k) { return (k / kin) * s_kg + (k % kin) * s_k; }

// gemm_kernel: block (16, 16), grid (⌈N/32⌉, ⌈M/32⌉). Each k-tile loads A (32 m × 16 k)
// and B (16 k × 32 n) into shared memory, with consecutive threads along whichever index
// has stride 1 in global memory (a uniform branch), so loads are coalesced for every
// transpose. Thread (tx, ty) owns outputs m ∈ {ty, ty+16}, n ∈ {tx, tx+16}.
__global__ void __launch_bounds__(256) gemm_kernel(gemm_args g) {
	__shared__ float As[GK][GT + 1];
	__shared__ float Bs[GK][GT + 1];
	const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * GTH + tx;
	const long m0 = long(blockIdx.y) * GT, n0 = long(blockIdx.x) * GT;
	float acc[2][2] = {{0, 0}, {0, 0}};
	for (long k0 = 0; k0 < g.K; k0 += GK) {
		// 512 elements per tile, two per thread.
		for (int e = tid; e < GK * GT; e += GTH * GTH) {
			int kk, mm;
			if (g.a_m == 1) { kk = e / GT; mm = e % GT; } else { mm = e / GK; kk = e % GK; }
			long m = m0 + mm, k = k0 + kk;
			As[kk][mm] = (m < g.M && k < g.K) ? g.a[m * g.a_m + gemm_koff(k, g.kin, g.a_kg, g.a_k)] : 0.0f;
			int nn;
			if (g.b_n == 1) { kk = e / GT; nn = e % GT; } else { nn = e / GK; kk = e % GK; }
			long n = n0 + nn;
			k = k0 + kk;
			Bs[kk][nn] = (n < g.N && k < g.K) ? g.b[n * g.b_n + gemm_koff(k, g.kin, g.b_kg, g.b_k)] : 0.0f;
		}
		__syncthreads();
#pragma unroll
		for (int kk = 0; kk < GK; kk++) {
			float a0 = As[kk][ty], a1 = As[kk][ty + GTH];
			float b0 = Bs[kk][tx], b1 = Bs[kk][tx + GTH];
			acc[0][0] += a0 * b0;
			acc[0][1] += a0 * b1;
			acc[1][0] += a1 * b0;
			acc[1][1] += a1 * b1;
		}
		__syncthreads();
	}
	for (int i = 0; i < 2; i++) {
		long m = m0 + ty + i * GTH;
		if (m >= g.M) continue;
		for (int j = 0; j < 2; j++) {
			long n = n0 + tx + j * GTH;
			if (n >= g.N) continue;
			float v = acc[i][j];
			if (g.bias) v += g.bias[n];
			float* p = g.c + m * g.ldc + n;
			*p = g.add ? *p + v : v;
		}
	}
}

int gemm(const gemm_args& g) {
	if (g.M <= 0 || g.N <= 0) return 0;
	dim3 grid(unsigned(mlcu::ceil_div(g.N, GT)), unsigned(mlcu::ceil_div(g.M, GT)));
	MLCU_LAUNCH(gemm_kernel, grid, dim3(GTH, GTH), 0, g);
	return int(cudaGetLastError());
}

// ---- elementwise helpers ----

// sigmoid as nn.Sigmoid computes it: without overflow for large |x|.
__device__ inline float sigmoidf(float x) {
	if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

// colsum_add_kernel: dst[n] += Σ_m src[m, n] for src (M, N), one thread per column summing
// the rows in order (threads of a warp read consecutive columns: coalesced; deterministic).
__global__ void colsum_add_kernel(float* dst, const float* src, long M, long N) {
	for (long n = long(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += long(gridDim.x) * blockDim.x) {
		float s = 0.0f;
		for (long m = 0; m < M; m++) s += src[m * N + n];
		dst[n] += s;
	}
}

// gru_dh_init_kernel: dh (B, T, H) = 0 except dh[b, T−1, :] = dout[b, :]: the top layer's
// outputs receive the loss gradient at the last step only.
__global__ void gru_dh_init_kernel(float* dh, const float* dout, int B, int T, int H) {
	long n = long(B) * T * H;
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		long row = i / H;
		int j = int(i % H), t = int(row % T);
		long b = row / T;
		dh[i] = t == T - 1 ? dout[b * H + j] : 0.0f;
	}
}

// ---- the recurrent steps ----

constexpr int ST = 16; // step kernels: tiles of ST batch rows × ST hidden units, 16 × 16 threads
constexpr int SK = 16; // k-tile of the step kernels

// gru_fwd_step_kernel runs step t of one layer: block (16, 16) with thread (tx, ty) owning
// batch row b = 16·blockIdx.y + ty and hidden unit j = 16·blockIdx.x + tx; grid (⌈H/16⌉,
// ⌈B/16⌉). It computes the three hidden projections of (b, j) — rows j, H+j, 2H+j of W_hh
// against h_{t−1}[b] — from shared-memory tiles, then the gates.
//	gates (B, T, 3H)  in: input projections; out: step t's row becomes r, z, n
//	hn    (B, T, H)   out: W_hn h_{t−1} + b_hn at step t
//	h     (B, T, H)   in: h_{t−1} (row t−1); out: h_t (row t)
//	out   (B, H)      when non-null, h_t is also written here (the top layer's last step)
//	whh (3H, H), bhh (3H)
__global__ void __launch_bounds__(256) gru_fwd_step_kernel(float* gates, float* hn, float* h, float* out,
                                                         const float* whh, const float* bhh, int B, int T,
                                                         int H, int t) {
	__shared__ float hs[ST][SK + 1];    // [b][k] h_{t−1}
	__shared__ float ws[3][ST][SK + 1]; // [gate][j][k] W_hh rows
	const int tx = threadIdx.x, ty = threadIdx.y;
	const int j0 = blockIdx.x * ST, b0 = blockIdx.y * ST;
	const int b = b0 + ty, j = j0 + tx;
	float acc[3] = {0, 0, 0};
	if (t > 0) { // h_0 = 0: the hidden projections are the biases alone.
		for (int k0 = 0; k0 < H; k0 += SK) {
			// Thread (tx, ty) loads element (ty, tx) of each tile: k = k0 + tx is the
			// contiguous index, so a half-warp reads 16 consecutive floats.
			int k = k0 + tx;
			int bl = b0 + ty, jl = j0 + ty;
			hs[ty][tx] = (bl < B && k < H) ? h[(long(bl) * T + t - 1) * H + k] : 0.0f;
			for (int gt = 0; gt < 3; gt++)
				ws[gt][ty][tx] = (jl < H && k < H) ? whh[(long(gt) * H + jl) * H + k] : 0.0f;
			__syncthreads();
#pragma unroll
			for (int kk = 0; kk < SK; kk++) {
				float hv = hs[ty][kk];
				acc[0] += ws[0][tx][kk] * hv;
				acc[1] += ws[1][tx][kk] * hv;
				acc[2] += ws[2][tx][kk] * hv;
			}
			__syncthreads();
		}
	}
	if (b >= B || j >= H) return;
	long row = long(b) * T + t;
	float* g = gates + row * 3 * H;
	float r = sigmoidf(g[j] + acc[0] + bhh[j]);
	float z = sigmoidf(g[H + j] + acc[1] + bhh[H + j]);
	float hnv = acc[2] + bhh[2 * H + j];
	float n = tanhf(g[2 * H + j] + r * hnv);
	float hp = t > 0 ? h[(row - 1) * H + j] : 0.0f;
	float hv = (1.0f - z) * n + z * hp;
	g[j] = r;
	g[H + j] = z;
	g[2 * H + j] = n;
	hn[row * H + j] = hnv;
	h[row * H + j] = hv;
	if (out) out[long(b) * H + j] = hv;
}

// gru_bwd_step_kernel runs step t of one layer's backward pass, same tiling as the forward
// step (thread ↔ (b, j)). With carry = dL/dh_{t+1} ⊙ z_{t+1} + dgh_{t+1} · W_hh (the paths
// from step t+1 into h_t; zero at t = T−1), it forms d = dh[b, t, j] + carry, stores it back
// into dh (step t−1 reads it as dL/dh_t) and writes the gate derivatives:
//	dg  (B, T, 3H)  d/d(input projections)  = (da_r, da_z, da_n)
//	dgh (B, T, 3H)  d/d(hidden projections) = (da_r, da_z, da_n ⊙ r)
// gates, hn, h are the layer's saved activations; whh (3H, H).
__global__ void __launch_bounds__(256) gru_bwd_step_kernel(float* dg, float* dgh, float* dh, const float* gates,
                                                         const float* hn, const float* h, const float* whh,
                                                         int B, int T, int H, int t) {
	__shared__ float as[ST][SK + 1]; // [b][k] dgh_{t+1}
	__shared__ float ws[SK][ST + 1]; // [k][j] W_hh
	const int tx = threadIdx.x, ty = threadIdx.y;
	const int j0 = blockIdx.x * ST, b0 = blockIdx.y * ST;
	const int b = b0 + ty, j = j0 + tx;
	const int H3 = 3 * H;
	float acc = 0.0f;
	if (t < T - 1) {
		for (int k0 = 0; k0 < H3; k0 += SK) {
			int bl = b0 + ty, k = k0 + tx;
			as[ty][tx] = (bl < B && k < H3) ? dgh[(long(bl) * T + t + 1) * H3 + k] : 0.0f;
			int kr = k0 + ty;
			ws[ty][tx] = (kr < H3 && j < H) ? whh[long(kr) * H + j] : 0.0f;
			__syncthreads();
#pragma unroll
			for (int kk = 0; kk < SK; kk++) acc += as[ty][kk] * ws[kk][tx];
			__syncthreads();
		}
	}
	if (b >= B || j >= H) return;
	long row = long(b) * T + t;
	float d = dh[row * H + j];
	if (t < T - 1) d += dh[(row + 1) * H + j] * gates[(row + 1) * H3 + H + j] + acc;
	dh[row * H + j] = d;
	const float* g = gates + row * H3;
	float r = g[j], z = g[H + j], n = g[2 * H + j];
	float hp = t > 0 ? h[(row - 1) * H + j] : 0.0f;
	// h_t = (1 − z) n + z h_{t−1}; n = tanh(a_n), a_n = x_n + r·hn; z = σ(a_z); r = σ(a_r).
	float dn = d * (1.0f - z);
	float dz = d * (hp - n);
	float dan = dn * (1.0f - n * n);
	float daz = dz * z * (1.0f - z);
	float dar = dan * hn[row * H + j] * r * (1.0f - r);
	float* dgr = dg + row * H3;
	float* dghr = dgh + row * H3;
	dgr[j] = dar;
	dgr[H + j] = daz;
	dgr[2 * H + j] = dan;
	dghr[j] = dar;
	dghr[H + j] = daz;
	dghr[2 * H + j] = dan * r;
}

// gru_layer_params addresses layer l's parameters (or their gradients) in the flat vector,
// PyTorch's state_dict order: per layer W_ih (3H, C_l), W_hh (3H, H), b_ih (3H), b_hh (3H).
template <typename F>
struct gru_layer_params {
	F *wih, *whh, *bih, *bhh;
};

template <typename F>
gru_layer_params<F> layer_params(F* flat, int l, int C, int H) {
	for (int i = 0; i < l; i++) flat += 3L * H * (i == 0 ? C : H) + 3L * H * H + 6L * H;
	long Cl = l == 0 ? C : H;
	F* whh = flat + 3L * H * Cl;
	F* bih = whh + 3L * H * H;
	return gru_layer_params<F>{flat, whh, bih, bih + 3L * H};
}

// gru_layer_acts addresses layer l's saved activations in d_acts (layout at the top).
template <typename F>
struct gru_layer_acts {
	F *gates, *hn, *h;
};

template <typename F>
gru_layer_acts<F> layer_acts(F* acts, int l, int B, int T, int H) {
	long BTH = long(B) * T * H;
	F* a = acts + l * 5 * BTH;
	return gru_layer_acts<F>{a, a + 3 * BTH, a + 4 * BTH};
}

bool bad_sizes(int B, int T, int C, int H, int layers) { return B <= 0 || T <= 0 || C <= 0 || H <= 0 || layers <= 0; }

} // namespace

extern "C" {

int mlcu_gru_forward_f32(float* d_out, float* d_acts, const float* d_params, const float* d_inp, int B, int T,
                         int C, int H, int layers) {
	if (bad_sizes(B, T, C, H, layers)) return cudaErrorInvalidValue;
	const long BT = long(B) * T, H3 = 3L * H;
	const float* x = d_inp; // (B, T, C_l) input of layer l
	dim3 step_grid(unsigned(mlcu::ceil_div(H, ST)), unsigned(mlcu::ceil_div(B, ST)));
	for (int l = 0; l < layers; l++) {
		gru_layer_params<const float> w = layer_params(d_params, l, C, H);
		gru_layer_acts<float> a = layer_acts(d_acts, l, B, T, H);
		long Cl = l == 0 ? C : H;
		// Gates (B·T, 3H) = x (B·T, C_l) · W_ihᵀ + b_ih.
		MLCU_TRY(gemm(gemm_args{a.gates, x, w.wih, w.bih, BT, H3, Cl, Cl, H3, Cl, 1, 0, Cl, 1, 0, false}));
		for (int t = 0; t < T; t++) {
			float* out = (l == layers - 1 && t == T - 1) ? d_out : nullptr;
			MLCU_LAUNCH(gru_fwd_step_kernel, step_grid, dim3(ST, ST), 0, a.gates, a.hn, a.h, out, w.whh, w.bhh, B,
			            T, H, t);
			MLCU_TRY(cudaGetLastError());
		}
		x = a.h;
	}
	return 0;
}

int mlcu_gru_backward_f32(float* d_dinp, float* d_grads, const float* d_dout, const float* d_acts,
                          const float* d_params, const float* d_inp, float* d_scratch, int B, int T, int C, int H,
                          int layers) {
	if (bad_sizes(B, T, C, H, layers)) return cudaErrorInvalidValue;
	const long BT = long(B) * T, BTH = BT * H, H3 = 3L * H;
	float* dg = d_scratch;   // (B, T, 3H)
	float* dgh = dg + 3 * BTH; // (B, T, 3H)
	float* dh = dgh + 3 * BTH; // (B, T, H) gradient of the current layer's outputs
	float* dhIn = dh + BTH;    // (B, T, H) gradient of the layer below's outputs
	MLCU_LAUNCH(gru_dh_init_kernel, mlcu::grid_1d(BTH, 256), dim3(256), 0, dh, d_dout, B, T, H);
	MLCU_TRY(cudaGetLastError());
	dim3 step_grid(unsigned(mlcu::ceil_div(H, ST)), unsigned(mlcu::ceil_div(B, ST)));
	for (int l = layers - 1; l >= 0; l--) {
		gru_layer_params<const float> w = layer_params(d_params, l, C, H);
		gru_layer_params<float> dw = layer_params(d_grads, l, C, H);
		gru_layer_acts<const float> a = layer_acts(d_acts, l, B, T, H);
		long Cl = l == 0 ? C : H;
		const float* x = l == 0 ? d_inp : layer_acts(d_acts, l - 1, B, T, H).h; // (B, T, C_l)
		for (int t = T - 1; t >= 0; t--) {
			MLCU_LAUNCH(gru_bwd_step_kernel, step_grid, dim3(ST, ST), 0, dg, dgh, dh, a.gates, a.hn, a.h, w.whh, B,
			            T, H, t);
			MLCU_TRY(cudaGetLastError());
		}
		// db_ih += Σ_rows dg, db_hh += Σ_rows dgh.
		MLCU_LAUNCH(colsum_add_kernel, mlcu::grid_1d(H3, 128), dim3(128), 0, dw.bih, dg, BT, H3);
		MLCU_TRY(cudaGetLastError());
		MLCU_LAUNCH(colsum_add_kernel, mlcu::grid_1d(H3, 128), dim3(128), 0, dw.bhh, dgh, BT, H3);
		MLCU_TRY(cudaGetLastError());
		// dW_hh (3H, H) += Σ_{b, t ≥ 1} dgh[b, t]ᵀ h[b, t−1] (t = 0 sees h_0 = 0): K runs over
		// B groups of the T−1 steps with a predecessor; the dgh operand starts one row in.
		if (T > 1)
			MLCU_TRY(gemm(gemm_args{dw.whh, dgh + H3, a.h, nullptr, H3, H, B * (T - 1L), T - 1L, H, 1, H3, T * H3,
			                        1, H, T * long(H), true}));
		// dW_ih (3H, C_l) += dgᵀ (3H, B·T) · x (B·T, C_l).
		MLCU_TRY(gemm(gemm_args{dw.wih, dg, x, nullptr, H3, Cl, BT, BT, Cl, 1, H3, 0, 1, Cl, 0, true}));
		// dx (B·T, C_l) = dg (B·T, 3H) · W_ih (3H, C_l): the layer below's output gradient
		// (overwritten), or added into dinp.
		if (l > 0) {
			MLCU_TRY(gemm(gemm_args{dhIn, dg, w.wih, nullptr, BT, Cl, H3, H3, Cl, H3, 1, 0, 1, Cl, 0, false}));
			float* tmp = dh;
			dh = dhIn;
			dhIn = tmp;
		} else if (d_dinp) {
			MLCU_TRY(gemm(gemm_args{d_dinp, dg, w.wih, nullptr, BT, Cl, H3, H3, Cl, H3, 1, 0, 1, Cl, 0, true}));
		}
	}
	return 0;
}

} // extern "C"
