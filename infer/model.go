package infer

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/nn"
)

// Names inside a model directory written by mlcu train (package train).
const (
	BestDir = "best" // checkpoint with the lowest validation NLL
	LastDir = "last" // checkpoint of the last step
)

// Model is a trained posterior estimator: the network and the standardisation of θ it was
// trained with.
type Model struct {
	Net          *nn.Model[float32]
	Standardizer event.Standardizer
	Dir          string // the checkpoint directory it was loaded from
}

// LoadModel loads a checkpoint directory written by mlcu train, or a model directory that
// holds best/ (preferred) or last/. Its config must carry a standardizer of the flow's
// dimension, and every weight must be finite; errors name the file.
func LoadModel(dir string) (*Model, error) {
	for _, sub := range []string{BestDir, LastDir} {
		if _, err := os.Stat(filepath.Join(dir, sub, nn.ModelFile)); err == nil {
			dir = filepath.Join(dir, sub)
			break
		}
	}
	ck, err := nn.LoadCheckpoint[float32](dir)
	if err != nil {
		return nil, err
	}
	mc, err := event.ParseModelConfig(ck.Config, filepath.Join(dir, nn.ConfigFile))
	if err != nil {
		return nil, err
	}
	net, err := nn.NewModel[float32](mc.ModelConfig)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, nn.ConfigFile), err)
	}
	if err := nn.CopyTensors(append(net.ParamTensors(), net.BufferTensors()...), ck.Tensors, filepath.Join(dir, nn.ModelFile)); err != nil {
		return nil, err
	}
	return &Model{Net: net, Standardizer: *mc.Standardizer, Dir: dir}, nil
}

// Names returns the names of the parameters the model's samples hold, in order: s, q,
// alpha, u0, t0, tE, rho, and fs when the prior has blending.
func (m *Model) Names() []string {
	if _, ok := m.Standardizer.Fixed["fs"]; !ok {
		return event.ParamNames[:]
	}
	return event.ParamNames[:7]
}
