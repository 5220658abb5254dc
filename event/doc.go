// Package event defines what a simulated binary-lens microlensing event is, for simulation,
// training and inference alike: its parameters and their prior, the standardised vector the
// network models, the time grid of simulated curves and the crop to the observed window,
// the observation (noise) model, the network input, and the presets of the network that
// models it (Preset, and ModelConfig: a network's shape with its standardiser, the form a
// model's config.json takes).
//
// # Parameters
//
// A simulated event has the seven parameters θ = (s, q, α, u0, t0, tE, ρ) of package lens
// (its conventions: lengths in Einstein radii of the total mass, α in radians, times in
// days, u0 signed) and the source flux fraction fs = F_source/(F_source + F_blend) in
// (0, 1], which is 1 when blending is off. Params holds them; ParamNames gives their names
// and order: s, q, alpha, u0, t0, tE, rho, fs. t0 is measured from the start of the
// observed 72-day window.
//
// # The prior file
//
// A prior (Prior) is one independent distribution (Dist) per parameter, read from a JSON
// file by LoadPrior and written by Prior.WriteFile. The file is an object with one key per
// parameter; "fs" is optional (absent or null: blending off). Each value is an object with a
// "family" and the keys that family uses, all numbers in the parameter's units:
//
//	uniform      "min", "max"             uniform on [min, max]
//	log-uniform  "min", "max"             log10 of the value uniform on [log10 min, log10 max]; 0 < min
//	normal       "mean", "sd"             N(mean, sd²); with "min" and "max", truncated to [min, max]
//	log-normal   "mean", "sd"             log10 of the value ~ N(mean, sd²) (mean and sd in dex);
//	                                      with "min" and "max" (values, not logs), truncated to [min, max]
//	fixed        "value"                  always value
//
// The default prior file (DefaultPrior, the prior of Zhang et al. 2021, AJ 161, 262):
//
//	{
//	  "s":     {"family": "log-uniform", "min": 0.2, "max": 5},
//	  "q":     {"family": "log-uniform", "min": 0.001, "max": 1},
//	  "alpha": {"family": "uniform", "min": 0, "max": 6.283185307179586},
//	  "u0":    {"family": "uniform", "min": 0, "max": 2},
//	  "t0":    {"family": "uniform", "min": 0, "max": 72},
//	  "tE":    {"family": "log-normal", "mean": 1.15, "sd": 0.45, "min": 1, "max": 100},
//	  "rho":   {"family": "log-uniform", "min": 0.0001, "max": 0.01}
//	}
//
// that is log10 s ~ U(log10 0.2, log10 5), log10 q ~ U(−3, 0), α ~ U(0, 2π), u0 ~ U(0, 2),
// t0 ~ U(0, 72) d, log10 tE ~ N(1.15, 0.45²) truncated to [log10 1, log10 100], log10 ρ ~
// U(−4, −2). Blending is turned on by adding, for example,
//
//	"fs": {"family": "log-uniform", "min": 0.1, "max": 1}
//
// Unknown keys, keys a family does not use, a missing parameter, inverted bounds, sd ≤ 0,
// non-positive bounds of a log family and a truncation more than 30 sd from the mean are
// errors naming the parameter and the key. So is any prior that can give an event outside
// what the simulator supports: s, q and ρ outside lens.ValidateBinary's and
// lens.ValidateRho's ranges (ρ may be fixed at 0, a point source), tE ≤ 0, fs outside
// (0, 1], and t0 outside [0, 72] d, the window the crop can place the event in.
//
// # Sampling
//
// Prior.Sample draws s, q, α, u0, t0, tE, ρ, fs in that order, each by the inverse-CDF
// transform (Dist.Quantile) of one open uniform variate from an internal/rng Source, so a
// draw consumes exactly 8 raw outputs whatever the families (a fixed parameter, and fs when
// blending is off, consume one too). Truncated normals are inverted exactly, on the lower
// tail of their mirror image when that keeps precision. The same seed therefore gives the
// same events on every machine (up to the last bits of math.Log/Exp/Erfc between
// architectures).
//
// # The standardised vector
//
// The network models the vector (log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ[, log10 fs]),
// each coordinate mapped affinely from its prior range to [−1, 1]; parameters the prior
// fixes are left out. Standardizer, built from a Prior by NewStandardizer, is the only place
// this mapping is defined, and its JSON form is saved with every model.
//
// # Time grid and crop
//
// Curves are sampled every Cadence = 0.01 d. A stored (noise-free) curve is the
// magnification of the event with t0 = 0 (Params.CentredEvent) at the StoredPoints = 14,400
// times τ_i = (i − 7200)·0.01 d (StoredTimes), 144 days centred on the event. The network
// sees a 72-day window of WindowPoints = 7,200 samples cut from it: CropOffset(t0) returns
// the first stored index k = 7200 − round(t0/0.01) of the window that puts the event t0 days
// after the window's start, with t0 quantised to the cadence (the label to train on). For t0
// in [0, 72] the window always lies inside the stored curve.
//
// # Observation model
//
// With the baseline flux F0 = SNR² detector counts, a sample of magnification A has the
// expected flux F = F0·(fs·A + 1 − fs) and Gaussian noise of σ = √F counts. The network's
// input is the flux normalised by the baseline,
//
//	x = F_obs/F0 = fs·A + 1 − fs + n/F0,   n ~ N(0, F),
//
// so x = 1 at baseline and its standard deviation is √(fs·A + 1 − fs)/SNR (Observation,
// AddNoise). Real photometry is normalised the same way, by its baseline flux (Normalise).
// The SNR of each simulated curve is drawn from NoiseConfig, by default SNR ~ U(23, 200);
// its JSON form is {"snr": {"family": "uniform", "min": 23, "max": 200}}.
package event
