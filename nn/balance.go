package nn

import "math"

// Balance is the balancing penalty of balanced neural posterior estimation (BNPE; Delaunoy
// et al. 2023, "Balancing simulation-based inference for conservative posteriors"), which
// makes a trained posterior conservative rather than overconfident. The posterior q(θ | x)
// defines a classifier d(θ, x) = σ(log q(θ | x) − log p(θ)) between joint pairs (θ, x) and
// marginal pairs (θ', x), θ' drawn from the prior independently of x; the penalty
//
//	λ·(E_joint[d] + E_marginal[d] − 1)²
//
// added to the negative log-likelihood vanishes for the true posterior (the Bayes-optimal
// classifier is balanced) and pushes the estimate away from overconfidence otherwise. In a
// batch the marginal pairs are the batch's θ rolled by one row: θ'_b = θ_{b−1}, with x_b's
// context (the batches are shuffled, so θ_{b−1} is independent of x_b).
type Balance struct {
	// Lambda is λ; 0 turns the penalty off. Delaunoy et al. use 100.
	Lambda float64
	// LogPrior returns log p(y), the prior's density of a standardised θ (the flow's
	// coordinates; package event's PriorLogDensity). It must be set when Lambda > 0.
	LogPrior func(y []float64) float64
}

// balanceActs is the workspace of the penalty for one batch size: the rolled θ, its flow
// pass, the prior log-densities and the classifier outputs.
type balanceActs[T Float] struct {
	theta   []T // (B, D) θ rolled by one row
	work    *MAFWork[T]
	logp    []T       // (B) log q(θ_{b−1} | x_b)
	dlogp   []T       // (B)
	lprior  []float64 // (B) log p(θ_b)
	dJoint  []float64 // (B) d(θ_b, x_b)
	dMarg   []float64 // (B) d(θ_{b−1}, x_b)
	penalty float64   // λ·(m − 1)² of the last pass
	coef    float64   // 2λ(m − 1)/B, the penalty's derivative with respect to each d
}

// sigmoid is σ(v) = 1/(1 + e^−v), computed without overflow for either sign.
func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// balanceForward evaluates the penalty of the batch theta (B, D) whose joint
// log-densities logp and contexts ctx the caller has just computed, saving what
// balanceBackward needs in ba.
func balanceForward[T Float](ba *balanceActs[T], bal Balance, logp, theta, ctx []T, f *MAF[T], B int) float64 {
	D := f.Shape.D
	y := make([]float64, D)
	for b := range B {
		for j := range D {
			y[j] = float64(theta[b*D+j])
		}
		ba.lprior[b] = bal.LogPrior(y)
		src := (b + B - 1) % B
		copy(ba.theta[b*D:(b+1)*D], theta[src*D:(src+1)*D])
	}
	MAFLogProb(ba.logp, ba.work, ba.theta, ctx, f, B)
	m := 0.0
	for b := range B {
		ba.dJoint[b] = sigmoid(float64(logp[b]) - ba.lprior[b])
		ba.dMarg[b] = sigmoid(float64(ba.logp[b]) - ba.lprior[(b+B-1)%B])
		m += ba.dJoint[b] + ba.dMarg[b]
	}
	m /= float64(B)
	ba.penalty = bal.Lambda * (m - 1) * (m - 1)
	ba.coef = 2 * bal.Lambda * (m - 1) / float64(B)
	return ba.penalty
}

// balanceBackward adds the penalty's gradient with respect to the joint log-densities into
// dlogp (B) and runs the rolled pass's flow backward, adding into dparams and dctx.
func balanceBackward[T Float](ba *balanceActs[T], dparams, dctx, dlogp, ctx []T, f *MAF[T], B int) {
	for b := range B {
		dj, dm := ba.dJoint[b], ba.dMarg[b]
		dlogp[b] += T(ba.coef * dj * (1 - dj))
		ba.dlogp[b] = T(ba.coef * dm * (1 - dm))
	}
	MAFBackward(dparams, nil, dctx, ba.dlogp, ba.work, ctx, f, B)
}
