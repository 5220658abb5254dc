package nn

import "testing"

// TestNoFinalPool: with NoFinalPool the pool after the last block goes and the others stay
// (nbi's 9 stages of 2 blocks, 8 pools: 7200 → 28).
func TestNoFinalPool(t *testing.T) {
	s := FeaturizerShape{L: 7200, C0: 32, Cmax: 256, K: 3, Blocks: 18, PoolEvery: 2, GRUHidden: 8, GRULayers: 1, Context: 8}
	if got := s.SeqLen(); got != 14 {
		t.Fatalf("with the final pool: SeqLen %d, want 14", got)
	}
	s.NoFinalPool = true
	if got := s.SeqLen(); got != 28 {
		t.Fatalf("NoFinalPool: SeqLen %d, want 28", got)
	}
	pools := 0
	for i := range s.Blocks {
		if s.Pool(i) {
			pools++
			if i%2 != 1 || i == s.Blocks-1 {
				t.Errorf("a pool after block %d", i)
			}
		}
	}
	if pools != 8 {
		t.Errorf("%d pools, want 8", pools)
	}
	if b := s.Block(17); b.L != 28 || b.C != 256 || b.OC != 256 {
		t.Errorf("last block %+v, want L 28, 256 → 256 channels", b)
	}
}
