/* Closed forms of the theory (MATH.md "Notation" and "Closed forms of the landscape").
 *
 * Everything here is called inside the suite's inner loops (Q for every sampled pair),
 * so nothing allocates: the k-vectors that the formulas mention (x^, y^, the bisectors)
 * are recomputed entry by entry from x and y instead of being stored. */
#include "gpmc/theory.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_cdf.h>
#include <float.h>
#include <math.h>

#include "gpmc/constants.h"

/* |x^ + y^|, |x^ - y^| and <x^ + y^, x^ - y^>, with the unit vectors built on the fly.
 * Sums and differences of the unit vectors, rather than <x^, y^>, are what keep
 * near-parallel and near-antipodal pairs accurate: |x^ - y^| carries a small angle with
 * full relative precision, while 1 - <x^, y^> would lose it to cancellation. */
static void bisectors(const double *x, const double *y, size_t k, double ix, double iy,
                      double *nsum, double *ndiff, double *cross)
{
    double ss = 0, dd = 0, sd = 0;
    for (size_t i = 0; i < k; i++) {
        double a = x[i] * ix, b = y[i] * iy;
        ss += (a + b) * (a + b);
        dd += (a - b) * (a - b);
        sd += (a + b) * (a - b);
    }
    *nsum = sqrt(ss);
    *ndiff = sqrt(dd);
    *cross = sd;
}

/* 1/|x| and 1/|y|; dnrm2 scales internally, so huge or tiny inputs do not overflow. */
static int inverse_norms(const double *x, const double *y, size_t k, double *ix, double *iy)
{
    double nx = cblas_dnrm2((int)k, x, 1), ny = cblas_dnrm2((int)k, y, 1);
    if (!(nx > 0) || !(ny > 0))
        return 0;
    *ix = 1 / nx;
    *iy = 1 / ny;
    return 1;
}

/* Kahan's form theta = 2 atan2(|x^ - y^|, |x^ + y^|): it is the atan2 of the wedge and the
 * dot product named in theory.h written in half angles (|x^ -+ y^| = 2 sin, 2 cos of
 * theta/2), and unlike either arccos or a wedge computed as sqrt(1 - dot^2) it keeps full
 * relative accuracy at theta near 0 and near pi. A zero vector has no direction: NaN. */
double gpmc_angle(const double *x, const double *y, size_t k)
{
    double ix, iy, nsum, ndiff, cross;
    if (!inverse_norms(x, y, k, &ix, &iy))
        return NAN;
    bisectors(x, y, k, ix, iy, &nsum, &ndiff, &cross);
    return 2 * atan2(ndiff, nsum);
}

/* M is the reflection of span{x, y} across the bisector of x^ and y^, zero on the
 * complement: with u = (x^ + y^)/|x^ + y^| and v = (x^ - y^)/|x^ - y^|,
 * M = u u^T - v v^T. Writing x^ = cos(t/2) u + sin(t/2) v and y^ = cos(t/2) u - sin(t/2) v
 * shows M x^ = y^ and M y^ = x^, and expanding in MATH.md's (e1, e2) basis gives its
 * cos/sin form. This form needs no division by sin(theta), and its limits are the ones
 * MATH.md asks for: at theta = 0 the difference vanishes and M = x^ x^T; at theta = pi the
 * sum vanishes and M = -x^ x^T.
 *
 * The rounded unit vectors differ in length by about EPS, which leaves a component of
 * size EPS along the longer of x^ +- y^ in the shorter one: harmless to the longer, but
 * an O(EPS/theta) tilt of the shorter (so u and v would no longer be orthogonal and
 * M x^ = y^ would hold only to EPS/theta). Projecting that component out of the shorter
 * vector restores accuracy EPS for M x^ = y^ at every angle. (M itself jumps at 0 and pi:
 * for a pair parallel only up to rounding, the -1 direction is that of the rounding
 * noise. Q weights M by sin(theta) ~ EPS there, so Q stays continuous and accurate.) */
typedef struct {
    double ix, iy;    /* 1/|x|, 1/|y| */
    int sum_major;    /* |x^ + y^| >= |x^ - y^| (theta <= pi/2) */
    double gamma;     /* projection coefficient of the shorter vector on the longer */
    double imaj, imin; /* reciprocal norms of the longer and the projected shorter vector */
} frame;

static void frame_uv(const frame *f, double xi, double yi, double *u, double *v)
{
    double a = xi * f->ix, b = yi * f->iy, s = a + b, d = a - b;
    if (f->sum_major) {
        *u = s * f->imaj;
        *v = (d - f->gamma * s) * f->imin;
    } else {
        *u = (s - f->gamma * d) * f->imin;
        *v = d * f->imaj;
    }
}

