/* Thin wrappers over CBLAS/LAPACKE (linalg.h), plus the one routine the suite's inner
 * loop needs and LAPACK does slowly for small matrices: the extreme eigenvalues of a
 * symmetric k x k matrix.
 *
 * Why not just LAPACKE_dsyev_work(jobz 'N')? Measured on this machine (one OpenBLAS
 * thread): dsyev takes 4.3 us at k = 10 and 15 us at k = 20, while the two GEMMs that
 * build one WDC deviation matrix take ~2 us (k = 10, n = 500) and ~25 us (k = 20,
 * n = 2000). Most of dsyev's time is dsterf (the QL sweep for *all* eigenvalues: a chain
 * of dependent square roots) and per-call overhead of the unblocked dsytd2. The spectral
 * norm of a symmetric matrix needs only lambda_min and lambda_max, so:
 *
 *   1. tridiagonalise T = H^T A H (Householder; plain loops for k <= SMALL_K where the
 *      matrix sits in L1 and call overhead dominates, LAPACK's blocked dsytrd above);
 *   2. find the largest eigenvalue of T and of -T by Laguerre's iteration on the
 *      characteristic polynomial, evaluated with the LDL^T (Sturm) recurrence that
 *      bisection uses, safeguarded by the Sturm count bracket.
 *
 * Laguerre's method from above the largest root of a polynomial with only real roots
 * converges monotonically and cubically (Wilkinson, The Algebraic Eigenvalue Problem,
 * 7.9), so a handful of O(k) sweeps replace dsterf's O(k^2) ones: 1.2 us at k = 10.
 * The Sturm recurrence is backward stable (each q_i is exact for T perturbed by a few
 * ulps), so the extremes are accurate to O(k eps ||A||), as the unit tests check
 * against LAPACKE_dsyev on known spectra. */
#include "gpmc/linalg.h"
#include "gpmc/error.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Up to this size the Householder loops run here; above it, LAPACK's blocked dsytrd. */
#define SMALL_K 48
/* Pivots of the Sturm recurrence smaller than this (T scaled to max entry 1) are replaced
 * by -PIVMIN, as LAPACK's dstebz does with its pivmin: a perturbation of one diagonal
 * entry by 5e-32 relative to ||T||, which keeps 1/q and its square finite. */
#define PIVMIN (DBL_EPSILON * DBL_EPSILON)

struct gpmc_symeig {
    size_t k;
    double *a;      /* k*k: the scaled copy, destroyed by the tridiagonalisation */
    double *d, *e;  /* diagonal (k) and off-diagonal (k) of T */
    double *v, *p;  /* Householder vector and A v (small path) */
    double *tau;    /* LAPACK path: reflector scalars (k) */
    double *work;   /* LAPACK path: dsytrd workspace from the size query */
    lapack_int lwork;
};

/* max(m, |x|) without a libm call (fmax is one unless math is finite-only); m >= 0. */
static inline double max_abs(double m, double x)
{
    double a = fabs(x);
    return a > m ? a : m;
}

/* s = 2^e where m = f 2^e, f in [0.5, 1), so m/s is in [0.5, 1); returns 1/s. Scaling
 * by a power of two is exact: it adds no rounding. m > 0 and finite. */
static double pow2_scale(double m, double *s)
{
    int ex;
    frexp(m, &ex);
    *s = ldexp(1.0, ex);
    return ldexp(1.0, -ex);
}

/* ---- tridiagonalisation --------------------------------------------------------- */

/* Householder reduction of the symmetric row-major k x k matrix a, of which only the
 * upper triangle is read and updated, to tridiagonal form: d[0..k) diagonal, e[0..k-1)
 * off-diagonal (signs are irrelevant for eigenvalues). Step j reads its reflector from
 * row j (contiguous); the trailing matrix is updated as LAPACK's dsytd2 does (symv, then
 * a symmetric rank-2 update) but on the upper triangle only: 4 m^2 flops per step. */
