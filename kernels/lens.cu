// lens.cu: binary-lens magnification on the GPU, the device twins of lens/ (CPU reference):
//
//   - point-source magnification (lens.Binary.PointMag): one thread per source position,
//     the Witt & Mao (1995) quintic in the frame centred on the lighter lens, Aberth–Ehrlich
//     roots (fixed sweep limit, no allocation), Newton polish on the lens equation and
//     residual-based image selection, line for line as lens/binary.go images() on a cold start;
//   - light curves of point sources (lens.LightCurve with rho = 0, stateless per point);
//   - light curves of uniform finite sources (lens/finite.go finiteMag): point + quadrupole
//     and its decision test, one thread per point, then contour integration of the points
//     that need it, one warp per point (contour_kernel); the far-field points and the
//     contours the device cannot certify are flagged for the host;
//   - the inverse-ray-shooting magnification map (lens.Binary.RayShootMap): the same
//     image-plane lattice and the same tile quadtree, culled level by level on the device, one
//     block per 16 × 16 tile, one thread per ray, atomicAdd into uint32 pixel counts.
//
// Frame (lens/, VBBinaryLensing): Einstein radii of the total mass, origin at the centre of
// mass, lens 1 (mass fraction 1/(1+q)) at -s q/(1+q), lens 2 (q/(1+q)) at s/(1+q).
#include "common.cuh"

#include <cfloat>

