// Package evaluate measures a trained posterior estimator on a test dataset (mlcu eval):
// for each event, posterior samples from the model, the 1-D marginals by kernel density
// estimation (Estimate) with their modes, the criteria of Zhang et al. (2021, AJ 161, 262)
// — "constrained" (the peak posterior density at least twice the prior's) and "correct"
// (the truth nearest the global mode) — the coverage of central credible intervals,
// simulation-based-calibration ranks (Talts et al. 2018, arXiv:1804.06788) and the TARP
// test of joint calibration (Lemos et al. 2023, ICML, arXiv:2302.03026).
//
// Every number is in the model's coordinates: log10 s, log10 q, α [rad], u0, t0 [d from
// the window's start], log10 tE [d], log10 ρ — the standardiser's coordinates before its
// affine map to [−1, 1] — except TARP, which measures distances in the standardised
// coordinates (each prior range mapped to [−1, 1], so every parameter weighs alike).
package evaluate
