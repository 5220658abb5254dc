package nn

import "fmt"

// MaxPool1dForward takes the maximum over non-overlapping windows of 2 along the last axis
// (PyTorch's nn.MaxPool1d(2): kernel 2, stride 2, no padding):
//
//	out[b,c,j] = max(inp[b,c,2j], inp[b,c,2j+1]),  j < L/2,
//
//	out (B, C, L/2), idx (B, C, L/2), inp (B, C, L).
//
// For odd L the output length is floor(L/2) and the last input element is dropped. idx
// saves for the backward pass the position l in [0, L) of each window's maximum within its
// (b, c) row; ties go to the first element. It panics when a slice's length does not match
// its shape or when L ≥ 2³¹.
func MaxPool1dForward[T Float](out []T, idx []int32, inp []T, B, C, L int) {
	const op = "MaxPool1dForward"
	Lo := L / 2
	linearCheckLen(op, "out", len(out), B*C*Lo)
	linearCheckLen(op, "idx", len(idx), B*C*Lo)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	if int64(L) > 1<<31-1 {
		panic(fmt.Sprintf("nn: %s: L = %d does not fit int32 indices", op, L))
	}
	parallelFor(B*C, 4*B*C*L, func(lo, hi int) { // rows (b, c) are independent
		for bc := lo; bc < hi; bc++ {
			x := inp[bc*L : (bc+1)*L]
			y := out[bc*Lo : (bc+1)*Lo]
			ix := idx[bc*Lo : (bc+1)*Lo]
			for j := range y {
				a, b := x[2*j], x[2*j+1]
				if a >= b {
					y[j], ix[j] = a, int32(2*j)
				} else {
					y[j], ix[j] = b, int32(2*j+1)
				}
			}
		}
	})
}

// MaxPool1dBackward adds the gradient of MaxPool1dForward into dinp, routing each output
// gradient to the input element that was the window's maximum:
//
//	dinp[b,c,idx[b,c,j]] += dout[b,c,j],
//
//	dinp (B, C, L), dout (B, C, L/2), idx (B, C, L/2) as saved by the forward pass.
//
// It panics when a slice's length does not match its shape.
func MaxPool1dBackward[T Float](dinp, dout []T, idx []int32, B, C, L int) {
	const op = "MaxPool1dBackward"
	Lo := L / 2
	linearCheckLen(op, "dinp", len(dinp), B*C*L)
	linearCheckLen(op, "dout", len(dout), B*C*Lo)
	linearCheckLen(op, "idx", len(idx), B*C*Lo)
	parallelFor(B*C, B*C*L, func(lo, hi int) {
		for bc := lo; bc < hi; bc++ {
			dx := dinp[bc*L : (bc+1)*L]
			for j, g := range dout[bc*Lo : (bc+1)*Lo] {
				dx[idx[bc*Lo+j]] += g
			}
		}
	})
}
