package event

import (
	"fmt"
	"math"
)

// PriorLogDensity returns log p(y), the prior's density of the standardised vector y of
// Standardizer st = NewStandardizer(p), computed exactly from p's distributions: the prior's
// parameters are independent, so p(y) = Π_i p_i(y_i), and each factor is the density of
// the parameter (or of its log10, for a log coordinate) times the Jacobian of the affine map
// (hi − lo)/2. For a uniform or log-uniform parameter the factor is exactly 1/2 (log −ln 2)
// inside [−1, 1]. It returns −Inf when y lies outside the prior's support, and panics when
// len(y) != st.Dim().
//
// It is the baseline that a trained model's validation NLL must beat: the mean of
// −PriorLogDensity over a validation set is the NLL of a model that ignores the data.
func PriorLogDensity(p Prior, st Standardizer, y []float64) float64 {
	if len(y) != st.Dim() {
		panic(fmt.Sprintf("event: PriorLogDensity: %d coordinates, want %d", len(y), st.Dim()))
	}
	ds := p.dists()
	lp := 0.0
	for i, c := range st.Coords {
		d := ds[paramIndex(c.Name)]
		u := 0.5*(c.Lo+c.Hi) + 0.5*(c.Hi-c.Lo)*y[i] // the coordinate (parameter or its log10)
		lp += coordLogDensity(*d, u, c.Log10) + math.Log(0.5*(c.Hi-c.Lo))
	}
	return lp
}

// coordLogDensity returns the log density of the coordinate u of distribution d: of the
// value x = u, or of u = log10 x when log.
func coordLogDensity(d Dist, u float64, log bool) float64 {
	x := u
	if log {
		x = math.Pow(10, u)
	}
	if d.hasBounds() && (x < d.Min*(1-1e-12) || x > d.Max*(1+1e-12)) {
		return math.Inf(-1)
	}
	// lx: log density of x in its own units.
	var lx float64
	switch d.Family {
	case FamilyUniform:
		lx = -math.Log(d.Max - d.Min)
	case FamilyLogUniform:
		lx = -math.Log(x * math.Ln10 * (log10(d.Max) - log10(d.Min)))
	case FamilyNormal, FamilyLogNormal:
		v := x
		if d.Family == FamilyLogNormal {
			if !(x > 0) {
				return math.Inf(-1)
			}
			v = log10(x)
		}
		a, b := d.zBounds()
		z := (v - d.Mean) / d.SD
		mass := stdCDF(b) - stdCDF(a)
		lx = -0.5*z*z - 0.5*math.Log(2*math.Pi) - math.Log(d.SD) - math.Log(mass)
		if d.Family == FamilyLogNormal {
			lx -= math.Log(x * math.Ln10) // d log10 x / dx
		}
	default:
		return math.Inf(-1)
	}
	if log {
		lx += math.Log(x * math.Ln10) // dx/du
	}
	return lx
}

// LogJacobian returns Σ_i log((hi_i − lo_i)/2), the constant that turns a negative
// log-likelihood of the standardised vector into one of the coordinates in their own units
// (log10 s, log10 q, α in rad, u0, t0 in days, log10 tE with tE in days, log10 ρ):
//
//	NLL_coords = NLL_standardised + LogJacobian.
//
// The affine map y = (2u − lo − hi)/(hi − lo) has dy/du = 2/(hi − lo), so
// log p_u(u) = log p_y(y) − Σ log((hi − lo)/2).
func (st Standardizer) LogJacobian() float64 {
	s := 0.0
	for _, c := range st.Coords {
		s += math.Log(0.5 * (c.Hi - c.Lo))
	}
	return s
}

// CoordDensity returns the prior's density of the coordinate c (the parameter c.Name, or
// its log10 when c.Log10) at u, in units of the coordinate: the marginal that the
// "constrained" criterion of mlcu eval compares a posterior's peak with. It is 0 outside the
// support and for a name p does not draw.
func (p Prior) CoordDensity(c Coord, u float64) float64 {
	i := paramIndex(c.Name)
	if i < 0 {
		return 0
	}
	d := p.dists()[i]
	if d == nil {
		return 0
	}
	return math.Exp(coordLogDensity(*d, u, c.Log10))
}