namespace {

// cplx is a double-precision complex number (no cuComplex under emulation).
struct cplx {
	double re, im;
};
__host__ __device__ inline cplx mk(double re, double im) { return cplx{re, im}; }
__host__ __device__ inline cplx operator+(cplx a, cplx b) { return cplx{a.re + b.re, a.im + b.im}; }
__host__ __device__ inline cplx operator-(cplx a, cplx b) { return cplx{a.re - b.re, a.im - b.im}; }
__host__ __device__ inline cplx operator*(cplx a, cplx b) {
	return cplx{a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
__host__ __device__ inline cplx operator*(double a, cplx b) { return cplx{a * b.re, a * b.im}; }
__host__ __device__ inline cplx& operator+=(cplx& a, cplx b) { return a = a + b; }
__host__ __device__ inline cplx& operator-=(cplx& a, cplx b) { return a = a - b; }
__host__ __device__ inline cplx conj(cplx a) { return cplx{a.re, -a.im}; }
__host__ __device__ inline double abs2(cplx a) { return a.re * a.re + a.im * a.im; }
// inv returns 1/z (z finite, non-zero), as lens/poly.go's inv.
__host__ __device__ inline cplx inv(cplx z) {
	double d = 1 / (z.re * z.re + z.im * z.im);
	return cplx{z.re * d, -z.im * d};
}
// bad reports NaN or ±Inf.
__host__ __device__ inline bool bad(double x) { return !(fabs(x) <= DBL_MAX); }

// Frame is the binary in the solver frame of lens/binary.go (solverFrame): the lighter lens
// ("a", mass ma) at the origin, the other ("b", mass mb) at d; shift is lens a's position in
// the reference frame. Centred on the lighter lens, the quintic's clustered roots next to a
// small mass keep their digits (lens/ measured 1e-11 against 2e-7 for other centres).
struct Frame {
	double shift, ma, mb, d;
};

__host__ __device__ inline Frame frame_for(double s, double q) {
	double m1 = 1 / (1 + q), m2 = q / (1 + q);
	double x1 = -s * q / (1 + q), x2 = s / (1 + q);
	if (m2 <= m1) return Frame{x2, m2, m1, x1 - x2};
	return Frame{x1, m1, m2, x2 - x1};
}

__device__ inline void mul22(const cplx* a, const cplx* b, cplx* r) {
	r[0] = a[0] * b[0];
	r[1] = a[0] * b[1] + a[1] * b[0];
	r[2] = a[0] * b[2] + a[1] * b[1] + a[2] * b[0];
	r[3] = a[1] * b[2] + a[2] * b[1];
	r[4] = a[2] * b[2];
}

// quintic fills c with the Witt & Mao polynomial for the source w (solver frame):
// (w - z) N (N - D Dz) + Ma Dz (N - D Dz) + Mb Dz N = 0 with N(z) = conj(w) z(z-D) + ...
// (lens/binary.go solverFrame.quintic, same operations in the same order).
__device__ inline void quintic(const Frame& f, cplx w, cplx* c) {
	cplx wb = conj(w);
	cplx d = mk(f.d, 0), ma = mk(f.ma, 0), mb = mk(f.mb, 0);
	cplx n[3] = {mk(0, 0) - ma * d, ma + mb - wb * d, wb};
	cplx k[3] = {n[0], n[1] + d * d, n[2] - d};
	cplx dz[3] = {mk(0, 0), mk(0, 0) - d, mk(1, 0)};
	cplx nk[5], dk[5], dn[5];
	mul22(n, k, nk);
	mul22(dz, k, dk);
	mul22(dz, n, dn);
	c[0] = w * nk[0];
	for (int i = 1; i < 5; i++) c[i] = w * nk[i] - nk[i - 1];
	c[5] = mk(0, 0) - nk[4];
	for (int i = 0; i < 5; i++) c[i] += ma * dk[i] + mb * dn[i];
}

// point_images returns the major and minor images of a single lens of mass m at centre for
// the source centre + u.
__device__ inline void point_images(cplx centre, cplx u, double m, cplx* major, cplx* minor) {
	double u2 = abs2(u);
	if (u2 == 0) {
		double r = sqrt(m);
		*major = centre + mk(r, 0);
		*minor = centre - mk(r, 0);
		return;
	}
	double k = sqrt(1 + 4 * m / u2);
	*major = centre + u * mk((1 + k) / 2, 0);
	*minor = centre + u * mk((1 - k) / 2, 0);
}

// cold_guesses: lens/binary.go coldGuesses (images of the total mass at the centre of mass,
// the minor image of each lens alone, a fifth point off the axis for the false roots).
__device__ inline void cold_guesses(const Frame& f, cplx w, cplx* roots) {
	cplx cm = mk(f.mb * f.d, 0);
	point_images(cm, w - cm, 1, &roots[0], &roots[1]);
	cplx unused;
	point_images(mk(0, 0), w, f.ma, &unused, &roots[2]);
	cplx d = mk(f.d, 0);
	point_images(d, w - d, f.mb, &unused, &roots[3]);
	roots[4] = cm + mk(0, 0.5 * (1 + fabs(f.d)));
	for (int i = 1; i < 5; i++)
		for (int j = 0; j < i; j++)
			if (abs2(roots[i] - roots[j]) < 1e-20 * (1 + abs2(roots[i])))
				roots[i] += mk(1e-3 * double(i), 1e-3 * double(j + 1));
}

__device__ inline cplx eval_poly5(const cplx* c, cplx z) {
	return ((((c[5] * z + c[4]) * z + c[3]) * z + c[2]) * z + c[1]) * z + c[0];
}

// cold_start5: lens/poly.go coldStart5 (a circle around the roots' centroid).
__device__ inline void cold_start5(const cplx* c, cplx* roots) {
	cplx centre = mk(0, 0) - c[4] * inv(5.0 * c[5]);
	cplx pc = eval_poly5(c, centre);
	double r = pow(sqrt(abs2(pc * inv(c[5]))), 0.2);
	if (r == 0 || bad(r)) r = 1;
	for (int k = 0; k < 5; k++) {
		double phi = 2 * 3.141592653589793 * double(k) / 5 + 0.4;
		roots[k] = centre + mk(r * cos(phi), r * sin(phi));
	}
}

constexpr int kMaxAberthIter = 60;    // lens/poly.go maxAberthIter
constexpr double kAberthTol = 1e-9;   // lens/poly.go aberthTol
constexpr double kImageAcceptTol = 1e-11; // lens/binary.go imageAcceptTol
constexpr double kFarFieldRadius = 1e4;   // lens/binary.go farFieldRadius

// aberth5: Aberth–Ehrlich simultaneous iteration, Gauss–Seidel form, at most 60 sweeps
// (lens/poly.go aberth5). It needs no deflation, so a small root does not inherit the
// rounding of a deflated large one.
__device__ inline bool aberth5(const cplx* c, cplx* roots) {
	double prev_max = INFINITY;
	for (int iter = 0; iter < kMaxAberthIter; iter++) {
		bool converged = true;
		double max_rel = 0;
		for (int k = 0; k < 5; k++) {
			cplx zk = roots[k];
			cplx p = c[5], dp = mk(0, 0);
			for (int i = 4; i >= 0; i--) {
				dp = dp * zk + p;
				p = p * zk + c[i];
			}
			if (p.re == 0 && p.im == 0) continue;
			cplx ratio = p * inv(dp);
			cplx sum = mk(0, 0);
			for (int j = 0; j < 5; j++)
				if (j != k) sum += inv(zk - roots[j]);
			cplx w = ratio * inv(mk(1, 0) - ratio * sum);
			double w2 = abs2(w);
			if (bad(w2)) return false;
			roots[k] = zk - w;
			double rel = w2 / (abs2(zk) + 1e-30);
			max_rel = fmax(max_rel, rel);
			if (rel > kAberthTol * kAberthTol) converged = false;
		}
		if (converged) return true;
		// A near-double root (at a fold) converges linearly and stalls at the rounding floor.
		if (iter >= 6 && max_rel < 1e-12 && max_rel > 0.25 * prev_max) return true;
		prev_max = max_rel;
	}
	return false;
}

// lens_eq returns the residual F = z - ma/conj(z) - mb/(conj(z)-d) - w and the shear
// g = ma/conj(z)^2 + mb/(conj(z)-d)^2 (solver frame); det J = 1 - |g|^2.
__device__ inline void lens_eq(const Frame& f, cplx z, cplx w, cplx* F, cplx* g) {
	cplx zb = conj(z);
	cplx ia = inv(zb), ib = inv(zb - mk(f.d, 0));
	cplx ma = mk(f.ma, 0), mb = mk(f.mb, 0);
	*F = z - ma * ia - mb * ib - w;
	*g = ma * ia * ia + mb * ib * ib;
}

__device__ inline double point_lens_mag(double u) {
	u = fabs(u);
	if (u == 0) return INFINITY;
	if (u > 1e100) return 1;
	double u2 = u * u;
	return (u2 + 2) / (u * sqrt(u2 + 4));
}

// far_field: lens/binary.go farField: whether a disk of radius rho at (y1, y2) stays beyond
// 1e4 from both lenses (there the binary is a single lens of the total mass).
__device__ inline bool far_field(double s, double q, double y1, double y2, double rho) {
	double x1 = -s * q / (1 + q), x2 = s / (1 + q);
	double d1 = (y1 - x1) * (y1 - x1) + y2 * y2, d2 = (y1 - x2) * (y1 - x2) + y2 * y2;
	double r = kFarFieldRadius + rho;
	return !(d1 <= r * r || d2 <= r * r);
}

// solve_images: lens/binary.go images() on a cold start. It writes the images' positions z
// (reference frame) and det J into z, det, returns their number (3 or 5) and the midpoint of
// the two false roots before polishing (ghost_mid, reference frame; meaningful with 3).
__device__ int solve_images(double s, double q, double y1, double y2, cplx* zimg, double* detimg, cplx* ghost_mid) {
	Frame f = frame_for(s, q);
	cplx w = mk(y1 - f.shift, y2);
	cplx c[6];
	quintic(f, w, c);
	cplx roots[5];
	cold_guesses(f, w, roots);
	if (!aberth5(c, roots)) {
		cold_start5(c, roots);
		aberth5(c, roots);
	}

	// Newton polish on the lens equation: a true image converges to rounding, a false root
	// keeps a residual of the order of its pair's separation. A step may not carry a root
	// more than half-way to another one.
	double scale = 1 + hypot(w.re, w.im);
	double reach2[5];
	for (int i = 0; i < 5; i++) reach2[i] = INFINITY;
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++) {
			double dd = 0.25 * abs2(roots[j] - roots[i]);
			reach2[i] = fmin(reach2[i], dd);
			reach2[j] = fmin(reach2[j], dd);
		}
	cplx pol[5];
	double res[5], det[5];
	for (int i = 0; i < 5; i++) {
		cplx z = roots[i], F, g;
		lens_eq(f, z, w, &F, &g);
		double r2 = abs2(F);
		for (int it = 0; it < 4 && r2 > 1e-28 * scale * scale && r2 < 1e-6 * scale * scale; it++) {
			double dt = 1 - abs2(g);
			if (dt == 0) break;
			cplx zn = z - (F - g * conj(F)) * mk(1 / dt, 0);
			if (abs2(zn - roots[i]) > reach2[i]) break;
			cplx Fn, gn;
			lens_eq(f, zn, w, &Fn, &gn);
			double rn2 = abs2(Fn);
			if (!(rn2 < r2)) break;
			z = zn;
			F = Fn;
			g = gn;
			r2 = rn2;
		}
		double sz = scale + fabs(z.re) + fabs(z.im);
		pol[i] = z;
		res[i] = r2 / (sz * sz);
		det[i] = 1 - abs2(g);
	}

	// Order by residual; five images when all five solve the lens equation, three otherwise;
	// four means a source within rounding of a fold: drop the closest pair.
	int idx[5] = {0, 1, 2, 3, 4};
	for (int i = 1; i < 5; i++)
		for (int j = i; j > 0 && res[idx[j]] < res[idx[j - 1]]; j--) {
			int t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	const double tol2 = kImageAcceptTol * kImageAcceptTol;
	int n = 3;
	if (res[idx[4]] < tol2) {
		n = 5;
	} else if (res[idx[3]] < tol2) {
		int bi = 0, bj = 1;
		double best = INFINITY;
		for (int i = 0; i < 5; i++)
			for (int j = i + 1; j < 5; j++) {
				double dd = abs2(pol[i] - pol[j]);
				if (dd < best) {
					bi = i;
					bj = j;
					best = dd;
				}
			}
		int k = 0;
		for (int i = 0; i < 5; i++)
			if (i != bi && i != bj) idx[k++] = i;
		idx[3] = bi;
		idx[4] = bj;
	}
	*ghost_mid = 0.5 * (roots[idx[3]] + roots[idx[4]]) + mk(f.shift, 0);
	for (int k = 0; k < n; k++) {
		zimg[k] = pol[idx[k]] + mk(f.shift, 0);
		detimg[k] = det[idx[k]];
	}
	return n;
}

// binary_point_mag: lens.Binary.PointMag at the source (y1, y2), reference frame.
__device__ double binary_point_mag(double s, double q, double y1, double y2) {
	if (far_field(s, q, y1, y2, 0)) return point_lens_mag(hypot(y1, y2));
	cplx z[5], gm;
	double det[5];
	int n = solve_images(s, q, y1, y2, z, det, &gm);
	double a = 0;
	for (int k = 0; k < n; k++) a += 1 / fabs(det[k]);
	return a;
}

// point_mag_kernel: out[i] = A(y1[i], y2[i]), one thread per source position.
__global__ void point_mag_kernel(double* out, const double* y1, const double* y2, long n, double s, double q) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x)
		out[i] = binary_point_mag(s, q, y1[i], y2[i]);
}

// point_mag_many_kernel: out[i] = A of the binary (s[i], q[i]) at (y1[i], y2[i]).
__global__ void point_mag_many_kernel(double* out, const double* s, const double* q, const double* y1,
                                      const double* y2, long n) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x)
		out[i] = binary_point_mag(s[i], q[i], y1[i], y2[i]);
}

