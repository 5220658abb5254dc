//go:build cuda || cudaemu

package cuda

import "fmt"

// convCheckK panics unless K is a positive odd kernel size.
func convCheckK(op string, K int) {
	if K <= 0 || K%2 == 0 {
		panic(fmt.Sprintf("cuda: %s: kernel size K = %d, want a positive odd number", op, K))
	}
}

// Conv1dForward computes nn.Conv1dForward on the device: a 1-D cross-correlation with odd
// kernel K, stride 1 and "same" zero padding P = K/2, channels-first,
//
//	out[b,o,l] = bias[o] + Σ_{c,k} w[o,c,k]·inp[b,c,l+k−P],
//
//	out (B, OC, L), col (B, C·K, L), inp (B, C, L), w (OC, C, K), bias (OC) or nil.
//
// Like nn it lowers to im2col (into col, saved for the backward pass) and one strided batched
// SGEMM, out[b] = w · col[b]. When K = 1, col may be nil or inp: the column matrix is inp.
func Conv1dForward(out, col, inp, w, bias *F32, B, C, L, OC, K int) error {
	defer profileScope("conv1d forward")()
	const op = "Conv1dForward"
	convCheckK(op, K)
	denseCheckLen(op, "out", out.n, B*OC*L)
	denseCheckLen(op, "inp", inp.n, B*C*L)
	denseCheckLen(op, "w", w.n, OC*C*K)
	if bias != nil {
		denseCheckLen(op, "bias", bias.n, OC)
	}
	CK := C * K
	if K == 1 && (col == nil || col.ptr == inp.ptr) {
		col = inp
	} else {
		denseCheckLen(op, "col", col.n, B*CK*L)
		if err := mlcuConv1dIm2col(col, inp, B, C, L, K); err != nil {
			return err
		}
	}
	// out[b] (OC, L) = w (OC, C·K) · col[b] (C·K, L)
	if err := gemmBatched(false, false, OC, L, CK, 1, w, CK, 0, col, L, CK*L, 0, out, L, OC*L, B, 0); err != nil {
		return err
	}
	if bias == nil {
		return nil
	}
	return addBias(out, bias, B, OC, L)
}

// Conv1dBackwardWork returns the length of the scratch buffer Conv1dBackward needs:
// B·OC·C·K for the per-sample weight gradients (when dw is wanted) and B·C·K·L for the
// column gradients (when dinp is wanted and K > 1), used one after the other.
func Conv1dBackwardWork(B, C, L, OC, K int) int {
	return max(B*OC*C*K, B*C*K*L)
}

