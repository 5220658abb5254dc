//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/mlcu/mlcu/nn"
)

// MAF is the device-side training pass of a conditional MAF (nn.MAFLogProb and
// nn.MAFBackward): the masked linear layers are SGEMMs with the effective weights W⊙M, their
// weight gradients are masked again, and the element-wise parts run in made.cu and
// mixture.cu. It holds the workspace for up to B rows (the device mirror of nn.MAFWork);
// the parameters and gradients are device buffers in nn's flat layout (nn.MAF.Params).
type MAF struct {
	Shape nn.MAFShape
	B     int
	lo    madeOffsets // one block's layout

	mask   *F32   // (NumParams) 1, or the MADE mask of a masked weight
	eff    *F32   // (NumParams) params ⊙ mask
	X      []*F32 // NB+1 × (B, D): X[0] = θ, X[NB] = u
	logdet *F32   // (NB, B)
	H      [][]*F32
	O      []*F32 // NB × (B, 2D) (μ, α)
	baseLP *F32   // (B)
	resp   *F32   // (B, D, K)
	dX     [2]*F32
	dA, dB *F32 // (B, H)
	dO     *F32 // (B, 2D)
	tmp    *F32 // max(H·H, 2D·H, H·D)
	all    []*F32
}

// madeOffsets are the offsets of one block's tensors inside its parameter slice, read off
// nn.NewMADEParams' views (so they follow nn's layout); Wc is −1 without context.
type madeOffsets struct {
	W0, Wc, B0, Wo, Bo int
	Wh, Bh             []int
	N                  int
}

func madeLayout(s nn.MADEShape) madeOffsets {
	flat := make([]float32, s.NumParams())
	p := nn.NewMADEParams(s, flat)
	at := func(v []float32) int { return nn.OffsetIn(flat, v) }
	o := madeOffsets{W0: at(p.W0), Wc: at(p.Wc), B0: at(p.B0), Wo: at(p.Wo), Bo: at(p.Bo), N: len(flat)}
	for l := range p.Wh {
		o.Wh = append(o.Wh, at(p.Wh[l]))
		o.Bh = append(o.Bh, at(p.Bh[l]))
	}
	return o
}

// NewMAF allocates the workspace of f for up to B rows and uploads its masks.
func NewMAF(f *nn.MAF[float32], B int) (*MAF, error) {
	s := f.Shape
	if s.MoG() {
		return nil, errMoG
	}
	m := &MAF{Shape: s, B: B, lo: madeLayout(s.MADE())}
	// alloc records the first error and returns nil from then on; NewMAF checks it once
	// every buffer is asked for (nothing is launched before).
	var err error
	alloc := func(n int) *F32 {
		if err != nil {
			return nil
		}
		var b *F32
		if b, err = Alloc[float32](max(n, 1)); err != nil {
			return nil
		}
		m.all = append(m.all, b)
		return b
	}
	if err := Init(); err != nil {
		return nil, err
	}
	D, H := s.D, s.H
	m.mask, m.eff = alloc(s.NumParams()), alloc(s.NumParams())
	for range s.NB + 1 {
		m.X = append(m.X, alloc(B*D))
	}
	m.logdet = alloc(s.NB * B)
	for range s.NB {
		var hs []*F32
		for range s.L {
			hs = append(hs, alloc(B*H))
		}
		m.H = append(m.H, hs)
		m.O = append(m.O, alloc(B*2*D))
	}
	m.baseLP, m.resp = alloc(B), alloc(B*D*s.K)
	m.dX = [2]*F32{alloc(B * D), alloc(B * D)}
	m.dA, m.dB, m.dO = alloc(B*H), alloc(B*H), alloc(B*2*D)
	m.tmp = alloc(max(H*H, 2*D*H, H*D))
	if err != nil {
		m.Free()
		return nil, err
	}
	// The mask vector: ones, with each block's M0, Mh and Mo over its masked weights.
	mask := make([]float32, s.NumParams())
	for i := range mask {
		mask[i] = 1
	}
	lo := m.lo
	for b, md := range f.Made {
		base := b * lo.N
		copy(mask[base+lo.W0:], md.M0)
		for l := range lo.Wh {
			copy(mask[base+lo.Wh[l]:], md.Mh)
		}
		copy(mask[base+lo.Wo:], md.Mo)
	}
	if err := m.mask.Upload(mask); err != nil {
		m.Free()
		return nil, err
	}
	return m, nil
}

