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
	conv1dForward(out, col, inp, w, bias, B, C, L, OC, K, false)
}

// Conv1dReLUForward is Conv1dForward followed by ReLUForward in place on out, with the ReLU
// applied in the pass that adds the bias (the same bits, one pass over out fewer).
func Conv1dReLUForward[T Float](out, col, inp, w, bias []T, B, C, L, OC, K int) {
	conv1dForward(out, col, inp, w, bias, B, C, L, OC, K, true)
}

func conv1dForward[T Float](out, col, inp, w, bias []T, B, C, L, OC, K int, relu bool) {
	const op = "Conv1dForward"
	conv1dCheckK(op, K)
	linearCheckLen(op, "out", len(out), B*OC*L)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	linearCheckLen(op, "w", len(w), OC*C*K)
	if bias != nil {
		linearCheckLen(op, "bias", len(bias), OC)
	}
	im2col := true
	if K == 1 && (col == nil || len(col) > 0 && len(inp) > 0 && &col[0] == &inp[0]) {
		col, im2col = inp, false // the column matrix of a 1×1 convolution is its input
	} else {
		linearCheckLen(op, "col", len(col), B*C*K*L)
	}
	// Samples are independent: each worker lowers and multiplies its own. A batch smaller
	// than convMinPieces (inference on one event) is cut further, each sample's product
	// into column strips of at least convMinStrip columns and then, if that is not enough,
	// into row blocks of at least convMinRows output channels, so that it still spreads
	// over the workers; the cut depends on B, L and OC only.
	CK := C * K
	rows := min(max(1, OC/convMinRows), (convMinPieces+B-1)/B)
	strips := min(max(1, L/convMinStrip), (convMinPieces+B*rows-1)/(B*rows))
	if strips*rows > 1 {
		if im2col {
			// The rows (b, c) of inp are independent: as one sample of B·C channels.
			parallelFor(B*C, B*CK*L, func(lo, hi int) {
				conv1dIm2col(col[lo*K*L:hi*K*L], inp[lo*L:hi*L], 1, hi-lo, L, K)
			})
		}
		n := B * strips * rows
		forParts(n, n, B*OC*CK*L, func(p, _, _ int) {
			b, j, r := p/(strips*rows), p/rows%strips, p%rows
			lo, hi := j*L/strips, (j+1)*L/strips
			o0, o1 := r*OC/rows, (r+1)*OC/rows
			var bs []T
			if bias != nil {
				bs = bias[o0:o1]
			}
			conv1dGemm(out[(b*OC+o0)*L:(b*OC+o1)*L], col[b*CK*L:(b+1)*CK*L], w[o0*CK:o1*CK], bs, L, o1-o0, CK, lo, hi, relu)
		})
		return
	}
	parallelFor(B, B*OC*CK*L, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			colb := col[b*CK*L : (b+1)*CK*L]
			if im2col {
				conv1dIm2col(colb, inp[b*C*L:(b+1)*C*L], 1, C, L, K)
			}
			conv1dGemm(out[b*OC*L:(b+1)*OC*L], colb, w, bias, L, OC, CK, 0, L, relu)
		}
	})
}

// Conv1dForward's cut of a small batch into pieces: up to convMinPieces pieces, column
// strips of at least convMinStrip columns, row blocks of at least convMinRows channels.
const (
	convMinPieces = 4
	convMinStrip  = 64
	convMinRows   = 32
)

// conv1dGemm computes the columns [lo, hi) of one sample's output (or of a block of its
// rows): out (OC, L) = w (OC, C·K) · col (C·K, L) + bias (OC, or nil: none), then, with
// relu, max(out, 0).
func conv1dGemm[T Float](out, col, w, bias []T, L, OC, CK, lo, hi int, relu bool) {
	Gemm(false, false, OC, hi-lo, CK, 1, w, CK, col[lo:], L, 0, out[lo:], L)
	for o := range OC {
		row := out[o*L+lo : o*L+hi]
		switch {
		case bias != nil && relu:
			bo := bias[o]
			for l, v := range row {
				row[l] = max(v+bo, 0)
			}
		case bias != nil:
			bo := bias[o]
			for l := range row {
				row[l] += bo
			}
		case relu:
			for l, v := range row {
				row[l] = max(v, 0)
			}
		}
	}
}

// convGradParts is the most parts Conv1dBackward splits a batch into (see there).
const convGradParts = 8

