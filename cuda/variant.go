package cuda

import "github.com/mlcu/mlcu/nn"

// Variant returns c with the parts the device kernels implement: batch-normalised blocks
// and the unconditional mixture base. The paper preset is weight-normalised with a MADE-MoG
// base, as the published network; on the device it trains and is benchmarked in this
// variant, which has the same shapes (and, the normalisation and base being a small part of
// the cost, nearly the same arithmetic).
func Variant(c nn.ModelConfig) nn.ModelConfig {
	c.Featurizer.Norm, c.Flow.Base = nn.NormBatch, nn.BaseMixture
	return c
}