// point_lc_kernel: out[e*nt + j] = A of event e at time ts[j], one thread per (event, time):
// consecutive threads share an event (its parameters are a broadcast load) and write
// consecutive outputs.
__global__ void point_lc_kernel(double* out, const double* params, const double* ts, long ne, long nt) {
	long total = ne * nt;
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
		long e = i / nt, j = i - e * nt;
		const double* p = params + 6 * e;
		double s = p[0], q = p[1], alpha = p[2], u0 = p[3], t0 = p[4], te = p[5];
		// lens.Event.SourcePos (VBBL BinaryLightCurve convention).
		double tau = (ts[j] - t0) / te;
		double sa = sin(alpha), ca = cos(alpha);
		out[i] = binary_point_mag(s, q, u0 * sa - tau * ca, -u0 * ca - tau * sa);
	}
}

// ---- finite sources: point + quadrupole on the device, contours left to the host ----

constexpr double kQuadSafety = 4.0;  // lens/finite.go quadSafety
constexpr double kGhostSafety = 6.0; // lens/finite.go ghostSafety
constexpr int kMaxBoxes = 3;         // a binary has at most three caustic curves

// laplacian_mu: lens/finite.go laplacianMu, the source-plane Laplacian of the signed
// magnification 1/J of the image at z (reference frame).
__device__ inline double laplacian_mu(double m1, double m2, double x1, double x2, cplx z, double J) {
	cplx i1 = inv(z - mk(x1, 0)), i2 = inv(z - mk(x2, 0));
	cplx cm1 = mk(m1, 0), cm2 = mk(m2, 0);
	cplx i1s = i1 * i1, i2s = i2 * i2;
	cplx h1 = mk(0, 0) - (cm1 * i1s + cm2 * i2s);
	cplx h2 = 2.0 * (cm1 * i1s * i1 + cm2 * i2s * i2);
	cplx h3 = -6.0 * (cm1 * i1s * i1s + cm2 * i2s * i2s);
	cplx hb = conj(h1);
	double a1 = abs2(h1), a2 = abs2(h2);
	double j4 = J * J * J * J;
	double t4 = 2 * (hb * hb * h3).re + (1 + 2 * a1) * a2;
	double t5 = 3 * ((1 + a1) * a1 * a2 + 2 * (hb * hb * hb * h2 * h2).re);
	return 4 * (t4 / j4 + t5 / (j4 * J));
}

// critical_from: lens/binary.go criticalFrom, Newton steps from z to the critical curve
// (on J = 1 - |h'|^2, or on ln|h'|^2 when log_scale) and the distance from y to the caustic
// point reached; 0 when it does not converge.
__device__ inline double critical_from(double m1, double m2, double x1, double x2, cplx z, cplx y, bool log_scale) {
	cplx cm1 = mk(m1, 0), cm2 = mk(m2, 0), cx1 = mk(x1, 0), cx2 = mk(x2, 0);
	bool converged = false;
	for (int it = 0; it < 20; it++) {
		cplx i1 = inv(z - cx1), i2 = inv(z - cx2);
		cplx h1 = mk(0, 0) - (cm1 * i1 * i1 + cm2 * i2 * i2);
		cplx h2 = 2.0 * (cm1 * i1 * i1 * i1 + cm2 * i2 * i2 * i2);
		double a = abs2(h1);
		if (a == 0 || bad(a)) return 0;
		double fv;
		cplx G;
		if (log_scale) {
			fv = log(a);
			G = 2.0 * conj(h2 * inv(h1));
		} else {
			fv = 1 - a;
			G = -2.0 * conj(h2) * h1;
		}
		double g2 = abs2(G);
		if (g2 == 0 || bad(g2)) return 0;
		z -= (fv / g2) * G;
		if (fabs(fv) < 1e-9) {
			converged = true;
			break;
		}
	}
	if (!converged) return 0;
	cplx i1 = inv(z - cx1), i2 = inv(z - cx2);
	cplx r = z - conj(cm1 * i1 + cm2 * i2) - y;
	double d = hypot(r.re, r.im);
	return d != d ? 0 : d;
}

// ghost_dist: lens/binary.go ghostDist, the smaller of the two critical_from estimates that
// converged (0 when neither did).
__device__ inline double ghost_dist(double m1, double m2, double x1, double x2, cplx zm, cplx y) {
	double g1 = critical_from(m1, m2, x1, x2, zm, y, false);
	double g2 = critical_from(m1, m2, x1, x2, zm, y, true);
	return g1 == 0 ? g2 : (g2 == 0 ? g1 : fmin(g1, g2));
}

// box_farther: lens/binary.go boxFarther, whether y is farther than lim from every box
// (x0, x1, y0, y1); an unused box is (+Inf, -Inf, +Inf, -Inf).
__device__ inline bool box_farther(const double* boxes, cplx y, double lim) {
	for (int b = 0; b < kMaxBoxes; b++) {
		const double* bx = boxes + 4 * b;
		double dx = 0, dy = 0;
		if (y.re < bx[0]) dx = bx[0] - y.re;
		else if (y.re > bx[1]) dx = y.re - bx[1];
		if (y.im < bx[2]) dy = bx[2] - y.im;
		else if (y.im > bx[3]) dy = y.im - bx[3];
		if (dx * dx + dy * dy <= lim * lim) return false;
	}
	return true;
}

