package nn

import "fmt"

// Conv1dForward computes a 1-D convolution (cross-correlation, as PyTorch's nn.Conv1d) with
// an odd kernel K, stride 1 and "same" zero padding P = K/2, channels-first:
//
//	out[b,o,l] = bias[o] + Σ_{c,k} w[o,c,k]·inp[b,c,l+k−P]   (inp taken as 0 outside [0, L))
//
//	out (B, OC, L), col (B, C·K, L), inp (B, C, L), w (OC, C, K), bias (OC) or nil.
//
// It lowers each sample to a matrix product (im2col): col[b, c·K+k, l] = inp[b, c, l+k−P],
// then out[b] (OC, L) = w (OC, C·K) · col[b] (C·K, L) through Gemm. col is saved for the
// backward pass, which needs it (not inp) for the weight gradient. When K = 1 the column
// matrix is inp itself: col may then be nil, and the backward pass takes inp as its col.
//
// It panics when K is even or not positive, or when a slice's length does not match its
// shape.
func Conv1dForward[T Float](out, col, inp, w, bias []T, B, C, L, OC, K int) {
	const op = "Conv1dForward"
	conv1dCheckK(op, K)
	linearCheckLen(op, "out", len(out), B*OC*L)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	linearCheckLen(op, "w", len(w), OC*C*K)
	if bias != nil {
		linearCheckLen(op, "bias", len(bias), OC)
	}
	if K == 1 && (col == nil || len(col) > 0 && len(inp) > 0 && &col[0] == &inp[0]) {
		col = inp // the column matrix of a 1×1 convolution is its input
	} else {
		linearCheckLen(op, "col", len(col), B*C*K*L)
		conv1dIm2col(col, inp, B, C, L, K)
	}
	CK := C * K
	for b := 0; b < B; b++ {
		colb := col[b*CK*L : (b+1)*CK*L]
		outb := out[b*OC*L : (b+1)*OC*L]
		// out[b] (OC, L) = w (OC, C·K) · col[b] (C·K, L)
		Gemm(false, false, OC, L, CK, 1, w, CK, colb, L, 0, outb, L)
		if bias != nil {
			for o, bo := range bias {
				row := outb[o*L : (o+1)*L]
				for l := range row {
					row[l] += bo
				}
			}
		}
	}
}

// Conv1dBackward adds the gradients of Conv1dForward into dinp, dw and dbias, given the
// gradient dout of the loss with respect to out:
//
//	dinp (B, C, L), dw (OC, C, K), dbias (OC), dcol (C·K, L) scratch,
//	dout (B, OC, L), col (B, C·K, L) as saved by the forward pass, w (OC, C, K).
//
// Per sample, dw += dout[b]·col[b]ᵀ and dcol = wᵀ·dout[b]; dcol is then scattered back
// (col2im) into dinp. dcol is scratch for one sample at a time (length at least C·K·L; its
// contents are overwritten). Any of dinp, dw and dbias may be nil to skip that gradient
// (dcol is unused when dinp is nil). When K = 1, pass inp as col; dcol may then be nil, and
// the input gradient is added into dinp directly.
//
// It panics when K is even or not positive, or when a slice's length does not match its
// shape.
func Conv1dBackward[T Float](dinp, dw, dbias, dcol, dout, col, w []T, B, C, L, OC, K int) {
	const op = "Conv1dBackward"
	conv1dCheckK(op, K)
	linearCheckLen(op, "dout", len(dout), B*OC*L)
	CK := C * K
	if dw != nil || dinp != nil {
		linearCheckLen(op, "w", len(w), OC*CK)
	}
	if dw != nil {
		linearCheckLen(op, "dw", len(dw), OC*CK)
		linearCheckLen(op, "col", len(col), B*CK*L)
	}
	if dinp != nil {
		linearCheckLen(op, "dinp", len(dinp), B*C*L)
		if dcol == nil && K != 1 {
			panic(fmt.Sprintf("nn: %s: dcol is nil with K = %d", op, K))
		}
		if dcol != nil && len(dcol) < CK*L {
			panic(fmt.Sprintf("nn: %s: len(dcol) = %d, want at least C·K·L = %d", op, len(dcol), CK*L))
		}
	}
	if dbias != nil {
		linearCheckLen(op, "dbias", len(dbias), OC)
	}
	for b := 0; b < B; b++ {
		doutb := dout[b*OC*L : (b+1)*OC*L]
		if dw != nil {
			// dw (OC, C·K) += dout[b] (OC, L) · col[b]ᵀ (L, C·K)
			Gemm(false, true, OC, CK, L, 1, doutb, L, col[b*CK*L:(b+1)*CK*L], L, 1, dw, CK)
		}
		if dinp != nil {
			dinpb := dinp[b*C*L : (b+1)*C*L]
			if dcol == nil { // K = 1: the column matrix is the input itself
				// dinp[b] (C, L) += wᵀ (C, OC) · dout[b] (OC, L)
				Gemm(true, false, C, L, OC, 1, w, C, doutb, L, 1, dinpb, L)
			} else {
				// dcol (C·K, L) = wᵀ (C·K, OC) · dout[b] (OC, L)
				Gemm(true, false, CK, L, OC, 1, w, CK, doutb, L, 0, dcol[:CK*L], L)
				conv1dCol2im(dinpb, dcol, C, L, K)
			}
		}
		if dbias != nil {
			for o := range dbias {
				s := T(0)
				for _, g := range doutb[o*L : (o+1)*L] {
					s += g
				}
				dbias[o] += s
			}
		}
	}
}

// conv1dIm2col writes col[b, c·K+k, l] = inp[b, c, l+k−P] (0 outside the sequence),
// P = K/2. col (B, C·K, L), inp (B, C, L).
func conv1dIm2col[T Float](col, inp []T, B, C, L, K int) {
	P := K / 2
	for bc := 0; bc < B*C; bc++ {
		x := inp[bc*L : (bc+1)*L]
		for k := 0; k < K; k++ {
			row := col[(bc*K+k)*L : (bc*K+k+1)*L]
			s := k - P // row[l] = x[l+s]
			lo, hi := max(0, -s), min(L, L-s)
			if lo >= hi { // the kernel tap lies entirely in the padding
				clear(row)
				continue
			}
			clear(row[:lo])
			copy(row[lo:hi], x[lo+s:hi+s])
			clear(row[hi:])
		}
	}
}

// conv1dCol2im adds the column gradient of one sample back onto its input gradient:
// dinp[c, l+k−P] += dcol[c·K+k, l] for l+k−P inside [0, L). dinp (C, L), dcol (C·K, L).
func conv1dCol2im[T Float](dinp, dcol []T, C, L, K int) {
	P := K / 2
	for c := 0; c < C; c++ {
		dx := dinp[c*L : (c+1)*L]
		for k := 0; k < K; k++ {
			row := dcol[(c*K+k)*L : (c*K+k+1)*L]
			s := k - P
			lo, hi := max(0, -s), min(L, L-s)
			for l := lo; l < hi; l++ {
				dx[l+s] += row[l]
			}
		}
	}
}

// conv1dCheckK panics unless K is a positive odd kernel size.
func conv1dCheckK(op string, K int) {
	if K <= 0 || K%2 == 0 {
		panic(fmt.Sprintf("nn: %s: kernel size K = %d, want a positive odd number", op, K))
	}
}
