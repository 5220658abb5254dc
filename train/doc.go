// Package train will hold the priors, the noise model, dataset simulation and storage, the
// training loop and evaluation (issues 3 and 4). It has no code yet.
package train