// finite_lc_kernel: one thread per (event, time). params (ne, 7) rows (s, q, alpha, u0, t0,
// tE, rho); boxes (ne, 3, 4) the caustic boxes of each event (lens/binary.go causticBoxes);
// out, status (ne, nt). The thread does what lens/finite.go finiteMag does before contour
// integration: the point-source images, the quadrupole correction, and the test that
// decides whether the quadrupole suffices (|quadrupole|·4 < tol·A and no fold within
// 6 rho by the caustic boxes or the ghost-image estimate). status 0: out is final (point or
// quadrupole); status 1: the disk needs contour integration (or lies in the far field),
// out holds the point-source magnification and the host finishes the point.
//
// With list non-null, the index i of every point that needs a contour (status 1, not in the
// far field) is appended to list (in no particular order) and *count counts them: the work
// list of contour_kernel.
__global__ void finite_lc_kernel(double* out, int32_t* status, const double* params, const double* boxes,
                                 const double* ts, long ne, long nt, double tol, int32_t* list, unsigned* count) {
	long total = ne * nt;
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += long(gridDim.x) * blockDim.x) {
		long e = i / nt, j = i - e * nt;
		const double* p = params + 7 * e;
		double s = p[0], q = p[1], alpha = p[2], u0 = p[3], t0 = p[4], te = p[5], rho = p[6];
		double tau = (ts[j] - t0) / te;
		double sa = sin(alpha), ca = cos(alpha);
		double y1 = u0 * sa - tau * ca, y2 = -u0 * ca - tau * sa;
		if (far_field(s, q, y1, y2, rho)) {
			out[i] = point_lens_mag(hypot(y1, y2));
			status[i] = rho == 0 ? 0 : 1;
			continue;
		}
		cplx z[5], gm;
		double det[5];
		int n = solve_images(s, q, y1, y2, z, det, &gm);
		double m1 = 1 / (1 + q), m2 = q / (1 + q), x1 = -s * q / (1 + q), x2 = s / (1 + q);
		double a0 = 0, aq = 0, qerr = 0;
		for (int k = 0; k < n; k++) {
			double mu = 1 / det[k];
			a0 += fabs(mu);
			if (rho > 0) {
				double lap = laplacian_mu(m1, m2, x1, x2, z[k], det[k]);
				aq += copysign(1.0, mu) * lap;
				qerr += fabs(lap);
			}
		}
		if (rho == 0) {
			out[i] = a0;
			status[i] = 0;
			continue;
		}
		double r2 = rho * rho / 8;
		aq *= r2;
		qerr *= r2;
		bool quad = kQuadSafety * qerr < tol * a0;
		if (quad && n == 3) { // solverState.ghostFarther with caustic boxes
			double lim = kGhostSafety * rho;
			cplx y = mk(y1, y2);
			if (!box_farther(boxes + 4 * kMaxBoxes * e, y, lim)) {
				double d = ghost_dist(m1, m2, x1, x2, gm, y);
				quad = d > 0 && d > lim;
			}
		}
		out[i] = quad ? a0 + aq : a0;
		status[i] = quad ? 0 : 1;
		if (!quad && list != nullptr) list[atomicAdd(count, 1u)] = int32_t(i);
	}
}

// ---- finite sources: contour integration on the device (lens/finite.go contourMag) ----
//
// One block of kContourBlock threads per flagged point (contour_kernel, a grid-stride loop
// over the work list that finite_lc_kernel appends to). Instead of the CPU's adaptive
// bisection of the worst arc, the block samples the source boundary uniformly and doubles
// the number of samples, N = kContourN0, 2 kContourN0, ..., kContourMaxN, until the summed
// error estimate of lens/finite.go (the same arcs, image matching, connectors and error
// terms, line for line) is at most tol times the area: the same stopping rule, so the
// result carries the CPU's accuracy guarantee. A point that has not converged at kContourMaxN
// (or whose sums are not finite) keeps status 1 and the host integrates it.
//
// A pass at resolution N reuses the N/2 samples of the previous pass (block scratch in
// global memory, kContourStore samples per block): thread c takes coarse arc c, computes its
// midpoint sample, stores it for the next pass and evaluates the two arcs of length 2π/N.

constexpr double kGhostArcSafety = 4.0; // lens/finite.go ghostArcSafety
constexpr double kContourPhase = 0.3183; // lens/finite.go contourMag's phase
// The CPU needs 47 boundary points per contour on average on the reference light curves
// (median 43, 90% below 55): one warp per point, a first resolution of 32 (most contours
// converge at 64), and a last of 1024 (going on to 8192 certifies 1 more of 1423 reference
// contours; the rest need the CPU's local bisection down to tiny arcs).
constexpr int kContourBlock = 32;
constexpr int kContourN0 = 32;    // first resolution (arcs of 2π/32)
constexpr int kContourMaxN = 1024; // last resolution
constexpr int kContourStore = kContourMaxN / 2;
constexpr double kTwoPi = 6.283185307179586;

// BImage, BSample: lens/finite.go bImage and bSample (ghost: the ghost-image fold estimate,
// +Inf when it cannot matter; see contour_sample).
struct BImage {
	cplx z;     // position (reference frame)
	double j;   // det J (its sign is the parity)
	cplx dz;    // dz/dθ along the boundary
	cplx d2;    // d²z/dθ²
};
struct BSample {
	int n;
	double ghost;
	BImage img[5];
};

static_assert(sizeof(BSample) % sizeof(double) == 0, "BSample scratch is allocated in doubles");

// Disk is one contour's lens and source disk: the binary (s, q) and its masses and
// positions in the reference frame, the disk's centre y and radius rho, its event's caustic
// boxes, and the unresolved-arc error per radian (lens/finite.go unresolvedErr). The
// kernel keeps it in local memory and passes it by reference, so that few values stay live
// across the (not inlined) sample and arc calls.
struct Disk {
	double s, q, m1, m2, x1, x2;
	cplx y;
	double rho, unresolved_rate;
	const double* boxes;
};

// fix_parities: lens/finite.go fixParities.
__device__ inline void fix_parities(BSample* s) {
	int want = s->n == 5 ? 2 : 1;
	for (int guard = 0; guard < 5; guard++) {
		int pos = 0;
		for (int k = 0; k < s->n; k++)
			if (s->img[k].j > 0) pos++;
		if (pos == want) return;
		int flip = -1;
		double best = INFINITY;
		for (int k = 0; k < s->n; k++)
			if ((s->img[k].j > 0) == (pos > want) && fabs(s->img[k].j) < best) {
				flip = k;
				best = fabs(s->img[k].j);
			}
		if (flip < 0) return;
		s->img[flip].j = -s->img[flip].j;
	}
}

