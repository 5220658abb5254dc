//go:build cuda || cudaemu

package cuda

// MixtureLogProb evaluates the flow's base log-density of B rows on the device
// (nn.MixtureLogProb): logp (B), resp (B, D, K) the responsibilities saved for backward,
// u (B, D), params (3·D·K) logits, means and log-scales in nn.MixtureParams' layout.
func MixtureLogProb(logp, resp, u, params *Buffer[float32], B, D, K int) error {
	return mlcuMixtureLogprobF32(logp, resp, u, params, B, D, K)
}

// MixtureBackward adds the gradients of MixtureLogProb into du (B, D) (nil to skip) and
// dparams (3·D·K), given dlogp (B) (nn.MixtureBackward). The parameter gradients are sums
// over the rows in a fixed order: the same inputs give the same bits.
func MixtureBackward(du, dparams, dlogp, resp, u, params *Buffer[float32], B, D, K int) error {
	return mlcuMixtureBackwardF32(du, dparams, dlogp, resp, u, params, B, D, K)
}