static void tridiag_small(double *a, size_t k, double *d, double *e, double *v, double *p)
{
    for (size_t j = 0; j + 2 < k; j++) {
        size_t m = k - j - 1;
        const double *x = a + j * k + j + 1;
        double ss = 0;
        for (size_t i = 0; i < m; i++)
            ss += x[i] * x[i];
        d[j] = a[j * k + j];
        if (ss == 0) {
            e[j] = 0;
            continue;
        }
        double xn = sqrt(ss), x0 = x[0];
        double beta = x0 >= 0 ? -xn : xn;
        /* H = I - tau v v^T with v = x - beta e1: v^T v = 2 |x| (|x| + |x0|). */
        double tau = 1 / (xn * (xn + fabs(x0)));
        for (size_t i = 0; i < m; i++)
            v[i] = x[i];
        v[0] = x0 - beta;
        e[j] = beta;
        /* A22 <- H A22 H = A22 - v w^T - w v^T with p = tau A22 v, w = p - (tau/2)(p^T v) v. */
        double *A = a + (j + 1) * k + (j + 1);
        for (size_t i = 0; i < m; i++)
            p[i] = 0;
        for (size_t i = 0; i < m; i++) { /* p = A22 v from the upper triangle */
            const double *row = A + i * k;
            double vi = v[i], acc = row[i] * vi;
            for (size_t l = i + 1; l < m; l++) {
                acc += row[l] * v[l];
                p[l] += row[l] * vi;
            }
            p[i] += acc;
        }
        double pv = 0;
        for (size_t i = 0; i < m; i++) {
            p[i] *= tau;
            pv += p[i] * v[i];
        }
        double c = 0.5 * tau * pv;
        for (size_t i = 0; i < m; i++)
            p[i] -= c * v[i];
        for (size_t i = 0; i < m; i++) {
            double *row = A + i * k;
            double vi = v[i], wi = p[i];
            for (size_t l = i; l < m; l++)
                row[l] -= vi * p[l] + wi * v[l];
        }
    }
    if (k >= 2) {
        d[k - 2] = a[(k - 2) * k + (k - 2)];
        e[k - 2] = a[(k - 2) * k + (k - 1)];
    }
    d[k - 1] = a[(k - 1) * k + (k - 1)];
}

/* LAPACK's blocked reduction. a is row-major with its upper triangle set, which is the
 * lower triangle of the same memory read column-major: no transposed copy, so
 * LAPACKE's _work layer allocates nothing. */
static int tridiag_lapack(double *a, size_t k, double *d, double *e, double *tau,
                          double *work, lapack_int lwork)
{
    lapack_int info = LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', (lapack_int)k, a,
                                          (lapack_int)k, d, e, tau, work, lwork);
    return info == 0 ? GPMC_OK : GPMC_ENUM;
}

/* ---- extreme eigenvalues of a symmetric tridiagonal ------------------------------- */

/* One step of the LDL^T (Sturm) recurrence of sign*T - lam I, where T has diagonal d and
 * squared off-diagonal e2, accumulating what Laguerre's iteration needs about
 * f(lam) = det(sign*T - lam I) = prod q_i:
 *   q_i = sign d_i - lam - e2_{i-1}/q_{i-1},
 *   q_i' = -1 + t r_{i-1},  q_i'' = t (s_{i-1} - 2 r_{i-1}^2),  t = e2_{i-1}/q_{i-1},
 * with r_i = q_i'/q_i, s_i = q_i''/q_i:  G = f'/f = sum r_i,  H = -(f'/f)' = sum r_i^2 - s_i,
 * and count = number of negative q_i = number of eigenvalues of sign*T below lam. */
typedef struct {
    double lam, iq, r, s, G, H;
    size_t count;
} sturm_acc;

static inline void sturm_first(sturm_acc *a, double d0, double lam)
{
    double q = d0 - lam;
    if (fabs(q) < PIVMIN)
        q = -PIVMIN;
    a->lam = lam;
    a->iq = 1 / q;
    a->r = -a->iq;
    a->s = 0;
    a->G = a->r;
    a->H = a->r * a->r;
    a->count = q < 0;
}

