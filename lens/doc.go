// Package lens is mlcu's forward model: the magnification of a point or uniform finite
// source by a binary lens (2L1S) and by a single lens, light curves on straight
// trajectories, caustics, and ray-shooting magnification maps. It is pure Go and imports
// nothing else of mlcu's.
//
// # Frame and units
//
// Lengths are in Einstein radii of the total mass. The origin is the centre of mass and
// both lenses lie on the real axis: lens 1 (mass fraction 1/(1+q)) at -s q/(1+q), lens 2
// (q/(1+q)) at s/(1+q), so that with q ≤ 1 lens 1 is the heavier (the frame of
// VBBinaryLensing). Times are in days. An Event moves the source on
//
//	τ = (t - t0)/tE,  y1 = u0 sin α - τ cos α,  y2 = -u0 cos α - τ sin α
//
// with α in radians and u0 signed (VBBinaryLensing's BinaryLightCurve; MulensModel 3 uses
// the same geometry with α in degrees; docs/conventions.md gives the conversions).
// The supported domain is s ∈ [1e-3, 1e3], q ∈ [1e-10, 1e10], ρ = 0 or ρ ∈ [1e-8, 10]
// (ValidateBinary, ValidateRho).
//
// # Methods
//
//   - Point source (Binary.PointMag, Binary.Images): the fifth-degree polynomial of Witt &
//     Mao (1995), written about the lighter lens, solved by Aberth–Ehrlich simultaneous
//     iteration (Aberth 1973; Bini 1996), which needs no deflation — the alternative to the
//     deflation-and-polish solver of Skowron & Gould (2012). Roots are polished on the lens
//     equation and false roots rejected by their residual; A = Σ 1/|det J|.
//   - Uniform finite source (Binary.FiniteMag): the quadrupole approximation where a
//     quadrupole test and the ghost-image test of Bozza et al. (2018) allow it; otherwise
//     contour integration of the image boundaries by Green's theorem (Bozza 2010) with
//     adaptive sampling of the source boundary until the estimated error is below tol·A.
//   - Light curves (LightCurve, ParallelLightCurve): consecutive points warm-start the root
//     finder; outside boxes that bound the caustics the three images are followed by Newton
//     steps.
//   - Single lens (PointLensMag; PointLensFiniteMag after Witt & Mao 1994, with Carlson's
//     elliptic integrals).
//   - Caustics (Binary.Caustics, CausticTopology, CausticDistance, CausticCrossings) and the
//     ray-shooting map (Binary.RayShootMap; inverse ray shooting as in Kayser, Refsdal &
//     Stabell 1986 and Wambsganss 1990, on a hierarchy of tiles that discards only tiles
//     whose rays provably miss the map): the independent second method of the
//     finite-source tests.
//
// # Accuracy contracts
//
// Measured against testdata/ (VBBinaryLensing 3.7.0 at Tol = RelTol = 1e-8 and an
// independent quad-precision solver, for s ∈ [0.1, 10], q ∈ [1e-6, 1]); the tests named
// here fail when a contract is broken:
//
//   - point source: relative error ≤ 1e-6 on 99.9% of 3,000 sources and ≤ 1e-4 on all,
//     with the reference's number of images (TestPointMagReference);
//   - finite source at DefaultTol = 1e-4: ≤ 1e-3 on 99.5% of 3,000 sources and ≤ 1e-2 on
//     all (TestFiniteMagReference);
//   - light curves at DefaultTol: ≤ 1e-3 at every one of 30 × 7,200 points
//     (TestLightCurveReference);
//   - everywhere in the supported domain: finite, ≥ 1 within tol, no panic
//     (FuzzMagnification), and the five-image sum rule Σ 1/det J = 1 (TestSumRule).
//
// docs/forward-model.md has the measured error distributions and the speed against
// VBMicrolensing.
//
// # References
//
//   - Aberth O. 1973, Math. Comp. 27, 339
//   - Bini D. A. 1996, Numer. Algorithms 13, 179
//   - Bozza V. 2010, MNRAS 408, 2188
//   - Bozza V., Bachelet E., Bartolić F., et al. 2018, MNRAS 479, 5157
//   - Kayser R., Refsdal S., Stabell R. 1986, A&A 166, 36
//   - Skowron J., Gould A. 2012, arXiv:1203.1034
//   - Wambsganss J. 1990, PhD thesis, Ludwig-Maximilians-Universität München
//   - Witt H. J., Mao S. 1994, ApJ 430, 505
//   - Witt H. J., Mao S. 1995, ApJ 447, L105
package lens
