// Package dataset is mlcu's on-disk format of simulated events and its reader: a directory
// with a manifest (ManifestName: the prior, seed, split, event count, shard count and
// accuracy goal that define every event) and shards of noise-free magnification curves
// (float32 .npy, event.StoredPoints per event) with their parameters (float64 .npy).
// WriteDataset simulates and writes the shards (Simulator, on a CurveBackend: the CPU's
// lens.LightCurve or the CUDA kernels), resumably and byte-for-byte the same for the same
// manifest on every backend and batching; OpenDataset reads one back; Reader serves
// training batches with random crops (event.CropOffset) and noise (event.AddNoise).
// Splits derive independent seeds for train, val and test (SplitSeed).
package dataset
