// Package nn will hold mlcu's tensors, layers with hand-written forward and backward passes,
// the ResNet-GRU featurizer, MADE, MAF and the Gaussian-mixture base (issue 4). It has no
// code yet; it will not know about microlensing.
package nn