// contour_sample: lens/finite.go contour.sample at angle theta (cold start), and the ghost
// estimate that contour.ghostNear would compute: +Inf with five images or when the caustic
// boxes put the boundary point farther than lim (the longest arc the sample will end,
// times ghostArcSafety·ρ) from every caustic, else ghostDist. Later arcs are shorter, so
// their ghostNear answers are the CPU's.
__device__ __noinline__ void contour_sample(const Disk& L, double theta, double lim, BSample* out) {
	const cplx y = L.y;
	const double rho = L.rho;
	BSample s;
	cplx e = mk(cos(theta), sin(theta));
	cplx zeta = y + rho * e;
	cplx z[5], gm;
	double det[5];
	s.n = solve_images(L.s, L.q, zeta.re, zeta.im, z, det, &gm);
	s.ghost = INFINITY;
	if (s.n == 3 && !box_farther(L.boxes, zeta, lim)) s.ghost = ghost_dist(L.m1, L.m2, L.x1, L.x2, gm, zeta);
	// Boundary derivatives: ζ' = iρe^{iθ}, ζ'' = -ρe^{iθ}.
	cplx zp = mk(0, rho) * e, zpp = mk(-rho, 0) * e;
	cplx zpb = conj(zp), zppb = conj(zpp);
	cplx cm1 = mk(L.m1, 0), cm2 = mk(L.m2, 0);
	for (int k = 0; k < 5; k++) {
		if (k >= s.n) {
			s.img[k] = BImage{mk(0, 0), 0, mk(0, 0), mk(0, 0)};
			continue;
		}
		cplx zk = z[k];
		double J = det[k];
		cplx i1 = inv(zk - mk(L.x1, 0)), i2 = inv(zk - mk(L.x2, 0));
		cplx h1 = mk(0, 0) - (cm1 * i1 * i1 + cm2 * i2 * i2);
		cplx h2 = 2.0 * (cm1 * i1 * i1 * i1 + cm2 * i2 * i2 * i2);
		cplx hb = conj(h1);
		cplx dz = (zp + hb * zpb) * mk(1 / J, 0);
		double dJ = -2 * (hb * h2 * dz).re;
		cplx ddz = (zpp + hb * zppb + conj(h2 * dz) * zpb) * mk(1 / J, 0) - dz * mk(dJ / J, 0);
		s.img[k] = BImage{zk, J, dz, ddz};
	}
	fix_parities(&s);
	*out = s;
}

// hermite_arc: lens/finite.go hermiteArc.
__device__ inline double hermite_arc(cplx z0, cplx z1, cplx d0, cplx d1, double L) {
	cplx dz = z1 - z0;
	return L / 10 * (conj(dz) * (d1 - d0)).im - L * L / 60 * (conj(d0) * d1).im;
}

// quintic_arc: lens/finite.go quinticArc (5-point Gauss–Legendre on [0, 1]).
__device__ inline double quintic_arc(const BImage& a, const BImage& b, double L) {
	const double gx[5] = {(1 - 0.9061798459386640) / 2, (1 - 0.5384693101056831) / 2, 0.5,
	                      (1 + 0.5384693101056831) / 2, (1 + 0.9061798459386640) / 2};
	const double gw[5] = {0.2369268850561891 / 2, 0.4786286704993665 / 2, 64.0 / 225, 0.4786286704993665 / 2,
	                      0.2369268850561891 / 2};
	cplx d0 = a.dz * mk(L, 0), d1 = b.dz * mk(L, 0);
	cplx s0 = a.d2 * mk(L * L, 0), s1 = b.d2 * mk(L * L, 0);
	cplx dz = b.z - a.z;
	double sum = 0;
#pragma unroll
	for (int k = 0; k < 5; k++) {
		double t = gx[k], t2 = t * t, t3 = t2 * t, t4 = t3 * t, t5 = t4 * t;
		double h1 = t - 6 * t3 + 8 * t4 - 3 * t5;
		double h2 = (t2 - 3 * t3 + 3 * t4 - t5) / 2;
		double h3 = (t3 - 2 * t4 + t5) / 2;
		double h4 = -4 * t3 + 7 * t4 - 3 * t5;
		double h5 = 10 * t3 - 15 * t4 + 6 * t5;
		double g1 = 1 - 18 * t2 + 32 * t3 - 15 * t4;
		double g2 = (2 * t - 9 * t2 + 12 * t3 - 5 * t4) / 2;
		double g3 = (3 * t2 - 8 * t3 + 5 * t4) / 2;
		double g4 = -12 * t2 + 28 * t3 - 15 * t4;
		double g5 = 30 * t2 - 60 * t3 + 30 * t4;
		cplx z = h1 * d0 + h2 * s0 + h3 * s1 + h4 * d1 + h5 * dz;
		cplx zp = g1 * d0 + g2 * s0 + g3 * s1 + g4 * d1 + g5 * dz;
		sum += gw[k] * (z.re * zp.im - z.im * zp.re);
	}
	return sum / 2;
}

// cross2: lens/finite.go cross2.
__device__ inline double cross2(cplx a, cplx b) { return 0.5 * (a.re * b.im - a.im * b.re); }

// perm_of writes into p the pi-th permutation of 0..m-1 (m ≤ 3) in lens/finite.go perms'
// order; perm_count is their number.
__device__ inline int perm_count(int m) { return m == 3 ? 6 : (m == 2 ? 2 : 1); }
__device__ inline void perm_of(int m, int pi, int* p) {
	if (m == 3) {
		int a = pi / 2, r0 = a == 0 ? 1 : 0, r1 = a == 2 ? 1 : 2;
		p[0] = a;
		p[1] = pi % 2 == 0 ? r0 : r1;
		p[2] = pi % 2 == 0 ? r1 : r0;
	} else if (m == 2) {
		p[0] = pi;
		p[1] = 1 - pi;
	} else {
		p[0] = 0;
	}
}

