/* Thin wrappers over CBLAS/LAPACKE (linalg.h).
 *
 * Extreme eigenvalues come from LAPACK (dsytrd + dsterf, i.e. dsyev without vectors) with
 * the workspace from a size query at allocation, so no call allocates. Measured on this
 * machine, one OpenBLAS thread: ~1.3 us at k = 5, ~4.2 us at k = 10, ~15 us at k = 20 —
 * comparable to the two GEMMs that build one WDC deviation matrix at n = 2000, k = 20
 * (~30 us), more than them at n = 500, k = 10 (~2 us); `make bench` reports the effect. */
#include "gpmc/linalg.h"
#include "gpmc/error.h"
#include "gpmc/sizes.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gpmc_symeig {
    size_t k;
    double *a;      /* k*k copy: LAPACK destroys its input */
    double *w;      /* k eigenvalues, ascending */
    double *work;   /* dsyev's workspace, from its size query */
    lapack_int lwork;
};

gpmc_symeig *gpmc_symeig_alloc(size_t k)
{
    if (k == 0)
        return NULL;
    gpmc_symeig *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->k = k;
    e->a = malloc(k * k * sizeof *e->a);
    e->w = malloc(k * sizeof *e->w);
    double q = 0;
    lapack_int info = e->a && e->w
                          ? LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)k, e->a,
                                               (lapack_int)k, e->w, &q, -1)
                          : -1;
    e->lwork = info == 0 && q >= 3.0 * (double)k ? (lapack_int)q : 3 * (lapack_int)k;
    e->work = malloc((size_t)e->lwork * sizeof *e->work);
    if (!e->a || !e->w || !e->work) {
        gpmc_symeig_free(e);
        return NULL;
    }
    return e;
}

void gpmc_symeig_free(gpmc_symeig *e)
{
    if (!e)
        return;
    free(e->a);
    free(e->w);
    free(e->work);
    free(e);
}

/* The upper triangle of row-major a into e's column-major lower (the same entries, so a
 * plain copy); nonzero if one is NaN or Inf, which LAPACK must not see. */
static int copy_upper(gpmc_symeig *e, const double *a)
{
    size_t k = e->k;
    int bad = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++) {
            double v = a[i * k + j];
            bad |= !(fabs(v) <= DBL_MAX);
            e->a[i * k + j] = v;
        }
    return bad;
}

int gpmc_symeig_extreme(gpmc_symeig *e, const double *a, double *lmin, double *lmax)
{
    size_t k = e->k;
    if (copy_upper(e, a)) {
        *lmin = *lmax = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme", "matrix has NaN or Inf entries");
    }
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)k, e->a,
                                         (lapack_int)k, e->w, e->work, e->lwork);
    if (info != 0) {
        *lmin = *lmax = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme", "LAPACK dsyev failed (info %d)",
                          (int)info);
    }
    *lmin = e->w[0];
    *lmax = e->w[k - 1];
    return GPMC_OK;
}

int gpmc_symeig_extreme_vector(gpmc_symeig *e, const double *a, double *lambda, double *v)
{
    size_t k = e->k;
    if (copy_upper(e, a)) {
        *lambda = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme_vector",
                          "matrix has NaN or Inf entries");
    }
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)k, e->a,
                                         (lapack_int)k, e->w, e->work, e->lwork);
    if (info != 0 || !isfinite(e->w[0]) || !isfinite(e->w[k - 1])) {
        *lambda = NAN;
        return gpmc_error(GPMC_ENUM, "gpmc_symeig_extreme_vector",
                          "LAPACK dsyev failed (info %d) or non-finite matrix", (int)info);
    }
    size_t j = fabs(e->w[k - 1]) >= fabs(e->w[0]) ? k - 1 : 0; /* columns: eigenvectors */
    *lambda = e->w[j];
    memcpy(v, e->a + j * k, k * sizeof(double));
    return GPMC_OK;
}