// Conv1dBackward adds the gradients of Conv1dForward into dinp, dw and dbias, given the
// gradient dout of the loss with respect to out:
//
//	dinp (B, C, L), dw (OC, C, K), dbias (OC), dcol (C·K, L) scratch,
//	dout (B, OC, L), col (B, C·K, L) as saved by the forward pass, w (OC, C, K).
//
// Per sample, dw += dout[b]·col[b]ᵀ and dcol = wᵀ·dout[b]; dcol is then scattered back
// (col2im) into dinp. dcol is scratch for the calling goroutine (length at least C·K·L;
// its contents are overwritten); the other workers take theirs from a pool. The batch is
// split into min(B, 8) parts whose dw and dbias are summed separately and then added in
// part order, so the gradients do not depend on the number of workers. Any of dinp, dw and dbias may be nil to skip that gradient
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
	// The batch is split into parts = min(B, convGradParts) contiguous parts of samples,
	// which depend on B only; the workers take whole parts. Each part sums its samples' dw
	// and dbias, in sample order, into its own buffer, and the parts' sums are then added
	// into dw and dbias in part order, so the result does not depend on the worker count.
	// Input gradients are per sample; each worker has its own dcol.
	parts := min(B, convGradParts)
	var pw, pb *[]T // (parts, OC, C·K), (parts, OC)
	if dw != nil {
		pw = getScratch[T](parts * OC * CK)
		defer putScratch(pw)
	}
	if dbias != nil {
		pb = getScratch[T](parts * OC)
		defer putScratch(pb)
	}
	work := 0
	if dw != nil {
		work += B * OC * CK * L
	}
	if dinp != nil {
		work += B * OC * CK * L
	}
	parallelFor(parts, work, func(lo, hi int) {
		var dc []T // this worker's column gradient
		if dinp != nil && dcol != nil {
			if lo == 0 {
				dc = dcol[:CK*L]
			} else {
				s := getScratch[T](CK * L)
				defer putScratch(s)
				dc = *s
			}
		}
		for p := lo; p < hi; p++ {
			b0, b1 := p*B/parts, (p+1)*B/parts
			for b := b0; b < b1; b++ {
				doutb := dout[b*OC*L : (b+1)*OC*L]
				if dw != nil {
					// dw_p (OC, C·K) (+)= dout[b] (OC, L) · col[b]ᵀ (L, C·K)
					beta := T(1)
					if b == b0 {
						beta = 0
					}
					Gemm(false, true, OC, CK, L, 1, doutb, L, col[b*CK*L:(b+1)*CK*L], L, beta, (*pw)[p*OC*CK:(p+1)*OC*CK], CK)
				}
				if dinp != nil {
					dinpb := dinp[b*C*L : (b+1)*C*L]
					if dc == nil { // K = 1: the column matrix is the input itself
						// dinp[b] (C, L) += wᵀ (C, OC) · dout[b] (OC, L)
						Gemm(true, false, C, L, OC, 1, w, C, doutb, L, 1, dinpb, L)
					} else {
						// dcol (C·K, L) = wᵀ (C·K, OC) · dout[b] (OC, L)
						Gemm(true, false, CK, L, OC, 1, w, CK, doutb, L, 0, dc, L)
						conv1dCol2im(dinpb, dc, C, L, K)
					}
				}
				if dbias != nil {
					db := (*pb)[p*OC : (p+1)*OC]
					for o := range db {
						s := T(0)
						for _, g := range doutb[o*L : (o+1)*L] {
							s += g
						}
						if b == b0 {
							db[o] = s
						} else {
							db[o] += s
						}
					}
				}
			}
		}
	})
	if dw != nil {
		sumParts(dw, *pw, parts)
	}
	if dbias != nil {
		sumParts(dbias, *pb, parts)
	}
}

// sumParts adds Σ_p parts[p·n + i] into dst[i], n = len(dst), summing the parts in order.
func sumParts[T Float](dst, parts []T, np int) {
	n := len(dst)
	parallelFor(n, n*np, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := parts[i]
			for p := 1; p < np; p++ {
				s += parts[p*n+i]
			}
			dst[i] += s
		}
	})
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
// K = 3, every convolution of the presets, reads the three taps' rows in one pass over
// dinp (a third of the read-modify-writes; the general loop took 8% of a small-preset
// training step); the sums are added to dinp in tap order either way, so both give the
// same bits.
func conv1dCol2im[T Float](dinp, dcol []T, C, L, K int) {
	if K == 3 && L >= 3 {
		for c := 0; c < C; c++ {
			dx := dinp[c*L : (c+1)*L]
			r0, r1, r2 := dcol[3*c*L:(3*c+1)*L], dcol[(3*c+1)*L:(3*c+2)*L], dcol[(3*c+2)*L:(3*c+3)*L]
			// dx[j] gets r0[j+1] (tap 0, s = −1), r1[j] (s = 0), r2[j−1] (s = +1), in that order.
			dx[0] = dx[0] + r0[1] + r1[0]
			mid, a, b, d := dx[1:L-1], r0[2:L], r1[1:L-1], r2[0:L-2]
			_, _, _ = a[len(mid)-1:], b[len(mid)-1:], d[len(mid)-1:]
			for j := range mid {
				mid[j] = mid[j] + a[j] + b[j] + d[j]
			}
			dx[L-1] = dx[L-1] + r1[L-1] + r2[L-2]
		}
		return
	}
	conv1dCol2imTaps(dinp, dcol, C, L, K)
}

// conv1dCol2imTaps is conv1dCol2im one kernel tap at a time, for any K and L.
func conv1dCol2imTaps[T Float](dinp, dcol []T, C, L, K int) {
	P := K / 2
	for c := 0; c < C; c++ {
		dx := dinp[c*L : (c+1)*L]
		for k := 0; k < K; k++ {
			row := dcol[(c*K+k)*L : (c*K+k+1)*L]
			s := k - P
			lo, hi := max(0, -s), min(L, L-s)
			d, r := dx[lo+s:hi+s], row[lo:hi]
			for l := range d {
				d[l] += r[l]
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