// match_images: lens/finite.go matchImages.
__device__ inline bool match_images(const BSample& sa, const BSample& sb, double L, int* match) {
	for (int i = 0; i < 5; i++) match[i] = -1;
	cplx pa[5], pb[5];
	for (int i = 0; i < 5; i++) {
		pa[i] = sa.img[i].z + sa.img[i].dz * mk(L / 2, 0);
		pb[i] = sb.img[i].z - sb.img[i].dz * mk(L / 2, 0);
	}
	for (int g = 0; g < 2; g++) {
		bool positive = g == 0;
		int ga[5], gb[5], na = 0, nb = 0;
		for (int i = 0; i < sa.n; i++)
			if ((sa.img[i].j > 0) == positive) ga[na++] = i;
		for (int j = 0; j < sb.n; j++)
			if ((sb.img[j].j > 0) == positive) gb[nb++] = j;
		if (na > 3 || nb > 3 || na - nb > 1 || nb - na > 1) return false;
		int k = na, m = nb;
		if (nb < na) {
			k = nb;
			m = na;
		}
		double best = INFINITY;
		int bestP = -1;
		for (int pi = 0; pi < perm_count(m); pi++) {
			int p[3];
			perm_of(m, pi, p);
			double cost = 0;
			for (int t = 0; t < k; t++)
				cost += na <= nb ? abs2(pa[ga[t]] - pb[gb[p[t]]]) : abs2(pa[ga[p[t]]] - pb[gb[t]]);
			if (cost < best) {
				best = cost;
				bestP = pi;
			}
		}
		if (bestP < 0) continue;
		int p[3];
		perm_of(m, bestP, p);
		for (int t = 0; t < k; t++) {
			if (na <= nb) match[ga[t]] = gb[p[t]];
			else match[ga[p[t]]] = gb[t];
		}
	}
	return true;
}

// unmatched_pair: lens/finite.go unmatchedPair (mark[k] < 0: unmatched).
__device__ inline bool unmatched_pair(const BSample& s, const int* mark, int* P, int* M) {
	*P = -1;
	*M = -1;
	int cnt = 0;
	for (int k = 0; k < s.n; k++) {
		if (mark[k] >= 0) continue;
		cnt++;
		if (s.img[k].j > 0) *P = k;
		else *M = k;
	}
	return cnt == 2 && *P >= 0 && *M >= 0;
}

// connector_arc, connector: lens/finite.go connectorArc and connector.
__device__ inline double connector_arc(const BImage& p, const BImage& m, bool created, double sigma2) {
	if (!(sigma2 > 0) || bad(sigma2)) return 0;
	double sigma = sqrt(sigma2);
	cplx dP = mk(2 * sigma, 0) * p.dz, dM = mk(-2 * sigma, 0) * m.dz;
	if (created) return hermite_arc(m.z, p.z, dM, dP, 2 * sigma);
	return hermite_arc(p.z, m.z, dP, dM, 2 * sigma);
}

__device__ inline void connector(const BImage& p, const BImage& m, bool created, double* area, double* err) {
	double d = sqrt(abs2(p.z - m.z));
	double ap = sqrt(abs2(p.dz)), am = sqrt(abs2(m.dz));
	double ch = connector_arc(p, m, created, d / (2 * (ap + am)));
	double chP = connector_arc(p, m, created, d / (4 * ap));
	double chM = connector_arc(p, m, created, d / (4 * am));
	double a = created ? cross2(m.z, p.z) : cross2(p.z, m.z);
	double jj = fabs(p.j) + fabs(m.j);
	*area += a + ch;
	*err += fabs(ch) + fabs(chP - chM) + 0.25 * d * d * jj * jj;
}

// contour_arc: lens/finite.go contour.arc from sa to sb over the angle L; unresolved is the
// unresolved-arc error per radian.
__device__ __noinline__ void contour_arc(const BSample& sa, const BSample& sb, double L, const Disk& D,
                                         double* area_out, double* err_out) {
	const double rho = D.rho;
	double unresolved = D.unresolved_rate * L;
	int match[5];
	if (!match_images(sa, sb, L, match)) {
		*err_out += unresolved;
		return;
	}
	double area = 0, err = 0;
	double lim = kGhostArcSafety * rho * L;
	auto near = [lim](const BSample& s) { return s.ghost > 0 && s.ghost < lim; };
	if (sa.n == 3 && sb.n == 3 && (near(sa) || near(sb))) err += unresolved;
	int usedB[5] = {-1, -1, -1, -1, -1};
	for (int i = 0; i < sa.n; i++) {
		int j = match[i];
		if (j < 0) continue;
		usedB[j] = 0;
		const BImage& ia = sa.img[i];
		const BImage& ib = sb.img[j];
		double p = ia.j > 0 ? 1 : -1;
		double ch = hermite_arc(ia.z, ib.z, ia.dz, ib.dz, L);
		double cq = quintic_arc(ia, ib, L);
		area += p * (cross2(ia.z, ib.z) + cq);
		double e1 = fabs(cq - ch);
		double e2 = 1.5 * fabs(ch) * fabs(abs2(ib.z - ia.z) / (L * L * sqrt(abs2(ia.dz)) * sqrt(abs2(ib.dz))) - 1);
		err += e1 + e2;
	}
	if (sa.n > sb.n) {
		int P, M;
		if (!unmatched_pair(sa, match, &P, &M)) {
			*err_out += unresolved;
			return;
		}
		connector(sa.img[P], sa.img[M], false, &area, &err);
	}
	if (sb.n > sa.n) {
		int P, M;
		if (!unmatched_pair(sb, usedB, &P, &M)) {
			*err_out += unresolved;
			return;
		}
		connector(sb.img[P], sb.img[M], true, &area, &err);
	}
	*area_out += area;
	*err_out += err;
}

// contour_kernel: contour integration of the *count points of list (indices e·nt + j into
// out and status), one block (kContourBlock threads) per point, scratch kContourStore
// samples per block. out[i] must hold the point-source magnification at the disk's centre
// (finite_lc_kernel leaves it there), the scale of the unresolved-arc error. A certified
// point gets out[i] = A and status[i] = 0; the others are left as they are (status 1).
__global__ void __launch_bounds__(kContourBlock) contour_kernel(double* out, int32_t* status, const double* params,
                                                                const double* boxes, const double* ts, long nt,
                                                                double tol, const int32_t* list,
                                                                const unsigned* count, BSample* scratch) {
	// Per-thread partial sums, double-buffered by the parity of a pass counter: a thread
	// writes buffer b only after the barrier of the pass that last read it.
	__shared__ double red[2][2][kContourBlock];
	int pass = 0;
	BSample* S = scratch + long(blockIdx.x) * kContourStore;
	const unsigned nlist = *count;
	const int tid = threadIdx.x;
	for (unsigned k = blockIdx.x; k < nlist; k += gridDim.x) {
		const long i = list[k];
		const long e = i / nt, jt = i - e * nt;
		const double* p = params + 7 * e;
		double s = p[0], q = p[1], alpha = p[2], u0 = p[3], t0 = p[4], te = p[5], rho = p[6];
		double tau = (ts[jt] - t0) / te;
		double sa = sin(alpha), ca = cos(alpha);
		const Disk D{s, q, 1 / (1 + q), q / (1 + q), -s * q / (1 + q), s / (1 + q),
		             mk(u0 * sa - tau * ca, -u0 * ca - tau * sa), rho,
		             10 * out[i] * rho * rho / 2, // lens/finite.go unresolvedErr
		             boxes + 4 * kMaxBoxes * e};
		// The first stored samples: resolution kContourN0/2, first used by arcs of 2π/N0.
		{
			const int n1 = kContourN0 / 2, stride = kContourStore / n1;
			double lim = kGhostArcSafety * rho * kTwoPi / kContourN0;
			for (int m = tid; m < n1; m += blockDim.x)
				contour_sample(D, kContourPhase + kTwoPi * double(m) / n1, lim, &S[m * stride]);
		}
		__syncthreads();
		bool done = false;
		double area = 0, err = 0;
		for (int N = kContourN0; N <= kContourMaxN && !done; N *= 2) {
			const int half = N / 2, cstride = kContourStore / half;
			const double Larc = kTwoPi / N, lim = kGhostArcSafety * rho * Larc;
			double a_loc = 0, e_loc = 0;
			for (int c = tid; c < half; c += blockDim.x) {
				const BSample& A = S[c * cstride];
				const BSample& B = S[((c + 1) % half) * cstride];
				BSample mid;
				contour_sample(D, kContourPhase + kTwoPi * double(2 * c + 1) / N, lim, &mid);
				contour_arc(A, mid, Larc, D, &a_loc, &e_loc);
				contour_arc(mid, B, Larc, D, &a_loc, &e_loc);
				if (N <= kContourStore) S[c * cstride + cstride / 2] = mid;
			}
			// The barrier also publishes the new samples to the block. Every thread sums the
			// partials in the same order: the same bits everywhere, whatever the timing.
			double(*r)[kContourBlock] = red[pass++ & 1];
			r[0][tid] = a_loc;
			r[1][tid] = e_loc;
			__syncthreads();
			area = 0;
			err = 0;
			for (int t = 0; t < kContourBlock; t++) {
				area += r[0][t];
				err += r[1][t];
			}
			done = err <= tol * fabs(area) && fabs(area) <= DBL_MAX;
		}
		if (tid == 0 && done) {
			out[i] = area / (3.141592653589793 * rho * rho);
			status[i] = 0;
		}
		// No barrier: the scratch was last read before the last pass's barrier.
	}
}

