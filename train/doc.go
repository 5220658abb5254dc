// Package train fits the neural posterior to simulated events by maximum likelihood: the
// training loop (Train) over a dataset (package dataset) with validation, learning-rate and
// checkpoint handling, on a Backend (the CPU's nn.Model, or the CUDA trainer). A run writes
// into its output directory the last checkpoint (LastDir, with the Adam state, for
// --resume), the best one by validation loss (BestDir), the log (LogFile) and the loss curve
// (LossPNGFile); a checkpoint holds the weights and the config.json of event.ModelConfig
// (the network's shape and its standardiser), which package infer loads.
package train
