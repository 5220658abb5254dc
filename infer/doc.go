// Package infer is posterior inference as a library: it loads a trained neural posterior
// estimator (LoadModel), turns a light curve or a dataset event into the network's input
// (ReadLightCurve, LightCurveInput, DatasetInput), draws posterior samples through one
// Sampler interface (CPUSampler here; the CUDA sampler through package device) with the
// draws outside the prior's support rejected and α wrapped modulo 2π (Model.Posterior), and
// summarises them by quantiles (Samples.Summary).
//
// The estimator is the neural posterior estimator of Zhang et al. 2021 (AJ 161, 262): a
// ResNet-GRU featurizer of the light curve conditioning a masked autoregressive flow over
// the standardised parameters (package event's Standardizer). Its samples are in physical
// units, in package lens's conventions: s and ρ in Einstein radii of the total mass, α in
// radians, t0 and tE in days, u0 signed (package event's prior keeps u0 ≥ 0).
package infer