constexpr int kBlock = 128;

// ---- inverse ray shooting (lens/raymap.go) ----

constexpr int kRayTile = 16; // lens/raymap.go rayTile: a tile is 16 × 16 rays, one block

// RayGeom is the image-plane lattice and the source rectangle of a map: ray (kx, ky) sits at
// (origin + (kx + ½)h, origin + (ky + ½)h); tile (ix, iy) holds rays
// (16 ix + i, 16 iy + j), 0 ≤ i, j < 16; the root square of 2^level tiles per side starts
// at origin on both axes.
struct RayGeom {
	double m1, m2, a1, a2;     // lens masses and positions (real axis)
	double x0, x1, y0, y1;     // source rectangle
	double inv_dx, inv_dy;     // inverse pixel size
	double fnx, fny;
	int nx;
	double origin, h, t;       // lattice origin, ray spacing, tile side 16 h
};

struct TileIdx {
	long long ix, iy;
};

// may_hit: lens/raymap.go rayCuller.mayHit. The image of the disk (cx, cy, r) under the lens
// map lies in a disk (each term M/conj(z - X) maps a disk onto a disk); it reports whether
// that disk may meet the source rectangle, and true when the disk (nearly) holds a lens.
__device__ inline bool may_hit(const RayGeom& g, double cx, double cy, double r) {
	double r2 = r * r;
	double px = cx, py = cy, rad = r;
	const double ms[2] = {g.m1, g.m2}, xs[2] = {g.a1, g.a2};
	for (int l = 0; l < 2; l++) {
		double ux = cx - xs[l], uy = cy;
		double den = ux * ux + uy * uy - r2;
		if (den <= 1e-9 * r2) return true;
		double f = ms[l] / den;
		px -= f * ux;
		py -= f * uy;
		rad += f * r;
	}
	rad = rad * (1 + 1e-9) + 1e-300;
	double ex = fmax(0.0, fmax(g.x0 - px, px - g.x1));
	double ey = fmax(0.0, fmax(g.y0 - py, py - g.y1));
	return ex * ex + ey * ey <= rad * rad;
}

// may_hit_node tests the square of 2^level tiles whose lower-left tile is (ix, iy), as
// rayCuller.visit does.
__device__ inline bool may_hit_node(const RayGeom& g, long long ix, long long iy, int level) {
	double side = g.t * ldexp(1.0, level);
	double cx = g.origin + double(ix) * g.t + side / 2;
	double cy = g.origin + double(iy) * g.t + side / 2;
	return may_hit(g, cx, cy, side / 1.4142135623730951);
}

// cull_root_kernel: one thread; out = {(0, 0)} when the root square may hit, *n_out = 0 or 1.
__global__ void cull_root_kernel(RayGeom g, int level, TileIdx* out, unsigned long long* n_out) {
	if (blockIdx.x == 0 && threadIdx.x == 0) {
		bool keep = may_hit_node(g, 0, 0, level);
		if (keep) out[0] = TileIdx{0, 0};
		*n_out = keep ? 1 : 0;
	}
}

// cull_kernel: for every node of in (n_in, at level child_level + 1) appends to out the
// children (at child_level) that may hit, in any order (the counts are integers, so the
// order of the tiles does not change the map). *n_out counts them.
__global__ void cull_kernel(RayGeom g, const TileIdx* in, long n_in, int child_level, TileIdx* out,
                            unsigned long long* n_out) {
	long long half = 1LL << child_level;
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n_in; i += long(gridDim.x) * blockDim.x) {
		TileIdx p = in[i];
		for (int c = 0; c < 4; c++) {
			long long ix = p.ix + (c & 1 ? half : 0), iy = p.iy + (c & 2 ? half : 0);
			if (may_hit_node(g, ix, iy, child_level)) out[atomicAdd(n_out, 1ULL)] = TileIdx{ix, iy};
		}
	}
}

// shoot_kernel: one block of 256 threads per tile (grid-stride over tiles), one thread per
// ray. The arithmetic is lens/raymap.go rayShooter.shootTile's, operation for operation,
// with the _rn intrinsics so that nvcc does not contract it into FMAs: a ray lands in the
// same pixel as on the CPU (Go on amd64 does not fuse either), and the counts are equal.
__global__ void shoot_kernel(RayGeom g, const TileIdx* tiles, long n_tiles, uint32_t* counts) {
	int i = threadIdx.x % kRayTile, j = threadIdx.x / kRayTile;
	for (long k = blockIdx.x; k < n_tiles; k += gridDim.x) {
		TileIdx tl = tiles[k];
		double bx = double(tl.ix * kRayTile) + 0.5;
		double by = double(tl.iy * kRayTile) + 0.5;
		double z2 = __dadd_rn(g.origin, __dmul_rn(by + double(j), g.h));
		double z22 = __dmul_rn(z2, z2);
		double z1 = __dadd_rn(g.origin, __dmul_rn(bx + double(i), g.h));
		double d1 = z1 - g.a1, d2 = z1 - g.a2;
		double r1 = __dadd_rn(__dmul_rn(d1, d1), z22), r2 = __dadd_rn(__dmul_rn(d2, d2), z22);
		double inv = 1 / __dmul_rn(r1, r2);
		double f1 = __dmul_rn(__dmul_rn(g.m1, r2), inv), f2 = __dmul_rn(__dmul_rn(g.m2, r1), inv);
		double u = __dmul_rn(__dsub_rn(__dsub_rn(__dsub_rn(z1, __dmul_rn(f1, d1)), __dmul_rn(f2, d2)), g.x0), g.inv_dx);
		double v = __dmul_rn(__dsub_rn(__dmul_rn(z2, __dsub_rn(__dsub_rn(1.0, f1), f2)), g.y0), g.inv_dy);
		if (u >= 0 && u < g.fnx && v >= 0 && v < g.fny) atomicAdd(&counts[long(v) * g.nx + long(u)], 1u);
	}
}

} // namespace

