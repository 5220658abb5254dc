package nn

import "testing"

// benchModel times one forward and backward pass of the preset's float32 model in training
// mode on a random batch of B examples and reports examples/s.
func benchModel(b *testing.B, name string, B int) {
	c := mustPreset(b, name)
	m, err := NewModel[float32](c)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	x, theta := randBatch[float32](c, B, 1)
	m.LossForward(x, theta, true) // allocate the activations
	b.ResetTimer()
	for range b.N {
		m.LossForward(x, theta, true)
		m.LossBackward(nil)
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "examples/s")
}

func BenchmarkModelSmall(b *testing.B) { benchModel(b, "small", 32) }
func BenchmarkModelPaper(b *testing.B) { benchModel(b, "paper", 8) }
