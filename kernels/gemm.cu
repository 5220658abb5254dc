// gemm.cu: single-precision matrix products, C = alpha·op(A)·op(B) + beta·C, row-major like
// nn.Gemm (nn/float.go), optionally over a batch of matrices at fixed strides (the
// per-sample products of a convolution).
//
// The kernel is the classic shared-memory tiled SGEMM: a block computes a BM×BN tile of C,
// looping over k in slices of BK. Each slice of op(A) (BM×BK) and op(B) (BK×BN) is loaded
// into shared memory by the whole block, with the thread→element map chosen per
// transposition so that consecutive threads read consecutive addresses (coalesced); each
// thread then accumulates a TM×TN micro-tile of C in registers. A thread's micro-tile rows
// and columns are strided by the thread grid (row ty + i·TY, column tx + j·TX), so a warp's
// shared-memory reads of B hit consecutive banks and its reads of A are broadcasts, and its
// stores of C are coalesced along rows. Both tiles are stored k-major with 4 floats of
// padding per row (BM, BN are multiples of 32): the transposing stores of a non-transposed A
// and of a transposed B (a warp writes 8 values of p for each of 4 rows or columns) then hit
// bank 4p + i, 32 distinct banks, where without the padding a transposed B's went 8 to a
// bank.
//
// Three tile shapes: 128×128 (8×8 per thread) for products large enough to give every SM
// of a GPU a few tiles; 64×64 (4×4 per thread) where the larger tile would leave SMs idle or
// pad a 64-row product to 128; 32×128 (2×8 per thread) for products with few rows, the
// convolutions of the first residual stages (16 to 32 output channels: C = W·col has m = OC
// rows, and the weight gradient is OC × C·K per sample), which the square tiles would pad
// to 2-4× their work. The choice (choose_tile) minimises padded work over each shape's
// throughput as measured on an H200 (BenchmarkSgemmTiles). Edges are handled by zero-filling out-of-range loads and masking stores, so m, n, k
// and the strides are arbitrary. With beta = 0, C is written without being read (it may
// hold NaN garbage).
#include "common.cuh"