// Free releases the workspace.
func (m *MAF) Free() {
	for _, b := range m.all {
		b.Free()
	}
	m.all = nil
}

func (m *MAF) rows(b *F32, B, w int) *F32 { return b.Slice(0, B*w) }

// LogProb evaluates logp (B) = log p(θ | c) for theta (B, D) and ctx (B, C) (nil when C = 0)
// with the flow parameters params (NumParams), keeping what Backward needs.
func (m *MAF) LogProb(logp, params, theta, ctx *F32, B int) error {
	defer profileScope("maf forward")()
	s := m.Shape
	D, C, H := s.D, s.C, s.H
	if B > m.B || logp.n != B || theta.n != B*D || params.n != s.NumParams() || (C > 0 && ctx.n != B*C) {
		panic(fmt.Sprintf("cuda: MAF.LogProb: B = %d (workspace %d), len logp %d theta %d params %d", B, m.B, logp.n, theta.n, params.n))
	}
	if err := mlcuMulF32(m.eff, params, m.mask, params.n); err != nil {
		return err
	}
	if err := m.X[0].Slice(0, B*D).CopyFrom(theta); err != nil {
		return err
	}
	lo := m.lo
	for b := range s.NB {
		w := m.eff.Slice(b*lo.N, (b+1)*lo.N)
		at := func(off, n int) *F32 { return w.Slice(off, off+n) }
		x, y := m.rows(m.X[b], B, D), m.rows(m.X[b+1], B, D)
		h0 := m.rows(m.H[b][0], B, H)
		beta := float32(0)
		if C > 0 {
			// h0 (B, H) = ctx (B, C) · Wcᵀ
			if err := Gemm(false, true, B, H, C, 1, ctx, C, at(lo.Wc, H*C), C, 0, h0, H); err != nil {
				return err
			}
			beta = 1
		}
		// h0 += x (B, D) · (W0⊙M0)ᵀ, + b0, ReLU
		if err := Gemm(false, true, B, H, D, 1, x, D, at(lo.W0, H*D), D, beta, h0, H); err != nil {
			return err
		}
		if err := addBias(h0, at(lo.B0, H), B, H, 1); err != nil {
			return err
		}
		if err := ReLUForward(h0, h0); err != nil {
			return err
		}
		for l := 1; l < s.L; l++ {
			hp, h := m.rows(m.H[b][l-1], B, H), m.rows(m.H[b][l], B, H)
			if err := LinearForward(h, hp, at(lo.Wh[l-1], H*H), at(lo.Bh[l-1], H), B, H, H); err != nil {
				return err
			}
			if err := ReLUForward(h, h); err != nil {
				return err
			}
		}
		o := m.rows(m.O[b], B, 2*D)
		if err := LinearForward(o, m.rows(m.H[b][s.L-1], B, H), at(lo.Wo, 2*D*H), at(lo.Bo, 2*D), B, H, 2*D); err != nil {
			return err
		}
		if err := mlcuMADEAffineForwardF32(y, m.logdet.Slice(b*B, (b+1)*B), o, x, B, D); err != nil {
			return err
		}
	}
	base := params.Slice(s.NB*lo.N, params.n)
	if err := MixtureLogProb(m.baseLP.Slice(0, B), m.resp.Slice(0, B*D*s.K), m.rows(m.X[s.NB], B, D), base, B, D, s.K); err != nil {
		return err
	}
	// Block b's logdet is at [b·B, (b+1)·B) for this call's B.
	return mlcuFlowLogpF32(logp, m.baseLP, m.logdet, s.NB, B)
}