static inline void sturm_next(sturm_acc *a, double di, double e2)
{
    double t = e2 * a->iq;
    double qp = -1 + t * a->r, qpp = t * (a->s - 2 * a->r * a->r);
    double q = di - a->lam - t;
    if (fabs(q) < PIVMIN)
        q = -PIVMIN;
    a->iq = 1 / q;
    a->r = qp * a->iq;
    a->s = qpp * a->iq;
    a->count += q < 0;
    a->G += a->r;
    a->H += a->r * a->r - a->s;
}

/* Laguerre's iteration for the largest eigenvalue of sign*T (entries scaled to
 * magnitude < 1, the largest >= 1/2, so ||T|| >= 1/2 and an absolute tolerance of a few
 * eps is a relative one).
 *
 * Invariant: lambda_max is in [lo, hi) (Sturm counts: count(hi) = k, count(lo) < k).
 * From above lambda_max, Laguerre's step s satisfies (lam - lambda_max)/k <= s <=
 * lam - lambda_max (it is at least the Newton step 1/G since H <= G^2 there), so a step
 * below tol ends the iteration within k*tol of lambda_max, and ~tol for a simple root
 * (cubic convergence). A tiny step from *below* lambda_max may be a pull towards a lower
 * eigenvalue instead, so there we only probe just above and continue; the bracket, with
 * bisection whenever Laguerre leaves it, guarantees termination. */
typedef struct {
    double lo, hi, lam, tol, result;
    int done;
} laguerre;

/* Start below the Gershgorin bound hi of sign*T (lambda_max >= lo = max diagonal, a
 * Rayleigh quotient; rmax = largest Gershgorin radius, 0 for a diagonal T). */
static void laguerre_init(laguerre *L, double lo, double hi, double rmax)
{
    L->tol = 4 * DBL_EPSILON * (1 + fabs(hi));
    L->lo = lo;
    L->hi = hi + L->tol; /* strictly above every eigenvalue despite rounding */
    L->lam = L->hi;
    L->done = rmax == 0; /* diagonal (or k = 1): the Rayleigh bound is exact */
    L->result = lo;
}

static void laguerre_step(laguerre *L, const sturm_acc *a, size_t k)
{
    double n = (double)k, lam = L->lam;
    int above = a->count == k;
    if (above)
        L->hi = lam;
    else
        L->lo = lam;
    if (L->hi - L->lo <= L->tol) {
        L->done = 1;
        L->result = 0.5 * (L->lo + L->hi);
        return;
    }
    /* lam - n / (G +- sqrt((n-1)(nH - G^2))), the sign of G. */
    double disc = (n - 1) * (n * a->H - a->G * a->G);
    double den = a->G + copysign(sqrt(disc > 0 ? disc : 0), a->G);
    double next = den != 0 && isfinite(den) ? lam - n / den : NAN;
    if (fabs(next - lam) <= L->tol) { /* false for NaN */
        if (above) {
            L->done = 1;
            L->result = next;
            return;
        }
        next = lam + L->tol;
    }
    if (!(next > L->lo && next < L->hi)) /* outside the bracket (or NaN): bisect */
        next = 0.5 * (L->lo + L->hi);
    L->lam = next;
}

/* lambda_min and lambda_max of T (d, e overwritten: scaled, e squared). The two
 * iterations (on T and on -T) run in lockstep through one loop: each Sturm sweep is a
 * chain of dependent divisions, so two independent chains take the time of one. */
