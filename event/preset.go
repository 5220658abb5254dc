package event

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mlcu/mlcu/nn"
)

// PresetOrderSeed is the seed of the flow's block orderings in every preset.
const PresetOrderSeed = 20240601

// presets maps a name to its configuration.
var presets = map[string]nn.ModelConfig{
	// paper: the estimator of Zhang et al. 2021 (AJ 161, 262) in the shape of the authors'
	// library (nbi, src/nbi/nn/resnet.py): 7200 input points, one channel; an 18-layer
	// ResNet of 9 stages of 2 residual blocks (36 kernel-3 convolutions), 32 channels in the
	// first stage doubling per stage up to 256, a MaxPool1d(2) between stages (8 pools:
	// length 7200 → 28); a 2-layer GRU of 256 over the 28 steps; context 256; 20 MADE
	// blocks of 2 hidden layers of 256; weight-normalised convolutions and a MADE-MoG base
	// of 8 components per dimension, as nbi. The CUDA kernels implement batch norm and the
	// unconditional mixture base only: on the device this preset trains as cuda.Variant
	// (mlcu train --preset paper --norm batch --base mixture), with the same shapes.
	"paper": {
		Preset: "paper", InputLen: 7200, Bin: 1,
		Featurizer: nn.FeaturizerShape{L: 7200, C0: 32, Cmax: 256, K: 3, Blocks: 18, PoolEvery: 2, NoFinalPool: true,
			GRUHidden: 256, GRULayers: 2, Context: 256, Norm: nn.NormWeight},
		Flow: nn.MAFShape{D: 7, C: 256, H: 256, L: 2, NB: 20, K: 8, OrderSeed: PresetOrderSeed, Base: nn.BaseMADEMoG},
	},
	// small: the same architecture for a 2-core CPU. The 7200-point window is mean-binned
	// 8× to 900 points; 4 blocks, 16 channels doubling after every pool up to 64 (length
	// 900 → 56); a 1-layer GRU of 64; context 64; 5 MADE blocks of 2×64; 8 components.
	// Chosen by timing forward+backward (float32, training mode, batch 32, one goroutine,
	// gonum BLAS, 2-core AMD EPYC; BenchmarkModelSmall): this config 150–158 examples/s,
	// against 2.7/s for paper at batch 8 (≈ 60× cheaper). Variants measured in the same
	// run: 4× binning (1800 points, 5 blocks) 76/s; channels 32→128 31/s; a flow of 10
	// blocks of 2×128 141/s. The featurizer dominates the cost; the flow is nearly free.
	// Weight-normalised (measured at equal budget, 17,921 steps of batch 32 on 100,000
	// events, docs/evaluation.md: validation NLL −4.52 against −2.67 with batch norm, whose
	// batch statistics a single event at inference does not have); the mixture base, whose
	// NLL (−4.52) beat the MADE-MoG's (−4.42) at that budget.
	"small": {
		Preset: "small", InputLen: 7200, Bin: 8,
		Featurizer: nn.FeaturizerShape{L: 900, C0: 16, Cmax: 64, K: 3, Blocks: 4, PoolEvery: 1,
			GRUHidden: 64, GRULayers: 1, Context: 64, Norm: nn.NormWeight},
		Flow: nn.MAFShape{D: 7, C: 64, H: 64, L: 2, NB: 5, K: 8, OrderSeed: PresetOrderSeed},
	},
}

// PresetNames returns the names Preset accepts, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the model configuration called name ("paper" or "small"; see the
// comments in preset.go), for θ of dimension 7. An unknown name is an error that lists the
// presets.
func Preset(name string) (nn.ModelConfig, error) {
	c, ok := presets[name]
	if !ok {
		return nn.ModelConfig{}, fmt.Errorf("unknown model preset %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return c, nil
}

// ModelConfig is a model's config.json: the network's shape and the standardisation of θ
// it was trained with (Standardizer, the map between physical parameters and the flow's
// coordinates). The JSON keys are nn.ModelConfig's and "standardizer" at one level.
type ModelConfig struct {
	nn.ModelConfig
	Standardizer *Standardizer `json:"standardizer,omitempty"`
	// Input is the network input the model was trained on (InputVersion when trained by
	// this mlcu); a model without it predates the input's baseline normalisation.
	Input string `json:"input,omitempty"`
}

// ParseModelConfig reads a config.json document (name is the file, for errors) and checks
// that the standardizer is present and matches the flow's dimension.
func ParseModelConfig(data []byte, name string) (ModelConfig, error) {
	var mc ModelConfig
	if err := json.Unmarshal(data, &mc); err != nil {
		return mc, fmt.Errorf("%s: %v", name, err)
	}
	if mc.Standardizer == nil {
		return mc, fmt.Errorf("%s: no standardizer (not a model trained by mlcu train)", name)
	}
	if mc.Standardizer.Dim() != mc.Flow.D {
		return mc, fmt.Errorf("%s: standardizer has %d coordinates, flow models %d", name, mc.Standardizer.Dim(), mc.Flow.D)
	}
	if mc.Input != InputVersion {
		was := fmt.Sprintf("input %q", mc.Input)
		if mc.Input == "" {
			was = "the input of mlcu before the baseline normalisation (no \"input\" key)"
		}
		return mc, fmt.Errorf("%s: the model was trained on %s; this mlcu computes input %q: train the model again", name, was, InputVersion)
	}
	return mc, nil
}