// Backward adds the gradients of LogProb into dparams (NumParams), dtheta (B, D) and dctx
// (B, C) (either may be nil), given dlogp (B); params and ctx are those of the forward pass
// (nn.MAFBackward).
func (m *MAF) Backward(dparams, dtheta, dctx, dlogp, params, ctx *F32, B int) error {
	defer profileScope("maf backward")()
	s := m.Shape
	D, C, H := s.D, s.C, s.H
	lo := m.lo
	du, dx := m.rows(m.dX[0], B, D), m.rows(m.dX[1], B, D)
	if err := du.Zero(); err != nil {
		return err
	}
	base, dbase := params.Slice(s.NB*lo.N, params.n), dparams.Slice(s.NB*lo.N, dparams.n)
	if err := MixtureBackward(du, dbase, dlogp, m.resp.Slice(0, B*D*s.K), m.rows(m.X[s.NB], B, D), base, B, D, s.K); err != nil {
		return err
	}
	dA, dB, dO := m.rows(m.dA, B, H), m.rows(m.dB, B, H), m.rows(m.dO, B, 2*D)
	for b := s.NB - 1; b >= 0; b-- {
		w := m.eff.Slice(b*lo.N, (b+1)*lo.N)
		gw := dparams.Slice(b*lo.N, (b+1)*lo.N)
		mk := m.mask.Slice(b*lo.N, (b+1)*lo.N)
		at := func(buf *F32, off, n int) *F32 { return buf.Slice(off, off+n) }
		// maskedGrad: dW (OUT, IN) += (doutᵀ·inp) ⊙ M
		maskedGrad := func(off, OUT, IN int, dout, inp *F32) error {
			tmp := m.tmp.Slice(0, OUT*IN)
			if err := Gemm(true, false, OUT, IN, B, 1, dout, OUT, inp, IN, 0, tmp, IN); err != nil {
				return err
			}
			return mlcuAddMaskedF32(at(gw, off, OUT*IN), tmp, at(mk, off, OUT*IN), OUT*IN)
		}
		if err := dx.Zero(); err != nil {
			return err
		}
		if err := mlcuMADEAffineBackwardF32(dx, dO, du, dlogp, m.rows(m.X[b+1], B, D), m.rows(m.O[b], B, 2*D), B, D); err != nil {
			return err
		}
		hL := m.rows(m.H[b][s.L-1], B, H)
		if err := maskedGrad(lo.Wo, 2*D, H, dO, hL); err != nil {
			return err
		}
		if err := channelSumAdd(at(gw, lo.Bo, 2*D), dO, B, 2*D, 1); err != nil {
			return err
		}
		// dA (B, H) = dO (B, 2D) · Wo_eff (2D, H)
		if err := Gemm(false, false, B, H, 2*D, 1, dO, 2*D, at(w, lo.Wo, 2*D*H), H, 0, dA, H); err != nil {
			return err
		}
		for l := s.L - 1; l >= 1; l-- {
			h, hp := m.rows(m.H[b][l], B, H), m.rows(m.H[b][l-1], B, H)
			if err := ReLUBackward(dA, dA, h); err != nil {
				return err
			}
			if err := maskedGrad(lo.Wh[l-1], H, H, dA, hp); err != nil {
				return err
			}
			if err := channelSumAdd(at(gw, lo.Bh[l-1], H), dA, B, H, 1); err != nil {
				return err
			}
			if err := Gemm(false, false, B, H, H, 1, dA, H, at(w, lo.Wh[l-1], H*H), H, 0, dB, H); err != nil {
				return err
			}
			dA, dB = dB, dA
		}
		if err := ReLUBackward(dA, dA, m.rows(m.H[b][0], B, H)); err != nil {
			return err
		}
		if err := maskedGrad(lo.W0, H, D, dA, m.rows(m.X[b], B, D)); err != nil {
			return err
		}
		if err := channelSumAdd(at(gw, lo.B0, H), dA, B, H, 1); err != nil {
			return err
		}
		// dx (B, D) += dA (B, H) · W0_eff (H, D)
		if err := Gemm(false, false, B, D, H, 1, dA, H, at(w, lo.W0, H*D), D, 1, dx, D); err != nil {
			return err
		}
		if C > 0 {
			// dWc (H, C) += dAᵀ · ctx
			if err := Gemm(true, false, H, C, B, 1, dA, H, ctx, C, 1, at(gw, lo.Wc, H*C), C); err != nil {
				return err
			}
			if dctx != nil {
				if err := Gemm(false, false, B, C, H, 1, dA, H, at(w, lo.Wc, H*C), C, 1, dctx, C); err != nil {
					return err
				}
			}
		}
		du, dx = dx, du
	}
	if dtheta != nil {
		return mlcuAddF32(dtheta, du, B*D)
	}
	return nil
}
