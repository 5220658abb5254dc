//go:build cuda || cudaemu

package cuda

import "fmt"

// The dense neural-network ops on the device, float32: the GPU counterparts of nn's
// Gemm, Linear, ReLU, Conv1d, MaxPool1d, BatchNorm1d and Adam. Each mirrors the CPU op's
// signature with device buffers in place of slices; backward passes ADD into gradients,
// as in nn (nn/doc.go). Sizes that do not match panic, as nn's ops do; CUDA errors are
// returned.

// F32 is a float32 device buffer.
type F32 = Buffer[float32]

// denseCheckLen panics unless a buffer has exactly the length its shape gives.
func denseCheckLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("cuda: %s: len(%s) = %d, want %d", op, name, got, want))
	}
}

// gemmCheckMat panics unless buf holds a rows×cols row-major matrix with row stride ld.
func gemmCheckMat(name string, buf *F32, rows, cols, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("cuda: Gemm: ld%s = %d < %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && (buf == nil || buf.n < (rows-1)*ld+cols) {
		n := 0
		if buf != nil {
			n = buf.n
		}
		panic(fmt.Sprintf("cuda: Gemm: %s has %d elements, a (%d, %d) matrix with stride %d needs %d", name, n, rows, cols, ld, (rows-1)*ld+cols))
	}
}

// overlaps reports whether the first nx elements of x and the first ny of y share memory.
func overlaps(x *F32, nx int, y *F32, ny int) bool {
	if nx <= 0 || ny <= 0 {
		return false
	}
	x0, y0 := uintptr(x.ptr), uintptr(y.ptr)
	return x0 < y0+uintptr(ny)*4 && y0 < x0+uintptr(nx)*4
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the device, with nn.Gemm's row-major
// semantics: op(A) is (m, k), op(B) is (k, n), C is (m, n); lda, ldb, ldc are the row
// strides of A, B, C as stored (A is (k, m) when transA). With beta = 0, C is not read.
// It panics when a buffer is too small for its matrix, or when C shares memory with A or B.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a *F32, lda int, b *F32, ldb int, beta float32, c *F32, ldc int) error {
	return gemmBatched(transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, 0)
}