namespace {

template <int BM, int BN, int BK, int TM, int TN, int MINBLOCKS = 0>
struct GemmTile {
	static constexpr int bm = BM, bn = BN, bk = BK, tm = TM, tn = TN;
	// min_blocks: __launch_bounds__'s blocks per SM to fit; 0 leaves it to ptxas (an explicit
	// 1 is not the same: ptxas then gave the 64×64 tile 56-72 registers instead of 40-64).
	static constexpr int min_blocks = MINBLOCKS;
	static constexpr int tx = BN / TN, ty = BM / TM; // thread grid (columns, rows)
	static constexpr int threads = tx * ty;
	static_assert((BM * BK) % threads == 0 && (BK * BN) % threads == 0, "tile loads must divide evenly");
};
// TileLarge is compiled to fit two blocks per SM (≤ 128 registers a thread; 16 bytes of
// spills on sm_90): left to itself ptxas gives it 112-136 registers, so its (transposed A, B)
// variant fits one block per SM (8 warps). On an H200 the two-block build ran the paper
// preset's input-gradient products 36-38% faster and no product slower (BenchmarkSgemmTiles,
// 2026-12-04); TileLarge1, the build left to ptxas, is kept forced-only (tile 4) so that the
// GPU check re-measures the choice.
using TileLarge = GemmTile<128, 128, 8, 8, 8, 2>; // 256 threads
using TileSmall = GemmTile<64, 64, 8, 4, 4>;      // 256 threads
using TileThin = GemmTile<32, 128, 8, 2, 8>;      // 256 threads
using TileLarge1 = GemmTile<128, 128, 8, 8, 8>;

// sgemm_kernel computes one tile of one batch entry (blockIdx.z) of
// C = alpha·op(A)·op(B) + beta·C. op(A)[i][p] is A[i·lda + p] (TA false) or A[p·lda + i]
// (TA true); likewise op(B)[p][j] is B[p·ldb + j] or B[j·ldb + p].
template <class T, bool TA, bool TB>
__global__ void __launch_bounds__(T::threads, T::min_blocks) sgemm_kernel(int m, int n, int k, float alpha, const float* __restrict__ A,
                                                           long lda, long sA, const float* __restrict__ B, long ldb, long sB,
                                                           float beta, float* __restrict__ C, long ldc, long sC) {
	constexpr int BM = T::bm, BN = T::bn, BK = T::bk, TM = T::tm, TN = T::tn, TX = T::tx, TY = T::ty, NT = T::threads;
	__shared__ float As[BK][BM + 4]; // op(A) slice, k-major
	__shared__ float Bs[BK][BN + 4]; // op(B) slice, padded like As
	const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
	const long z = blockIdx.z;
	A += z * sA;
	B += z * sB;
	C += z * sC;
	const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;

	float acc[TM][TN];
#pragma unroll
	for (int i = 0; i < TM; i++)
#pragma unroll
		for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;

	for (int p0 = 0; p0 < k; p0 += BK) {
		// Load op(A)[row0 : row0+BM][p0 : p0+BK]; consecutive threads take consecutive
		// memory: along p when A is row-major in (i, p), along i when transposed.
#pragma unroll
		for (int r = 0; r < BM * BK / NT; r++) {
			int e = tid + r * NT;
			int i, p;
			if (TA) {
				p = e / BM;
				i = e % BM;
			} else {
				i = e / BK;
				p = e % BK;
			}
			int gi = row0 + i, gp = p0 + p;
			float v = 0.0f;
			if (gi < m && gp < k) v = TA ? A[gp * lda + gi] : A[gi * lda + gp];
			As[p][i] = v;
		}
		// Load op(B)[p0 : p0+BK][col0 : col0+BN]: along j when B is row-major in (p, j),
		// along p when transposed.
#pragma unroll
		for (int r = 0; r < BK * BN / NT; r++) {
			int e = tid + r * NT;
			int p, j;
			if (TB) {
				j = e / BK;
				p = e % BK;
			} else {
				p = e / BN;
				j = e % BN;
			}
			int gp = p0 + p, gj = col0 + j;
			float v = 0.0f;
			if (gp < k && gj < n) v = TB ? B[gj * ldb + gp] : B[gp * ldb + gj];
			Bs[p][j] = v;
		}
		__syncthreads();
#pragma unroll
		for (int p = 0; p < BK; p++) {
			float a[TM], b[TN];
#pragma unroll
			for (int i = 0; i < TM; i++) a[i] = As[p][ty + i * TY];
#pragma unroll
			for (int j = 0; j < TN; j++) b[j] = Bs[p][tx + j * TX];
#pragma unroll
			for (int i = 0; i < TM; i++)
#pragma unroll
				for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];
		}
		__syncthreads();
	}

#pragma unroll
	for (int i = 0; i < TM; i++) {
		int gi = row0 + ty + i * TY;
		if (gi >= m) continue;
		float* c = C + gi * ldc;
#pragma unroll
		for (int j = 0; j < TN; j++) {
			int gj = col0 + tx + j * TX;
			if (gj >= n) continue;
			// beta = 0 must not read C: BLAS semantics, and C may be uninitialised.
			c[gj] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[gj];
		}
	}
}

template <class T>
int sgemm_launch(int transA, int transB, int m, int n, int k, float alpha, const float* A, long lda, long sA,
                 const float* B, long ldb, long sB, float beta, float* C, long ldc, long sC, int batch) {
	long gy = mlcu::ceil_div(m, T::bm), gx = mlcu::ceil_div(n, T::bn);
	if (gy > 65535 || batch > 65535 || gx > 2147483647L) return int(cudaErrorInvalidValue);
	dim3 grid{unsigned(gx), unsigned(gy), unsigned(batch)}, block{unsigned(T::threads)};
	if (!transA && !transB)
		MLCU_LAUNCH((sgemm_kernel<T, false, false>), grid, block, 0, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC);
	else if (!transA && transB)
		MLCU_LAUNCH((sgemm_kernel<T, false, true>), grid, block, 0, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC);
	else if (transA && !transB)
		MLCU_LAUNCH((sgemm_kernel<T, true, false>), grid, block, 0, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC);
	else
		MLCU_LAUNCH((sgemm_kernel<T, true, true>), grid, block, 0, m, n, k, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC);
	MLCU_LAUNCHED();
}

// largeTileMin is the number of 128×128 tiles (over the batch) from which the large tile is
// used: about one per SM of an H100 (132 SMs), so that no SM idles because the tiles are big.
constexpr long largeTileMin = 128;

