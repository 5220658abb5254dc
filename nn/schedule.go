package nn

import "math"

// CosineLR returns the learning rate for step (counted from 0) of a run of total steps: a
// linear warmup from lrMax/warmup to lrMax over the first warmup steps (llm.c's warmup:
// step s < warmup gets lrMax·(s+1)/warmup), then one cosine decay (Loshchilov & Hutter 2017,
// SGDR, without restarts) from lrMax at step warmup to lrMin at step total:
//
//	lr = lrMin + (lrMax−lrMin)·(1 + cos(π·(step−warmup)/(total−warmup)))/2
//
// Steps at or past total get lrMin. warmup ≤ 0 means no warmup.
func CosineLR(step, total int, lrMax, lrMin float64, warmup int) float64 {
	if warmup > 0 && step < warmup {
		return lrMax * float64(step+1) / float64(warmup)
	}
	if warmup < 0 {
		warmup = 0
	}
	if step >= total || total <= warmup {
		return lrMin
	}
	ratio := float64(step-warmup) / float64(total-warmup)
	return lrMin + (lrMax-lrMin)*0.5*(1+math.Cos(math.Pi*ratio))
}