// Conv1dBackward adds the gradients of Conv1dForward into dinp, dw and dbias
// (nn.Conv1dBackward), given dout:
//
//	dinp (B, C, L), dw (OC, C, K), dbias (OC), work scratch (Conv1dBackwardWork),
//	dout (B, OC, L), col (B, C·K, L) as saved by the forward pass (inp when K = 1), w (OC, C, K).
//
// dw is the in-order sum over the batch of the per-sample products dout[b]·col[b]ᵀ
// (computed side by side into work, then reduced: deterministic); dinp is the col2im of
// wᵀ·dout[b], or wᵀ·dout[b] added directly when K = 1. Any of dinp, dw, dbias may be nil;
// work may be nil when only dbias is wanted, or only dinp with K = 1. Unlike nn's dcol, work
// holds the whole batch's scratch at once, so the samples run in one launch.
func Conv1dBackward(dinp, dw, dbias, work, dout, col, w *F32, B, C, L, OC, K int) error {
	defer profileScope("conv1d backward")()
	const op = "Conv1dBackward"
	convCheckK(op, K)
	denseCheckLen(op, "dout", dout.n, B*OC*L)
	CK := C * K
	if dw != nil || dinp != nil {
		denseCheckLen(op, "w", w.n, OC*CK)
	}
	needWork := 0
	if dw != nil {
		denseCheckLen(op, "dw", dw.n, OC*CK)
		denseCheckLen(op, "col", col.n, B*CK*L)
		needWork = B * OC * CK
	}
	if dinp != nil {
		denseCheckLen(op, "dinp", dinp.n, B*C*L)
		if K > 1 {
			needWork = max(needWork, B*CK*L)
		}
	}
	if needWork > 0 && (work == nil || work.n < needWork) {
		panic(fmt.Sprintf("cuda: %s: work has %d elements, want at least %d", op, bufLen(work), needWork))
	}
	if dbias != nil {
		denseCheckLen(op, "dbias", dbias.n, OC)
	}
	if dw != nil && B > 0 {
		// work[b] (OC, C·K) = dout[b] (OC, L) · col[b]ᵀ (L, C·K); dw += Σ_b work[b] in order.
		if err := gemmBatched(false, true, OC, CK, L, 1, dout, L, OC*L, col, L, CK*L, 0, work, CK, OC*CK, B, 0); err != nil {
			return err
		}
		if err := mlcuSumPartsAdd(dw, work, OC*CK, B); err != nil {
			return err
		}
	}
	if dinp != nil {
		if K == 1 {
			// dinp[b] (C, L) += wᵀ (C, OC) · dout[b] (OC, L)
			if err := gemmBatched(true, false, C, L, OC, 1, w, C, 0, dout, L, OC*L, 1, dinp, L, C*L, B, 0); err != nil {
				return err
			}
		} else {
			// work[b] (C·K, L) = wᵀ (C·K, OC) · dout[b] (OC, L), then scattered back onto dinp.
			if err := gemmBatched(true, false, CK, L, OC, 1, w, CK, 0, dout, L, OC*L, 0, work, L, CK*L, B, 0); err != nil {
				return err
			}
			if err := mlcuConv1dCol2im(dinp, work, B, C, L, K); err != nil {
				return err
			}
		}
	}
	if dbias != nil {
		return channelSumAdd(dbias, dout, B, OC, L)
	}
	return nil
}

func bufLen[T Elem](b *Buffer[T]) int {
	if b == nil {
		return 0
	}
	return b.n
}

// MaxPool1dForward is nn.MaxPool1dForward on the device: the maximum over non-overlapping
// windows of 2 along the last axis (odd L drops the last element), idx the position in
// [0, L) of each window's maximum (ties: the first), saved for the backward pass.
//
//	out (B, C, L/2), idx (B, C, L/2), inp (B, C, L).
func MaxPool1dForward(out *F32, idx *Buffer[int32], inp *F32, B, C, L int) error {
	const op = "MaxPool1dForward"
	Lo := L / 2
	denseCheckLen(op, "out", out.n, B*C*Lo)
	denseCheckLen(op, "idx", idx.n, B*C*Lo)
	denseCheckLen(op, "inp", inp.n, B*C*L)
	if int64(L) > 1<<31-1 {
		panic(fmt.Sprintf("cuda: %s: L = %d does not fit int32 indices", op, L))
	}
	return mlcuMaxPool1dForward(out, idx, inp, B, C, L)
}

// MaxPool1dBackward adds dout into dinp at the saved positions (nn.MaxPool1dBackward):
// dinp[b,c,idx[b,c,j]] += dout[b,c,j]; dinp (B, C, L), dout (B, C, L/2), idx (B, C, L/2).
func MaxPool1dBackward(dinp, dout *F32, idx *Buffer[int32], B, C, L int) error {
	const op = "MaxPool1dBackward"
	Lo := L / 2
	denseCheckLen(op, "dinp", dinp.n, B*C*L)
	denseCheckLen(op, "dout", dout.n, B*C*Lo)
	denseCheckLen(op, "idx", idx.n, B*C*Lo)
	return mlcuMaxPool1dBackward(dinp, dout, idx, B, C, L)
}