static double reflection(const double *x, const double *y, size_t k, double *out)
{
    frame f;
    double nsum, ndiff, sd;
    if (!inverse_norms(x, y, k, &f.ix, &f.iy)) {
        for (size_t i = 0; i < k * k; i++)
            out[i] = NAN;
        return NAN;
    }
    bisectors(x, y, k, f.ix, f.iy, &nsum, &ndiff, &sd);
    /* |x^ + y^|^2 + |x^ - y^|^2 = 4, so the longer one is never near zero. */
    f.sum_major = nsum >= ndiff;
    double major = f.sum_major ? nsum : ndiff;
    f.imaj = 1 / major;
    f.gamma = sd / (major * major);
    f.imin = 1; /* provisional, to measure the projected shorter vector */
    double mm = 0;
    for (size_t i = 0; i < k; i++) {
        double u, v;
        frame_uv(&f, x[i], y[i], &u, &v);
        mm += f.sum_major ? v * v : u * u;
    }
    f.imin = mm > 0 ? 1 / sqrt(mm) : 0;
    for (size_t i = 0; i < k; i++) {
        double ui, vi;
        frame_uv(&f, x[i], y[i], &ui, &vi);
        for (size_t j = 0; j <= i; j++) {
            double uj, vj;
            frame_uv(&f, x[j], y[j], &uj, &vj);
            double m = ui * uj - vi * vj;
            out[i * k + j] = m;
            out[j * k + i] = m;
        }
    }
    return 2 * atan2(ndiff, nsum); /* the angle, as in gpmc_angle */
}

void gpmc_theory_M(const double *x, const double *y, size_t k, double *out)
{
    reflection(x, y, k, out);
}

void gpmc_theory_Q(const double *x, const double *y, size_t k, double scale, double *out)
{
    double theta = reflection(x, y, k, out);
    double a = scale * (GPMC_PI - theta) / (2 * GPMC_PI), b = scale * sin(theta) / (2 * GPMC_PI);
    for (size_t i = 0; i < k * k; i++)
        out[i] *= b;
    for (size_t i = 0; i < k; i++)
        out[i * k + i] += a;
}

/* sin t - t cos t = sum_{n>=1} (-1)^(n+1) 2n t^(2n+1)/(2n+1)!, summed as a series for
 * t < 1 (consecutive terms have ratio -t^2/(2n(2n+3))), where the direct difference
 * would cancel to an absolute error EPS t against a value t^3/3. */
static double sin_minus_t_cos(double t)
{
    if (t >= 1)
        return sin(t) - t * cos(t);
    double term = t * t * t / 3, sum = term;
    for (int n = 1; fabs(term) > 0.25 * DBL_EPSILON * sum; n++) {
        term *= -t * t / (2.0 * n * (2.0 * n + 3));
        sum += term;
    }
    return sum;
}

/* g = arccos(c), c = ((pi - t) cos t + sin t)/pi. For small t, c = 1 - t^2/2 + O(t^3),
 * so arccos(c) would return 0 once t^2 drops below the rounding of 1. Instead compute
 * 1 - c = (2 pi sin^2(t/2) - (sin t - t cos t))/pi, both terms without cancellation
 * (the second is t^3/3 + ..., against pi t^2/2 for the first), and
 * arccos(c) = 2 asin(sqrt((1 - c)/2)). */
double gpmc_theory_g(double theta)
{
    double s = sin(0.5 * theta);
    double one_minus_c = (2 * GPMC_PI * s * s - sin_minus_t_cos(theta)) / GPMC_PI;
    if (one_minus_c < 0) /* only rounding can make it negative; c <= 1 exactly */
        one_minus_c = 0;
    return 2 * asin(sqrt(0.5 * one_minus_c));
}

/* Both rho_d and h need S = sum_{i<d} (sin t_i/pi) prod_{i<j<d} p_j and P_0 = prod_j p_j
 * over the angle sequence t_0, t_i = g(t_{i-1}), p_j = (pi - t_j)/pi. The running sum
 * R_{m+1} = R_m p_m + sin(t_m)/pi yields S = R_d in one forward pass with no array. */
static void landscape_sums(double theta0, int d, double *S, double *P0)
{
    double t = theta0, R = 0, P = 1;
    for (int m = 0; m < d; m++) {
        double p = (GPMC_PI - t) / GPMC_PI;
        R = R * p + sin(t) / GPMC_PI;
        P *= p;
        t = gpmc_theory_g(t);
    }
    *S = R;
    *P0 = P;
}

double gpmc_theory_rho(int d)
{
    double S, P0;
    landscape_sums(GPMC_PI, d, &S, &P0);
    return S;
}

void gpmc_theory_h(const double *x, const double *x0, size_t k, int d, double *out)
{
    double S, P0;
    landscape_sums(gpmc_angle(x, x0, k), d, &S, &P0);
    double nx = cblas_dnrm2((int)k, x, 1), nx0 = cblas_dnrm2((int)k, x0, 1);
    double scale = ldexp(1.0, -d);
    double cx = scale * (1 - S * (nx0 / nx)), cx0 = -scale * P0;
    for (size_t i = 0; i < k; i++)
        out[i] = cx * x[i] + cx0 * x0[i];
}

/* For w ~ N(0, I_k/l) and r^2 = 9k/l, rotational invariance gives
 * E[1{|w| <= r} w w^T] = E[|w|^2 1{|w| <= r}]/k I, and E[chi2_k 1{chi2_k <= s}] =
 * k P(chi2_{k+2} <= s), so each of the l rows contributes P(chi2_{k+2} <= 9k)/l I. */
double gpmc_theory_alpha_truncated(size_t k)
{
    return gsl_cdf_chisq_P(9.0 * (double)k, (double)k + 2.0);
}
