package mcmc

import (
	"fmt"
	"math"
	"sort"
)

// SplitRHat returns the rank-normalised split-R̂ of one parameter (Vehtari et al. 2021,
// §4.2): every chain is split in halves; all draws are replaced by the normal scores of
// their ranks, z = Φ⁻¹((r − 3/8)/(S + 1/4)); R̂ is the classic split-R̂ (Gelman et al.,
// BDA3 §11.4) of those scores, and the result the larger of it and the same on the folded
// draws |x − median| (which catches chains that differ in scale, not location). Values near
// 1 mean the chains agree; Vehtari et al. recommend R̂ < 1.01. chains are m ≥ 1 chains of
// n ≥ 4 draws each (equal n). An ensemble's walkers are not independent chains; treating
// them as such, as emcee users do, makes R̂ a check that the walkers have mixed.
func SplitRHat(chains [][]float64) (float64, error) {
	if err := checkChains(chains, 4); err != nil {
		return math.NaN(), err
	}
	n := len(chains[0]) / 2
	var split [][]float64
	for _, c := range chains {
		split = append(split, c[:n], c[len(c)-n:])
	}
	bulk := rhat(rankNormal(split))
	med := median(split)
	folded := make([][]float64, len(split))
	for i, c := range split {
		f := make([]float64, len(c))
		for k, v := range c {
			f[k] = math.Abs(v - med)
		}
		folded[i] = f
	}
	return math.Max(bulk, rhat(rankNormal(folded))), nil
}

// rhat is the classic R̂ of m chains of n draws: √(var⁺/W), var⁺ = (n−1)/n·W + B/n, W the
// mean within-chain variance and B/n the variance of the chain means.
func rhat(chains [][]float64) float64 {
	m, n := float64(len(chains)), float64(len(chains[0]))
	means := make([]float64, len(chains))
	w := 0.0
	for i, c := range chains {
		mu := 0.0
		for _, v := range c {
			mu += v
		}
		mu /= n
		means[i] = mu
		s := 0.0
		for _, v := range c {
			s += (v - mu) * (v - mu)
		}
		w += s / (n - 1)
	}
	w /= m
	grand := 0.0
	for _, mu := range means {
		grand += mu
	}
	grand /= m
	bn := 0.0
	for _, mu := range means {
		bn += (mu - grand) * (mu - grand)
	}
	if m > 1 {
		bn /= m - 1
	}
	if !(w > 0) {
		if bn == 0 {
			return 1 // every draw equal: nothing to disagree about
		}
		return math.Inf(1)
	}
	return math.Sqrt(((n-1)/n*w + bn) / w)
}

// rankNormal replaces every draw of chains by the normal score of its rank among all draws
// (average ranks for ties).
func rankNormal(chains [][]float64) [][]float64 {
	type item struct {
		v    float64
		c, k int
	}
	var all []item
	for c, ch := range chains {
		for k, v := range ch {
			all = append(all, item{v, c, k})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	S := float64(len(all))
	out := make([][]float64, len(chains))
	for c, ch := range chains {
		out[c] = make([]float64, len(ch))
	}
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r := float64(i+j+1) / 2 // average 1-based rank of the tie group
		z := normalQuantile((r - 0.375) / (S + 0.25))
		for k := i; k < j; k++ {
			out[all[k].c][all[k].k] = z
		}
		i = j
	}
	return out
}

// median returns the median of all draws.
func median(chains [][]float64) float64 {
	var v []float64
	for _, c := range chains {
		v = append(v, c...)
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// normalQuantile returns Φ⁻¹(p) for p in (0, 1).
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// AutocorrTime returns the integrated autocorrelation time τ of one parameter of an
// ensemble, as emcee's autocorr.integrated_time: the autocorrelation function of each
// chain (the biased estimator Σ_i (x_i − x̄)(x_{i+t} − x̄) / Σ_i (x_i − x̄)², which emcee
// computes by FFT), averaged over the chains, summed as τ(M) = 1 + 2·Σ_{t=1}^{M} ρ(t) with
// Sokal's adaptive window — the smallest M with M ≥ c·τ(M), c = 5; the lags are summed
// directly up to that window. It also reports whether the chains are long enough for the
// estimate (n ≥ 50·τ, emcee's tolerance). Chains are m ≥ 1 chains of n ≥ 2 draws (equal
// n); a constant chain counts as uncorrelated.
func AutocorrTime(chains [][]float64) (tau float64, reliable bool, err error) {
	if err := checkChains(chains, 2); err != nil {
		return math.NaN(), false, err
	}
	n := len(chains[0])
	d := make([][]float64, len(chains))
	c0 := make([]float64, len(chains))
	for k, c := range chains {
		mu := 0.0
		for _, v := range c {
			mu += v
		}
		mu /= float64(n)
		d[k] = make([]float64, n)
		for i, v := range c {
			d[k][i] = v - mu
			c0[k] += (v - mu) * (v - mu)
		}
	}
	const window = 5
	tau = 1
	for m := 1; m < n; m++ {
		rho := 0.0
		for k, x := range d {
			if c0[k] == 0 {
				continue
			}
			s := 0.0
			for i := 0; i+m < n; i++ {
				s += x[i] * x[i+m]
			}
			rho += s / c0[k]
		}
		tau += 2 * rho / float64(len(chains))
		if float64(m) >= window*tau {
			break
		}
	}
	tau = math.Max(tau, 1e-12)
	return tau, float64(n) >= 50*tau, nil
}

// ESS returns the effective sample size of one parameter of an ensemble: the number of
// draws m·n divided by the integrated autocorrelation time (AutocorrTime).
func ESS(chains [][]float64) (float64, error) {
	tau, _, err := AutocorrTime(chains)
	if err != nil {
		return math.NaN(), err
	}
	return float64(len(chains)*len(chains[0])) / tau, nil
}

func checkChains(chains [][]float64, minN int) error {
	if len(chains) == 0 {
		return fmt.Errorf("mcmc: no chains")
	}
	n := len(chains[0])
	if n < minN {
		return fmt.Errorf("mcmc: chains of %d draws, want ≥ %d", n, minN)
	}
	for i, c := range chains {
		if len(c) != n {
			return fmt.Errorf("mcmc: chain %d has %d draws, chain 0 has %d", i, len(c), n)
		}
		for _, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("mcmc: chain %d holds %v", i, v)
			}
		}
	}
	return nil
}