extern "C" {

int mlcu_binary_point_mag(double* d_out, const double* d_y1, const double* d_y2, long n, double s, double q) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(point_mag_kernel, mlcu::grid_1d(n, kBlock), dim3(kBlock), 0, d_out, d_y1, d_y2, n, s, q);
	MLCU_LAUNCHED();
}

int mlcu_binary_point_mag_many(double* d_out, const double* d_s, const double* d_q, const double* d_y1,
                               const double* d_y2, long n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(point_mag_many_kernel, mlcu::grid_1d(n, kBlock), dim3(kBlock), 0, d_out, d_s, d_q, d_y1, d_y2, n);
	MLCU_LAUNCHED();
}

int mlcu_binary_point_light_curves(double* d_out, const double* d_params, const double* d_times, long n_events,
                                   long n_times) {
	if (n_events <= 0 || n_times <= 0) return 0;
	MLCU_LAUNCH(point_lc_kernel, mlcu::grid_1d(n_events * n_times, kBlock), dim3(kBlock), 0, d_out, d_params,
	            d_times, n_events, n_times);
	MLCU_LAUNCHED();
}

int mlcu_binary_ray_map(uint32_t* d_counts, double m1, double m2, double a1, double a2, double x0, double x1,
                        double y0, double y1, int nx, int ny, double h, double origin, int level, long* h_n_tiles) {
	mlcu::set_host(h_n_tiles, 0L);
	MLCU_TRY(cudaMemset(d_counts, 0, size_t(nx) * size_t(ny) * sizeof(uint32_t)));
	RayGeom g;
	g.m1 = m1;
	g.m2 = m2;
	g.a1 = a1;
	g.a2 = a2;
	g.x0 = x0;
	g.x1 = x1;
	g.y0 = y0;
	g.y1 = y1;
	double dx = (x1 - x0) / double(nx), dy = (y1 - y0) / double(ny);
	g.inv_dx = 1 / dx;
	g.inv_dy = 1 / dy;
	g.fnx = double(nx);
	g.fny = double(ny);
	g.nx = nx;
	g.origin = origin;
	g.h = h;
	g.t = kRayTile * h;

	// Quadtree culling, one level per launch: the node list of level l + 1 gives that of l
	// (at most 4 times longer); the count comes back to size the next launch.
	unsigned long long* d_n = nullptr;
	TileIdx* d_in = nullptr;
	MLCU_TRY(cudaMalloc((void**)&d_n, sizeof *d_n));
	int err = int(cudaMalloc((void**)&d_in, sizeof(TileIdx)));
	unsigned long long n = 0;
	if (err == 0) {
		MLCU_LAUNCH(cull_root_kernel, dim3(1), dim3(1), 0, g, level, d_in, d_n);
		err = int(cudaGetLastError());
	}
	if (err == 0) err = int(cudaMemcpy(&n, d_n, sizeof n, cudaMemcpyDeviceToHost));
	for (int l = level - 1; err == 0 && l >= 0 && n > 0; l--) {
		TileIdx* d_out = nullptr;
		err = int(cudaMalloc((void**)&d_out, 4 * n * sizeof(TileIdx)));
		if (err == 0) err = int(cudaMemset(d_n, 0, sizeof *d_n));
		if (err == 0) {
			MLCU_LAUNCH(cull_kernel, mlcu::grid_1d(long(n), 256), dim3(256), 0, g, d_in, long(n), l, d_out, d_n);
			err = int(cudaGetLastError());
		}
		if (err == 0) err = int(cudaMemcpy(&n, d_n, sizeof n, cudaMemcpyDeviceToHost));
		cudaFree(d_in);
		d_in = d_out;
	}
	if (err == 0 && n > 0) {
		long blocks = long(n) < 65535L * 32 ? long(n) : 65535L * 32;
		MLCU_LAUNCH(shoot_kernel, dim3(unsigned(blocks)), dim3(kRayTile * kRayTile), 0, g, d_in, long(n), d_counts);
		err = int(cudaGetLastError());
	}
	if (err == 0) err = int(cudaDeviceSynchronize());
	cudaFree(d_in);
	cudaFree(d_n);
	mlcu::set_host(h_n_tiles, long(n));
	return err;
}

int mlcu_binary_finite_light_curves(double* d_out, int32_t* d_status, const double* d_params, const double* d_boxes,
                                    const double* d_times, long n_events, long n_times, double tol) {
	if (n_events <= 0 || n_times <= 0) return 0;
	MLCU_LAUNCH(finite_lc_kernel, mlcu::grid_1d(n_events * n_times, kBlock), dim3(kBlock), 0, d_out, d_status,
	            d_params, d_boxes, d_times, n_events, n_times, tol, (int32_t*)nullptr, (unsigned*)nullptr);
	MLCU_LAUNCHED();
}

long mlcu_binary_contour_scratch_len(int blocks) {
	return long(blocks) * kContourStore * long(sizeof(BSample) / sizeof(double));
}

int mlcu_binary_finite_light_curves_contour(double* d_out, int32_t* d_status, const double* d_params,
                                            const double* d_boxes, const double* d_times, long n_events,
                                            long n_times, double tol, int32_t* d_list, uint32_t* d_count,
                                            double* d_scratch, int blocks) {
	if (n_events <= 0 || n_times <= 0) return 0;
	MLCU_TRY(cudaMemset(d_count, 0, sizeof *d_count));
	MLCU_LAUNCH(finite_lc_kernel, mlcu::grid_1d(n_events * n_times, kBlock), dim3(kBlock), 0, d_out, d_status,
	            d_params, d_boxes, d_times, n_events, n_times, tol, d_list, (unsigned*)d_count);
	MLCU_TRY(cudaGetLastError());
	MLCU_LAUNCH(contour_kernel, dim3(unsigned(blocks)), dim3(kContourBlock), 0, d_out, d_status, d_params, d_boxes,
	            d_times, n_times, tol, (const int32_t*)d_list, (const unsigned*)d_count,
	            reinterpret_cast<BSample*>(d_scratch));
	MLCU_LAUNCHED();
}

} // extern "C"