double gpmc_symeig_norm(gpmc_symeig *e, const double *a)
{
    double lmin, lmax;
    if (gpmc_symeig_extreme(e, a, &lmin, &lmax) != GPMC_OK)
        return NAN;
    return fmax(fabs(lmin), fabs(lmax));
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

size_t gpmc_norm2_worksize(size_t rows, size_t cols)
{
    size_t m = rows < cols ? rows : cols, M = max_sz(rows, cols);
    return rows * cols + m + max_sz(max_sz(3 * m + M, 5 * m), 1);
}

size_t gpmc_svd_lwork(size_t m, size_t n)
{
    size_t mn = m < n ? m : n, mx = max_sz(m, n);
    size_t a = gpmc_size_add(gpmc_size_mul(3, mn), mx), b = gpmc_size_mul(5, mn);
    return gpmc_size_add(max_sz(a, b), 1);
}

size_t gpmc_range_basis(double *a, size_t n, size_t c, double *sv, double *work, size_t lwork)
{
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'O', 'N', (lapack_int)n,
                                          (lapack_int)c, a, (lapack_int)n, sv, NULL, 1, NULL, 1,
                                          work, (lapack_int)lwork);
    if (info != 0)
        return (size_t)-1;
    size_t mn = n < c ? n : c, rank = 0;
    while (rank < mn && sv[rank] > GPMC_RANGE_RANK_TOL * sv[0])
        rank++;
    return rank;
}

/* Largest singular value from LAPACK's dgesvd (no vectors) on a copy of A scaled by a
 * power of two 2^-e with 2^e > max |a_ij|: exact, and safe from overflow at any size. */
double gpmc_norm2(const double *a, size_t rows, size_t cols, double *work)
{
    if (rows == 0 || cols == 0)
        return 0;
    double mx = 0;
    for (size_t i = 0; i < rows * cols; i++) {
        double v = fabs(a[i]);
        if (!(v <= DBL_MAX))
            return NAN;
        mx = v > mx ? v : mx;
    }
    if (mx == 0)
        return 0;
    int ex;
    frexp(mx, &ex);
    size_t m = rows < cols ? rows : cols;
    double *c = work, *sv = work + rows * cols, *lw = sv + m;
    for (size_t i = 0; i < rows * cols; i++)
        c[i] = ldexp(a[i], -ex);
    /* The row-major copy is column-major A^T (same singular values): LAPACKE's row-major
     * path would allocate a transposed copy on every call. */
    lapack_int info = LAPACKE_dgesvd_work(
        LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)cols, (lapack_int)rows, c, (lapack_int)cols, sv,
        NULL, 1, NULL, 1, lw, (lapack_int)(gpmc_norm2_worksize(rows, cols) - rows * cols - m));
    return info == 0 ? ldexp(sv[0], ex) : NAN;
}

double gpmc_dot(const double *x, const double *y, size_t n)
{
    return cblas_ddot((int)n, x, 1, y, 1);
}

double gpmc_nrm2(const double *x, size_t n) { return cblas_dnrm2((int)n, x, 1); }

void gpmc_packed_outer_rows(const double *a, size_t rows, size_t k, double *op)
{
    for (size_t i = 0; i < rows; i++) {
        const double *ai = a + i * k;
        for (size_t r = 0; r < k; r++) {
            double ar = ai[r];
            for (size_t s = r; s < k; s++)
                *op++ = ar * ai[s];
        }
    }
}

void gpmc_pair_masks(const double *zx, const double *zy, const size_t *idx, size_t n,
                     double *m)
{
    if (!idx) {
        for (size_t i = 0; i < n; i++) { /* 1{min > 0}: min + compare vectorise */
            double lo = zx[i] < zy[i] ? zx[i] : zy[i];
            m[i] = lo > 0 ? 1.0 : 0.0;
        }
        return;
    }
    for (size_t p = 0; p < n; p++) {
        size_t i = idx[p];
        double lo = zx[i] < zy[i] ? zx[i] : zy[i];
        m[p] = lo > 0 ? 1.0 : 0.0;
    }
}