// gemmBatched runs Gemm on batch matrices, entry z at offset z·stride of each buffer (0: one
// matrix shared by the batch), with the tile shape forced (1: 64×64, 2: 128×128 in at most
// 128 registers, 3: 32×128, 4: 128×128 with the registers left to ptxas) or chosen by the
// library (0).
func gemmBatched(transA, transB bool, m, n, k int, alpha float32, a *F32, lda, sA int, b *F32, ldb, sB int, beta float32, c *F32, ldc, sC, batch, tile int) error {
	if m < 0 || n < 0 || k < 0 || batch < 0 {
		panic(fmt.Sprintf("cuda: Gemm: m, n, k, batch = %d, %d, %d, %d", m, n, k, batch))
	}
	if m == 0 || n == 0 || batch == 0 {
		return nil
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	// The last batch entry is the furthest into each buffer.
	last := func(name string, buf *F32, rows, cols, ld, stride int) {
		if rows == 0 || cols == 0 {
			return
		}
		if buf == nil || buf.n < (batch-1)*stride {
			panic(fmt.Sprintf("cuda: Gemm: %s too small for a batch of %d at stride %d", name, batch, stride))
		}
		gemmCheckMat(name, buf.Slice((batch-1)*stride, buf.n), rows, cols, ld)
	}
	last("A", a, ar, ac, lda, sA)
	last("B", b, br, bc, ldb, sB)
	last("C", c, m, n, ldc, sC)
	// The kernel takes A, B and C as __restrict__ (and reads A and B tile by tile while
	// writing C): C must not share memory with what it reads.
	cEnd := (batch-1)*sC + (m-1)*ldc + n
	if k > 0 && overlaps(c, cEnd, a, (batch-1)*sA+(ar-1)*lda+ac) {
		panic("cuda: Gemm: C overlaps A (in-place products are not supported)")
	}
	if k > 0 && overlaps(c, cEnd, b, (batch-1)*sB+(br-1)*ldb+bc) {
		panic("cuda: Gemm: C overlaps B (in-place products are not supported)")
	}
	return mlcuSgemmBatchedTile(transA, transB, m, n, k, alpha, a, lda, sA, b, ldb, sB, beta, c, ldc, sC, batch, tile)
}

// gemmTileFor returns the tile code gemmBatched's automatic choice (tile 0) takes for a batch
// of m×n products op(A)·op(B).
func gemmTileFor(transA, transB bool, m, n, batch int) int {
	return mlcuSgemmChooseTile(transA, transB, m, n, batch)
}

// ReLUForward sets out = max(inp, 0) elementwise (nn.ReLUForward); out and inp have the same
// length and may be the same buffer. A NaN input gives NaN.
func ReLUForward(out, inp *F32) error {
	denseCheckLen("ReLUForward", "inp", inp.n, out.n)
	return mlcuReLUForward(out, inp, out.n)
}

// ReLUBackward adds dout·1[out > 0] into dinp (nn.ReLUBackward), out being the forward
// output. dinp may be the same buffer as dout: it is then overwritten with the masked
// gradient.
func ReLUBackward(dinp, dout, out *F32) error {
	denseCheckLen("ReLUBackward", "dout", dout.n, dinp.n)
	denseCheckLen("ReLUBackward", "out", out.n, dinp.n)
	return mlcuReLUBackward(dinp, dout, out, dinp.n)
}

// addBias adds bias (C) to out (rows, C, L), broadcast over rows and L.
func addBias(out, bias *F32, rows, Cn, L int) error {
	return mlcuAddBias(out, bias, rows, Cn, L)
}

// channelSumAdd adds Σ_{r,l} x[r, c, l] into dst[c]; x (rows, C, L), dst (C).
func channelSumAdd(dst, x *F32, rows, Cn, L int) error {
	return mlcuChannelSumAdd(dst, x, rows, Cn, L)
}

// LinearForward computes out = inp·wᵀ + b on the device (nn.LinearForward):
//
//	out (B, OC), inp (B, C), w (OC, C), b (OC) or nil for no bias.
func LinearForward(out, inp, w, b *F32, B, C, OC int) error {
	defer profileScope("linear forward")()
	const op = "LinearForward"
	denseCheckLen(op, "out", out.n, B*OC)
	denseCheckLen(op, "inp", inp.n, B*C)
	denseCheckLen(op, "w", w.n, OC*C)
	if b != nil {
		denseCheckLen(op, "b", b.n, OC)
	}
	// out (B, OC) = inp (B, C) · wᵀ (C, OC)
	if err := Gemm(false, true, B, OC, C, 1, inp, C, w, C, 0, out, OC); err != nil {
		return err
	}
	if b == nil {
		return nil
	}
	return addBias(out, b, B, OC, 1)
}

// LinearBackward adds the gradients of LinearForward into dinp, dw and db (nn.LinearBackward):
//
//	dinp (B, C) += dout·w, dw (OC, C) += doutᵀ·inp, db (OC) += Σ_B dout,
//	dout (B, OC), inp (B, C), w (OC, C).
//
// Any of dinp, dw and db may be nil to skip that gradient.
func LinearBackward(dinp, dw, db, dout, inp, w *F32, B, C, OC int) error {
	defer profileScope("linear backward")()
	const op = "LinearBackward"
	denseCheckLen(op, "dout", dout.n, B*OC)
	if dinp != nil {
		denseCheckLen(op, "dinp", dinp.n, B*C)
		denseCheckLen(op, "w", w.n, OC*C)
		// dinp (B, C) += dout (B, OC) · w (OC, C)
		if err := Gemm(false, false, B, C, OC, 1, dout, OC, w, C, 1, dinp, C); err != nil {
			return err
		}
	}
	if dw != nil {
		denseCheckLen(op, "dw", dw.n, OC*C)
		denseCheckLen(op, "inp", inp.n, B*C)
		// dw (OC, C) += doutᵀ (OC, B) · inp (B, C)
		if err := Gemm(true, false, OC, C, B, 1, dout, OC, inp, C, 1, dw, C); err != nil {
			return err
		}
	}
	if db != nil {
		denseCheckLen(op, "db", db.n, OC)
		return channelSumAdd(db, dout, B, OC, 1)
	}
	return nil
}
