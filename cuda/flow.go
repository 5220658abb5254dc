//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/nn"
)

// FlowSampler draws samples of a conditional MAF on the device with the fused sampling
// kernel (kernels/maf_sample.cu): base draws and the inverse of every block in one launch.
// It holds the flow's masked parameters, orderings and base tables in device memory; call
// Refresh after the flow's parameters change. CPU reference: nn.MAFSample.
type FlowSampler struct {
	Shape nn.MAFShape
	// TileRows is the number of samples one thread block carries through the flow, Threads
	// its threads (a multiple of 32). The defaults (32, 256) keep the paper flow's tile in
	// 66 KB of shared memory.
	TileRows, Threads int

	eff    *Buffer[float32] // masked parameters, nn's flat layout
	packed *Buffer[float32] // the blocks' masked weights in the kernel's layout (mlcu_maf_pack)
	lo     madeOffsets      // one block's layout in eff
	order  *Buffer[int32]   // (NB, D)
	mix    *Buffer[float32] // (3, D, K) means, σ, cumulative weights
	cterm  *Buffer[float32] // (NB, E, H) context terms of the current call
	host   *nn.MAF[float32] // the flow whose parameters were uploaded
	hEff   []float32
	hCt    []float32
}

// NewFlowSampler uploads f (see Refresh) and returns its sampler.
func NewFlowSampler(f *nn.MAF[float32]) (*FlowSampler, error) {
	s := f.Shape
	if s.MoG() {
		return nil, errMoG
	}
	fs := &FlowSampler{Shape: s, TileRows: 32, Threads: 256, host: f, lo: madeLayout(s.MADE())}
	var err error
	if fs.eff, err = Alloc[float32](s.NumParams()); err == nil {
		if fs.packed, err = Alloc[float32](mlcuMAFPackedSize(s.D, s.H, s.L, s.NB)); err == nil {
			if fs.order, err = Alloc[int32](s.NB * s.D); err == nil {
				fs.mix, err = Alloc[float32](3 * s.D * s.K)
			}
		}
	}
	if err != nil {
		fs.Free()
		return nil, err
	}
	ord := make([]int32, 0, s.NB*s.D)
	for _, m := range f.Made {
		for _, i := range m.Order {
			ord = append(ord, int32(i))
		}
	}
	if err := fs.order.Upload(ord); err != nil {
		fs.Free()
		return nil, err
	}
	if err := fs.Refresh(); err != nil {
		fs.Free()
		return nil, err
	}
	return fs, nil
}

// Free releases the device memory.
func (fs *FlowSampler) Free() {
	fs.eff.Free()
	fs.packed.Free()
	fs.order.Free()
	fs.mix.Free()
	fs.cterm.Free()
}

// Refresh uploads the flow's current parameters: the masked copy of the blocks (the
// effective weights W⊙M), packed for the kernel, and the base's tables — means,
// σ = exp(log-scale) and nn.MixtureCumWeights normalised to end at exactly 1.
func (fs *FlowSampler) Refresh() error {
	f, s := fs.host, fs.Shape
	fs.hEff = append(fs.hEff[:0], f.Params...)
	blocks, _ := f.View(fs.hEff)
	for b, m := range f.Made {
		blocks[b].ApplyMasks(m)
	}
	if err := fs.eff.Upload(fs.hEff); err != nil {
		return err
	}
	if err := mlcuMAFPack(fs.packed, fs.eff, s.D, s.C, s.H, s.L, s.NB); err != nil {
		return err
	}
	D, K := s.D, s.K
	cum := nn.MixtureCumWeights(f.Base, D, K)
	mix := make([]float32, 3*D*K)
	for j := range D * K {
		i := j / K
		mix[j] = f.Base.Means[j]
		mix[D*K+j] = float32(math.Exp(float64(f.Base.LogScales[j])))
		mix[2*D*K+j] = float32(cum[j] / cum[i*K+K-1])
	}
	for i := range D {
		mix[2*D*K+i*K+K-1] = 1
	}
	return fs.mix.Upload(mix)
}

// contextTermsDevice computes each block's context term ctx·Wcᵀ + b0 on the device for the
// E contexts ctx (E, C) already in device memory (the device featurizer's output).
func (fs *FlowSampler) contextTermsDevice(ctx *Buffer[float32], E int) error {
	s := fs.Shape
	n := s.NB * E * s.H
	if fs.cterm == nil || fs.cterm.Len() < n {
		fs.cterm.Free()
		var err error
		if fs.cterm, err = Alloc[float32](n); err != nil {
			return err
		}
	}
	lo := fs.lo
	for b := range s.NB {
		w := fs.eff.Slice(b*lo.N, (b+1)*lo.N)
		ct := fs.cterm.Slice(b*E*s.H, (b+1)*E*s.H)
		b0 := w.Slice(lo.B0, lo.B0+s.H)
		if s.C > 0 {
			if err := LinearForward(ct, ctx, w.Slice(lo.Wc, lo.Wc+s.H*s.C), b0, E, s.C, s.H); err != nil {
				return err
			}
			continue
		}
		if err := ct.Zero(); err != nil {
			return err
		}
		if err := addBias(ct, b0, E, s.H, 1); err != nil {
			return err
		}
	}
	return nil
}

// SampleDeviceCtx draws S samples for each of the E contexts ctx (E, C), in device memory
// (the device featurizer's output), into out (E·S, D) on the device; the context terms are
// computed on the device. uIn (E·S, D), when not nil, gives the base draws (the parity tests
// pass the CPU's); otherwise they are drawn with Philox key seed, row r of this call using the
// counters of global row row0 + r. uOut, when not nil, receives the base draws. (The tests'
// SampleDevice takes host contexts.)
func (fs *FlowSampler) SampleDeviceCtx(out, uIn, uOut, ctx *Buffer[float32], E, S int, seed uint64, row0 int64) error {
	if fs.Shape.C > 0 && ctx.Len() != E*fs.Shape.C {
		panic(fmt.Sprintf("cuda: FlowSampler.SampleDeviceCtx: %d context values, want E·%d = %d", ctx.Len(), fs.Shape.C, E*fs.Shape.C))
	}
	if err := fs.contextTermsDevice(ctx, E); err != nil {
		return err
	}
	return fs.launch(out, uIn, uOut, E, S, seed, row0)
}

// launch runs the fused sampling kernel with the context terms in fs.cterm.
func (fs *FlowSampler) launch(out, uIn, uOut *Buffer[float32], E, S int, seed uint64, row0 int64) error {
	s := fs.Shape
	if E < 1 || S < 1 || out.Len() < E*S*s.D ||
		(uIn != nil && uIn.Len() < E*S*s.D) || (uOut != nil && uOut.Len() < E*S*s.D) {
		panic(fmt.Sprintf("cuda: FlowSampler: E = %d, S = %d, out %d: want E, S ≥ 1 and E·S·%d values", E, S, out.Len(), s.D))
	}
	return mlcuMAFSample(out, uOut, uIn, fs.packed, fs.order, fs.cterm, fs.mix, s.D, s.C, s.H, s.L, s.NB, s.K,
		E, S, seed, row0, fs.TileRows, fs.Threads)
}