// padded_cost is the time model of one tile shape on an m×n product: the multiply-adds the
// tiles do, padding included, over the shape's throughput (TFLOP/s of padded work) for the
// product's transpositions. The rates are measured on an H200 (BenchmarkSgemmTiles,
// 2026-12-04: useful GFLOP/s times the padded fraction, on the paper preset's convolution
// products): op(A)·op(B) with neither transposed (the convolutions' forward) large 16.5,
// small 22, thin 14; B transposed (weight gradient) 25.5, 22, 14; A transposed (input
// gradient) 24, 20, 14. Both transposed is not measured (no layer uses it) and takes the
// untransposed rates. The inner loop's count of shared-memory loads per FMA (TM+TN per
// TM·TN) had predicted the small tile at half the large one's rate and the thin at ⅖, and
// took the large tile for products where the small one is 50% faster.
template <class T>
double padded_cost(long m, long n, double rate) {
	return double(mlcu::ceil_div(m, T::bm) * T::bm) * double(mlcu::ceil_div(n, T::bn) * T::bn) / rate;
}

// choose_tile returns the tile code (1 small, 2 large, 3 thin) of the cheapest shape by
// padded_cost for an op(A)·op(B) product (transA, transB) of m×n, the large tile only with
// at least largeTileMin tiles over the batch; ties go to the larger tile.
int choose_tile(int transA, int transB, long m, long n, long batch) {
	double large = 16.5, small = 22, thin = 14;
	if (transB && !transA) large = 25.5;
	if (transA && !transB) large = 24, small = 20;
	int best = 1;
	double cost = padded_cost<TileSmall>(m, n, small);
	if (mlcu::ceil_div(m, 128) * mlcu::ceil_div(n, 128) * batch >= largeTileMin) {
		double c = padded_cost<TileLarge>(m, n, large);
		if (c <= cost) best = 2, cost = c;
	}
	if (padded_cost<TileThin>(m, n, thin) < cost) best = 3;
	return best;
}

} // namespace

extern "C" int mlcu_sgemm_batched_tile(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
                                       long strideA, const float* d_B, long ldb, long strideB, float beta, float* d_C, long ldc,
                                       long strideC, int batch, int tile) {
	if (m < 0 || n < 0 || k < 0 || batch < 0) return int(cudaErrorInvalidValue);
	if (m == 0 || n == 0 || batch == 0) return 0;
	if (tile == 0) tile = choose_tile(transA, transB, m, n, batch);
	if (tile == 2)
		return sgemm_launch<TileLarge>(transA, transB, m, n, k, alpha, d_A, lda, strideA, d_B, ldb, strideB, beta, d_C, ldc,
		                               strideC, batch);
	if (tile == 4)
		return sgemm_launch<TileLarge1>(transA, transB, m, n, k, alpha, d_A, lda, strideA, d_B, ldb, strideB, beta, d_C, ldc,
		                                strideC, batch);
	if (tile == 3)
		return sgemm_launch<TileThin>(transA, transB, m, n, k, alpha, d_A, lda, strideA, d_B, ldb, strideB, beta, d_C, ldc,
		                              strideC, batch);
	if (tile != 1) return int(cudaErrorInvalidValue);
	return sgemm_launch<TileSmall>(transA, transB, m, n, k, alpha, d_A, lda, strideA, d_B, ldb, strideB, beta, d_C, ldc,
	                               strideC, batch);
}

extern "C" int mlcu_sgemm_choose_tile(int transA, int transB, long m, long n, long batch) {
	return choose_tile(transA, transB, m, n, batch);
}

extern "C" int mlcu_sgemm_batched(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
                                  long strideA, const float* d_B, long ldb, long strideB, float beta, float* d_C, long ldc,
                                  long strideC, int batch) {
	return mlcu_sgemm_batched_tile(transA, transB, m, n, k, alpha, d_A, lda, strideA, d_B, ldb, strideB, beta, d_C, ldc,
	                               strideC, batch, 0);
}

extern "C" int mlcu_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda, const float* d_B,
                          long ldb, float beta, float* d_C, long ldc) {
	return mlcu_sgemm_batched_tile(transA, transB, m, n, k, alpha, d_A, lda, 0, d_B, ldb, 0, beta, d_C, ldc, 0, 1, 0);
}
