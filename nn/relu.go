package nn

// ReLUForward sets out[i] = max(inp[i], 0). out and inp have the same length (any shape)
// and may be the same slice (in place): the backward pass needs only out.
func ReLUForward[T Float](out, inp []T) {
	linearCheckLen("ReLUForward", "inp", len(inp), len(out))
	for i, v := range inp {
		if v > 0 {
			out[i] = v
		} else {
			out[i] = 0
		}
	}
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
	if len(dinp) > 0 && &dinp[0] == &dout[0] {
		for i, y := range out {
			if y <= 0 {
				dinp[i] = 0
			}
		}
		return
	}
	for i, y := range out {
		if y > 0 {
			dinp[i] += dout[i]
		}
	}
}