static void tri_extreme(double *d, double *e, size_t k, double *lmin, double *lmax)
{
    double m = 0;
    for (size_t i = 0; i < k; i++)
        m = max_abs(m, d[i]);
    for (size_t i = 0; i + 1 < k; i++)
        m = max_abs(m, e[i]);
    if (m == 0) {
        *lmin = *lmax = 0;
        return;
    }
    double s, is = pow2_scale(m, &s);
    /* Scale; Gershgorin bounds of T and -T; then square the off-diagonal. */
    double lo_up = -INFINITY, hi_up = -INFINITY, lo_dn = -INFINITY, hi_dn = -INFINITY;
    double rmax = 0, eprev = 0;
    for (size_t i = 0; i < k; i++) {
        double di = d[i] * is, ei = i + 1 < k ? fabs(e[i] * is) : 0, r = eprev + ei;
        d[i] = di;
        lo_up = di > lo_up ? di : lo_up;
        hi_up = di + r > hi_up ? di + r : hi_up;
        lo_dn = -di > lo_dn ? -di : lo_dn;
        hi_dn = r - di > hi_dn ? r - di : hi_dn;
        rmax = r > rmax ? r : rmax;
        if (i + 1 < k)
            e[i] = ei * ei;
        eprev = ei;
    }
    laguerre up, dn; /* largest eigenvalue of T and of -T */
    laguerre_init(&up, lo_up, hi_up, rmax);
    laguerre_init(&dn, lo_dn, hi_dn, rmax);
    for (int it = 0; it < 200 && !(up.done && dn.done); it++) {
        sturm_acc a, b;
        sturm_first(&a, d[0], up.lam);
        sturm_first(&b, -d[0], dn.lam);
        for (size_t i = 1; i < k; i++) {
            sturm_next(&a, d[i], e[i - 1]);
            sturm_next(&b, -d[i], e[i - 1]);
        }
        if (!up.done)
            laguerre_step(&up, &a, k);
        if (!dn.done)
            laguerre_step(&dn, &b, k);
    }
    if (!up.done)
        up.result = 0.5 * (up.lo + up.hi);
    if (!dn.done)
        dn.result = 0.5 * (dn.lo + dn.hi);
    *lmax = s * up.result;
    *lmin = -s * dn.result;
}

/* ---- gpmc_symeig ------------------------------------------------------------------ */

gpmc_symeig *gpmc_symeig_alloc(size_t k)
{
    if (k == 0)
        return NULL;
    gpmc_symeig *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->k = k;
    e->a = malloc(k * k * sizeof *e->a);
    e->d = malloc(k * sizeof *e->d);
    e->e = malloc(k * sizeof *e->e);
    e->v = malloc(k * sizeof *e->v);
    e->p = malloc(k * sizeof *e->p);
    e->tau = malloc(k * sizeof *e->tau);
    if (!e->a || !e->d || !e->e || !e->v || !e->p || !e->tau) {
        gpmc_symeig_free(e);
        return NULL;
    }
    if (k > SMALL_K) {
        double q;
        lapack_int info = LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', (lapack_int)k, e->a,
                                              (lapack_int)k, e->d, e->e, e->tau, &q, -1);
        e->lwork = info == 0 && q >= 1 ? (lapack_int)q : (lapack_int)k;
        e->work = malloc((size_t)e->lwork * sizeof *e->work);
        if (!e->work) {
            gpmc_symeig_free(e);
            return NULL;
        }
    }
    return e;
}

void gpmc_symeig_free(gpmc_symeig *e)
{
    if (!e)
        return;
    free(e->a);
    free(e->d);
    free(e->e);
    free(e->v);
    free(e->p);
    free(e->tau);
    free(e->work);
    free(e);
}

