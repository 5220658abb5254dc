package nn

import "fmt"

// LinearForward computes out = inp·wᵀ + b, PyTorch's nn.Linear layout:
//
//	out (B, OC), inp (B, C), w (OC, C), b (OC) or nil for no bias.
//
// Nothing beyond inp and w is needed by the backward pass. It panics when a slice's length
// does not match its shape.
func LinearForward[T Float](out, inp, w, b []T, B, C, OC int) {
	const op = "LinearForward"
	linearCheckLen(op, "out", len(out), B*OC)
	linearCheckLen(op, "inp", len(inp), B*C)
	linearCheckLen(op, "w", len(w), OC*C)
	if b != nil {
		linearCheckLen(op, "b", len(b), OC)
	}
	// out (B, OC) = inp (B, C) · wᵀ (C, OC)
	Gemm(false, true, B, OC, C, 1, inp, C, w, C, 0, out, OC)
	if b != nil {
		for i := 0; i < B; i++ {
			row := out[i*OC : (i+1)*OC]
			for o, bo := range b {
				row[o] += bo
			}
		}
	}
}

// LinearBackward adds the gradients of LinearForward into dinp, dw and db, given the
// gradient dout of the loss with respect to out:
//
//	dinp (B, C) += dout·w, dw (OC, C) += doutᵀ·inp, db (OC) += Σ_B dout,
//	dout (B, OC), inp (B, C), w (OC, C).
//
// Any of dinp, dw and db may be nil to skip that gradient. It panics when a slice's length
// does not match its shape.
func LinearBackward[T Float](dinp, dw, db, dout, inp, w []T, B, C, OC int) {
	const op = "LinearBackward"
	linearCheckLen(op, "dout", len(dout), B*OC)
	if dinp != nil {
		linearCheckLen(op, "dinp", len(dinp), B*C)
		linearCheckLen(op, "w", len(w), OC*C)
		// dinp (B, C) += dout (B, OC) · w (OC, C)
		Gemm(false, false, B, C, OC, 1, dout, OC, w, C, 1, dinp, C)
	}
	if dw != nil {
		linearCheckLen(op, "dw", len(dw), OC*C)
		linearCheckLen(op, "inp", len(inp), B*C)
		// dw (OC, C) += doutᵀ (OC, B) · inp (B, C)
		Gemm(true, false, OC, C, B, 1, dout, OC, inp, C, 1, dw, C)
	}
	if db != nil {
		linearCheckLen(op, "db", len(db), OC)
		for i := 0; i < B; i++ {
			for o, g := range dout[i*OC : (i+1)*OC] {
				db[o] += g
			}
		}
	}
}

// linearCheckLen panics with an "nn: <op>: ..." message unless got == want. The ops in
// linear.go, conv1d.go, relu.go, maxpool.go, batchnorm.go and resblock.go share it.
func linearCheckLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("nn: %s: len(%s) = %d, want %d", op, name, got, want))
	}
}
