package event

import (
	"math"
	"slices"
	"testing"
)

// Goodness-of-fit helpers shared by the prior and noise tests.

// pReject is the p-value below which a goodness-of-fit test fails. With fixed seeds every
// test is deterministic; 1e-3 keeps the chance that a correct sampler hits an unlucky seed
// small while a wrong distribution of the sizes used here is rejected at p ≪ 1e-10.
const pReject = 1e-3

// ksStatistic returns the one-sample Kolmogorov–Smirnov statistic
// D = sup_x |F_n(x) − F(x)| of xs against the continuous CDF cdf: with the sorted sample
// x_(1) ≤ … ≤ x_(n), D = max_i max(i/n − F(x_(i)), F(x_(i)) − (i−1)/n). xs is sorted in
// place.
func ksStatistic(xs []float64, cdf func(float64) float64) float64 {
	slices.Sort(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		f := cdf(x)
		d = max(d, float64(i+1)/n-f, f-float64(i)/n)
	}
	return d
}

// kolmogorovQ returns P(K > λ) for the Kolmogorov distribution, the limit of √n·D under
// the null hypothesis: 1 − (√(2π)/λ)·Σ_{j≥1} exp(−(2j−1)²π²/(8λ²)) for λ < 1.18, where that
// series converges fast, else 2·Σ_{j≥1} (−1)^{j−1} exp(−2j²λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda <= 0 {
		return 1
	}
	s := 0.0
	if lambda < 1.18 {
		for j := 1; j <= 20; j++ {
			k := float64(2*j - 1)
			s += math.Exp(-k * k * math.Pi * math.Pi / (8 * lambda * lambda))
		}
		return 1 - math.Sqrt(2*math.Pi)/lambda*s
	}
	for j := 1; j <= 100; j++ {
		term := math.Exp(-2 * float64(j*j) * lambda * lambda)
		if j%2 == 0 {
			term = -term
		}
		s += term
	}
	return 2 * s
}

// ksTest returns the KS statistic of xs against cdf and its asymptotic p-value
// kolmogorovQ(√n·D). xs is sorted in place.
func ksTest(xs []float64, cdf func(float64) float64) (d, p float64) {
	d = ksStatistic(xs, cdf)
	return d, kolmogorovQ(math.Sqrt(float64(len(xs))) * d)
}

// chi2Q returns P(χ²_k > x) by the Wilson–Hilferty approximation ((χ²/k)^{1/3} is nearly
// normal with mean 1 − 2/(9k) and variance 2/(9k)); for k in the thousands its error is
// far below the 1e-3 threshold it is compared with.
func chi2Q(x float64, k int) float64 {
	v := 2 / (9 * float64(k))
	z := (math.Cbrt(x/float64(k)) - (1 - v)) / math.Sqrt(v)
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// normCDF is the standard normal CDF written independently of the package's stdCDF.
func normCDF(z float64) float64 { return 0.5 * (1 + math.Erf(z/math.Sqrt2)) }

// normSF is the standard normal survival function 1 − Φ(z), accurate in the upper tail.
func normSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

func TestKolmogorovQ(t *testing.T) {
	// Reference: P(K > λ) = 2 Σ (−1)^{j−1} exp(−2j²λ²) evaluated with mpmath 1.3.0 at 30
	// digits (nsum to infinity); 1.358, 1.628 and 1.949 are the textbook 5%, 1% and 0.1%
	// critical values.
	for _, tc := range []struct{ lambda, want float64 }{
		{0.5, 0.963945243664875},
		{1.0, 0.269999671677355},
		{1.18, 0.123453809429766},
		{1.358, 0.050026797334447},
		{1.628, 0.00997552243118106},
		{1.949, 0.00100370731456876},
	} {
		if got := kolmogorovQ(tc.lambda); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("kolmogorovQ(%v) = %.15g, want %.15g", tc.lambda, got, tc.want)
		}
	}
	// Both series agree where they meet.
	if a, b := kolmogorovQ(1.18-1e-12), kolmogorovQ(1.18); math.Abs(a-b) > 1e-11 {
		t.Errorf("series disagree at 1.18: %v, %v", a, b)
	}
	// χ² with Wilson–Hilferty: P(χ²_100 > 149.449) = 1e-3 (textbook critical value).
	if p := chi2Q(149.449, 100); math.Abs(p-1e-3) > 1e-4 {
		t.Errorf("chi2Q(149.449, 100) = %v, want 1e-3", p)
	}
}

// The KS test has power: a sample of U(0, 1) is rejected against U(0, 1.05).
func TestKSRejectsWrongDistribution(t *testing.T) {
	xs := make([]float64, 20000)
	for i := range xs {
		xs[i] = (float64(i) + 0.5) / float64(len(xs))
	}
	d, p := ksTest(xs, func(x float64) float64 { return min(max(x/1.05, 0), 1) })
	t.Logf("U(0,1) grid against U(0,1.05): D = %.4f, p = %.2g", d, p)
	if p > 1e-10 {
		t.Errorf("p = %v: the test cannot tell U(0,1) from U(0,1.05)", p)
	}
}