int gpmc_symeig_extreme(gpmc_symeig *e, const double *a, double *lmin, double *lmax)
{
    size_t k = e->k;
    /* Copy the upper triangle, scaled to max |entry| = 1 so that
     * the Householder norms cannot overflow or underflow. */
    double m = 0;
    int bad = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++) {
            double v = fabs(a[i * k + j]);
            bad |= !(v <= DBL_MAX); /* NaN or Inf */
            m = v > m ? v : m;
        }
    if (bad) {
        *lmin = *lmax = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme", "matrix has NaN or Inf entries");
    }
    if (m == 0) {
        *lmin = *lmax = 0;
        return GPMC_OK;
    }
    double s, is = pow2_scale(m, &s);
    for (size_t i = 0; i < k; i++) /* upper triangle only: both tridiagonalisers read it */
        for (size_t j = i; j < k; j++)
            e->a[i * k + j] = a[i * k + j] * is;
    if (k <= SMALL_K) {
        tridiag_small(e->a, k, e->d, e->e, e->v, e->p);
    } else if (tridiag_lapack(e->a, k, e->d, e->e, e->tau, e->work, e->lwork) != GPMC_OK) {
        *lmin = *lmax = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme", "LAPACK dsytrd failed (k = %zu)", k);
    }
    tri_extreme(e->d, e->e, k, lmin, lmax);
    *lmin *= s;
    *lmax *= s;
    return GPMC_OK;
}

double gpmc_symeig_norm(gpmc_symeig *e, const double *a)
{
    double lmin, lmax;
    if (gpmc_symeig_extreme(e, a, &lmin, &lmax) != GPMC_OK)
        return NAN;
    return fmax(fabs(lmin), fabs(lmax));
}

/* ---- general matrices --------------------------------------------------------------- */

/* sigma_max(A) = sqrt(lambda_max(G)), G = A^T A or A A^T (whichever is smaller). The
 * largest singular value is perfectly conditioned through the Gram matrix: an absolute
 * error of O(m eps ||A||^2) in lambda_max is a relative error of O(m eps) in sigma_max.
 * To keep the squares in range, A is scaled by its largest |entry| while being copied,
 * one block of rows (or columns) at a time, into the room the Gram matrix leaves in
 * `work`: G takes m^2 <= rows*cols doubles, the block the rest (>= 1 row or column). */
double gpmc_norm2(const double *a, size_t rows, size_t cols, double *work)
{
    if (rows == 0 || cols == 0)
        return 0;
    double mx = 0;
    int bad = 0;
    for (size_t i = 0; i < rows * cols; i++) {
        double v = fabs(a[i]);
        bad |= !(v <= DBL_MAX);
        mx = v > mx ? v : mx;
    }
    if (bad)
        return NAN;
    if (mx == 0)
        return 0;
    double s, is = pow2_scale(mx, &s);
    int tall = rows >= cols;
    size_t m = tall ? cols : rows, other = tall ? rows : cols;
    double *G = work, *buf = work + m * m;
    size_t room = rows * cols + 5 * m - m * m; /* doubles after G */
    size_t blk = room / m;                     /* rows (tall) or columns of A per block */
    if (blk > other)
        blk = other;
    for (size_t b0 = 0; b0 < other; b0 += blk) {
        size_t nb = other - b0 < blk ? other - b0 : blk;
        /* buf holds the block as an nb x m row-major matrix B; G += B^T B. */
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < m; j++)
                buf[i * m + j] = is * (tall ? a[(b0 + i) * cols + j] : a[j * cols + b0 + i]);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)m, (int)nb, 1.0, buf,
                    (int)m, b0 == 0 ? 0.0 : 1.0, G, (int)m);
    }
    double *d = buf, *e = buf + m, *t1 = buf + 2 * m, *t2 = buf + 3 * m;
    if (m <= SMALL_K) {
        tridiag_small(G, m, d, e, t1, t2);
    } else if (tridiag_lapack(G, m, d, e, t1, t2, (lapack_int)m) != GPMC_OK) {
        return NAN; /* lwork = m: dsytrd runs its unblocked code, no allocation */
    }
    double lmin, lmax;
    tri_extreme(d, e, m, &lmin, &lmax);
    return s * sqrt(fmax(lmax, 0));
}

double gpmc_dot(const double *x, const double *y, size_t n)
{
    return cblas_ddot((int)n, x, 1, y, 1);
}

double gpmc_nrm2(const double *x, size_t n) { return cblas_dnrm2((int)n, x, 1); }
