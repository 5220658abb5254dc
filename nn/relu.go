package nn

import "math"

// ReLUForward sets out[i] = max(inp[i], 0). out and inp have the same length (any shape)
// and may be the same slice (in place): the backward pass needs only out. A NaN input
// gives NaN. The loop is branch-free (Go's max), which matters: activations are positive
// or negative at random, and a branch mispredicted half the time cost 5 ns per element.
func ReLUForward[T Float](out, inp []T) {
	linearCheckLen("ReLUForward", "inp", len(inp), len(out))
	parallelFor(len(out), len(out), func(lo, hi int) {
		o := out[lo:hi]
		for i, v := range inp[lo:hi] {
			o[i] = max(v, 0)
		}
	})
}

// ReLUBackward adds the gradient of ReLUForward into dinp: dinp[i] += dout[i]·1[out[i] > 0],
// where out is the forward output (the derivative at 0 is taken as 0). dinp, dout and out
// have the same length.
//
// dinp may be the same slice as dout (in place); it then cannot also hold an earlier
// gradient, and the result is dout[i]·1[out[i] > 0], overwriting dout. Other overlaps of
// dinp and dout are not allowed.
func ReLUBackward[T Float](dinp, dout, out []T) {
	const op = "ReLUBackward"
	linearCheckLen(op, "dout", len(dout), len(dinp))
	linearCheckLen(op, "out", len(out), len(dinp))
	inPlace := len(dinp) > 0 && &dinp[0] == &dout[0]
	parallelFor(len(dinp), len(dinp), func(lo, hi int) {
		switch d := any(dinp[lo:hi]).(type) {
		case []float32:
			reluBackward32(d, any(dout[lo:hi]).([]float32), any(out[lo:hi]).([]float32), inPlace)
		case []float64:
			reluBackward64(d, any(dout[lo:hi]).([]float64), any(out[lo:hi]).([]float64), inPlace)
		default:
			for i, y := range out[lo:hi] {
				if y > 0 {
					dinp[lo+i] += dout[lo+i]
				} else if inPlace {
					dinp[lo+i] = 0
				}
			}
		}
	})
}

// reluBackward32 is ReLUBackward for float32 without branches in the loop: the gradient is
// masked by the sign bits of out (mask all ones exactly when out > 0 as an int32, that is
// when out is positive and not a zero; a NaN out passes only with its sign bit clear).
func reluBackward32(dinp, dout, out []float32, inPlace bool) {
	dout, out = dout[:len(dinp)], out[:len(dinp)]
	for i, y := range out {
		s := int32(math.Float32bits(y))
		g := math.Float32frombits(math.Float32bits(dout[i]) & uint32(^((s-1)|s)>>31))
		if inPlace {
			dinp[i] = g
		} else {
			dinp[i] += g
		}
	}
}

// reluBackward64 is reluBackward32 for float64.
func reluBackward64(dinp, dout, out []float64, inPlace bool) {
	dout, out = dout[:len(dinp)], out[:len(dinp)]
	for i, y := range out {
		s := int64(math.Float64bits(y))
		g := math.Float64frombits(math.Float64bits(dout[i]) & uint64(^((s-1)|s)>>63))
		if inPlace {
			dinp[i] = g
		} else {
			dinp[i] += g
		}
	}
}
