/* Measurement operators (measure.h).
 *
 * FOURIER with FFTW's real-to-real halfcomplex transforms, in place on one n-buffer made at
 * allocation. FFTW_R2HC computes, for a length-n x,
 *   hc[k]   =  sum_j x_j cos(2 pi j k / n),  0 <= k <= n/2,
 *   hc[n-k] = -sum_j x_j sin(2 pi j k / n),  0 <  k <  n/2,
 * i.e. row p of the (unnormalised) transform R is the trigonometric row p of measure.h, so
 * F = W R with W = diag(w_p), w_p = 1/sqrt(n) for p = 0 and p = n/2, sqrt(2/n) otherwise.
 * FFTW_HC2R computes x_j = hc[0] + 2 sum_{0<k<n/2} (hc[k] cos - hc[n-k] sin) + hc[n/2] (-1)^j,
 * which is R^T applied to hc with every entry other than 0 and n/2 doubled; hence
 *   A x   = s P W R D x:         R2HC of D x, then y_i = s w_p hc[p], p = index[i];
 *   A^T y = D R^T W P^T s y:     hc = 0, hc[p] = s w'_p y_i, HC2R, times D,
 * with w'_p = w_p for p = 0, n/2 and w_p / 2 otherwise. The products s w_p and s w'_p of the
 * kept rows are stored (coef, coef_t), so an apply is the FFT and two passes of length n. */
#include "gpmc/measure.h"

#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <fftw3.h>
#include <gsl/gsl_cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"
#define TWO_PI (2 * GPMC_PI)

struct gpmc_measure {
    gpmc_measure_kind kind;
    gpmc_measure_scaling scaling;
    size_t m, n;
    double scale;      /* s: sqrt(n/m) or 1 for the subsampled kinds, 1 otherwise */
    double *mat;       /* GAUSSIAN, BERNOULLI: m x n row-major */
    size_t *index;     /* SUBSAMPLED, FOURIER: m increasing coordinates / rows of F */
    double *coef;      /* FOURIER: s w_p of each kept row p */
    double *coef_t;    /* FOURIER: s w'_p */
    double *sign;      /* FOURIER: the n signs of D */
    double *buf;       /* FOURIER: n doubles (fftw_malloc), in-place FFT buffer */
    fftw_plan r2hc, hc2r;
};

static const char *const kind_names[GPMC_MEASURE_NKINDS] = {
    [GPMC_MEASURE_GAUSSIAN] = "gaussian",     [GPMC_MEASURE_BERNOULLI] = "bernoulli",
    [GPMC_MEASURE_SUBSAMPLED] = "subsampled", [GPMC_MEASURE_FOURIER] = "fourier",
    [GPMC_MEASURE_IDENTITY] = "identity",
};

int gpmc_measure_kind_parse(const char *name, gpmc_measure_kind *kind)
{
    for (int k = 0; k < GPMC_MEASURE_NKINDS; k++)
        if (name && strcmp(name, kind_names[k]) == 0) {
            *kind = (gpmc_measure_kind)k;
            return GPMC_OK;
        }
    return gpmc_error(GPMC_EINVAL, "measurement", "unknown kind '%s' (one of %s)",
                      name ? name : "(null)", GPMC_MEASURE_CHOICES);
}

const char *gpmc_measure_kind_name(gpmc_measure_kind kind)
{
    return (unsigned)kind < GPMC_MEASURE_NKINDS ? kind_names[kind] : "?";
}

static int is_dense(gpmc_measure_kind k)
{
    return k == GPMC_MEASURE_GAUSSIAN || k == GPMC_MEASURE_BERNOULLI;
}

static int is_subsampled(gpmc_measure_kind k)
{
    return k == GPMC_MEASURE_SUBSAMPLED || k == GPMC_MEASURE_FOURIER;
}

/* w_p of the orthonormal basis (top of file). */
static double fourier_weight(size_t p, size_t n)
{
    return p == 0 || 2 * p == n ? 1 / sqrt((double)n) : sqrt(2 / (double)n);
}

/* s and the FOURIER coefficients follow the scaling and the kept rows. */
static void refresh(gpmc_measure *A)
{
    A->scale = is_subsampled(A->kind) && A->scaling == GPMC_MEASURE_ISOTROPIC
                   ? sqrt((double)A->n / (double)A->m)
                   : 1;
    if (A->kind != GPMC_MEASURE_FOURIER)
        return;
    for (size_t i = 0; i < A->m; i++) {
        size_t p = A->index[i];
        double w = A->scale * fourier_weight(p, A->n);
        A->coef[i] = w;
        A->coef_t[i] = p == 0 || 2 * p == A->n ? w : w / 2;
    }
}

int gpmc_measure_shape_error(gpmc_measure_kind kind, size_t m, size_t n, char *msg,
                             size_t len)
{
    if (is_subsampled(kind) && m > n) {
        snprintf(msg, len, "measurement = %s needs m <= n: m (=%zu) rows out of n (=%zu)",
                 kind_names[kind], m, n);
        return 1;
    }
    if (kind == GPMC_MEASURE_IDENTITY && m != n) {
        snprintf(msg, len, "measurement = identity needs m = n: m (=%zu), n (=%zu)", m, n);
        return 1;
    }
    return 0;
}

gpmc_measure *gpmc_measure_alloc(gpmc_measure_kind kind, size_t m, size_t n)
{
    const char *where = "gpmc_measure_alloc";
    if ((unsigned)kind >= GPMC_MEASURE_NKINDS) {
        gpmc_error(GPMC_EINVAL, where, "invalid kind %d", (int)kind);
        return NULL;
    }
    const char *name = kind_names[kind];
    if (m == 0 || n == 0 || m > INT_MAX || n > INT_MAX) {
        gpmc_error(GPMC_EINVAL, where, "%s: need 1 <= m, n <= %d (m = %zu, n = %zu)", name,
                   INT_MAX, m, n);
        return NULL;
    }
    char why[160];
    if (gpmc_measure_shape_error(kind, m, n, why, sizeof why)) {
        gpmc_error(GPMC_EINVAL, where, "%s", why);
        return NULL;
    }
    if (is_dense(kind) && m > SIZE_MAX / sizeof(double) / n) {
        gpmc_error(GPMC_ENOMEM, where, "%s: %zu x %zu matrix too large", name, m, n);
        return NULL;
    }
    gpmc_measure *A = calloc(1, sizeof *A);
    if (!A)
        goto oom;
    A->kind = kind;
    A->scaling = GPMC_MEASURE_ISOTROPIC;
    A->m = m;
    A->n = n;
    if (is_dense(kind) && !(A->mat = calloc(m * n, sizeof *A->mat)))
        goto oom;
    if (is_subsampled(kind)) {
        if (!(A->index = malloc(m * sizeof *A->index)))
            goto oom;
        for (size_t i = 0; i < m; i++)
            A->index[i] = i;
    }
    if (kind == GPMC_MEASURE_FOURIER) {
        A->coef = malloc(m * sizeof *A->coef);
        A->coef_t = malloc(m * sizeof *A->coef_t);
        A->sign = malloc(n * sizeof *A->sign);
        A->buf = fftw_malloc(n * sizeof *A->buf);
        if (!A->coef || !A->coef_t || !A->sign || !A->buf)
            goto oom;
        for (size_t j = 0; j < n; j++)
            A->sign[j] = 1;
        /* FFTW_ESTIMATE: no timing runs, so the plans are the same on every rank and cost
         * microseconds; it also leaves buf untouched while planning. */
        A->r2hc = fftw_plan_r2r_1d((int)n, A->buf, A->buf, FFTW_R2HC, FFTW_ESTIMATE);
        A->hc2r = fftw_plan_r2r_1d((int)n, A->buf, A->buf, FFTW_HC2R, FFTW_ESTIMATE);
        if (!A->r2hc || !A->hc2r) {
            gpmc_measure_free(A);
            gpmc_error(GPMC_ENOMEM, where, "fourier: FFTW could not plan size %zu", n);
            return NULL;
        }
    }
    refresh(A);
    return A;
oom:
    gpmc_measure_free(A);
    gpmc_error(GPMC_ENOMEM, where, "%s: out of memory (m = %zu, n = %zu)", name, m, n);
    return NULL;
}

void gpmc_measure_free(gpmc_measure *A)
{
    if (!A)
        return;
    if (A->r2hc)
        fftw_destroy_plan(A->r2hc);
    if (A->hc2r)
        fftw_destroy_plan(A->hc2r);
    fftw_free(A->buf);
    free(A->sign);
    free(A->coef_t);
    free(A->coef);
    free(A->index);
    free(A->mat);
    free(A);
}

int gpmc_measure_set_scaling(gpmc_measure *A, gpmc_measure_scaling s)
{
    if (s != GPMC_MEASURE_ISOTROPIC && s != GPMC_MEASURE_PLAIN)
        return gpmc_error(GPMC_EINVAL, "gpmc_measure_set_scaling", "invalid scaling %d",
                          (int)s);
    if (s == GPMC_MEASURE_PLAIN && is_dense(A->kind))
        return gpmc_error(GPMC_EINVAL, "gpmc_measure_set_scaling",
                          "%s: plain scaling applies to the subsampled kinds only",
                          kind_names[A->kind]);
    A->scaling = s;
    refresh(A);
    return GPMC_OK;
}

/* m of n indices, uniformly without replacement, in increasing order: Knuth's selection
 * sampling (TAOCP vol. 2, 3.4.2, Algorithm S; what gsl_ran_choose does), which keeps j with
 * probability (still needed)/(still left). When the two are equal the uniform in [0, 1)
 * always passes, so exactly m are kept. */
static void choose(gsl_rng *r, size_t m, size_t n, size_t *out)
{
    size_t kept = 0;
    for (size_t j = 0; j < n && kept < m; j++)
        if ((double)(n - j) * gsl_rng_uniform(r) < (double)(m - kept))
            out[kept++] = j;
}

void gpmc_measure_sample(gpmc_measure *A, gsl_rng *r)
{
    double sigma = 1 / sqrt((double)A->m);
    switch (A->kind) {
    case GPMC_MEASURE_GAUSSIAN:
        gpmc_rng_gaussian(r, sigma, A->mat, A->m * A->n);
        break;
    case GPMC_MEASURE_BERNOULLI:
        gpmc_rng_rademacher(r, sigma, A->mat, A->m * A->n);
        break;
    case GPMC_MEASURE_SUBSAMPLED:
        choose(r, A->m, A->n, A->index);
        break;
    case GPMC_MEASURE_FOURIER:
        choose(r, A->m, A->n, A->index);
        gpmc_rng_rademacher(r, 1.0, A->sign, A->n);
        refresh(A);
        break;
    case GPMC_MEASURE_IDENTITY:
    case GPMC_MEASURE_NKINDS:
        break;
    }
}

void gpmc_measure_apply(gpmc_measure *A, const double *x, double *y)
{
    size_t m = A->m, n = A->n;
    switch (A->kind) {
    case GPMC_MEASURE_GAUSSIAN:
    case GPMC_MEASURE_BERNOULLI:
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)n, 1.0, A->mat, (int)n, x, 1,
                    0.0, y, 1);
        break;
    case GPMC_MEASURE_SUBSAMPLED:
        for (size_t i = 0; i < m; i++)
            y[i] = A->scale * x[A->index[i]];
        break;
    case GPMC_MEASURE_FOURIER:
        for (size_t j = 0; j < n; j++)
            A->buf[j] = A->sign[j] * x[j];
        fftw_execute(A->r2hc);
        for (size_t i = 0; i < m; i++)
            y[i] = A->coef[i] * A->buf[A->index[i]];
        break;
    case GPMC_MEASURE_IDENTITY:
        memmove(y, x, n * sizeof *x);
        break;
    case GPMC_MEASURE_NKINDS:
        break;
    }
}

void gpmc_measure_apply_t(gpmc_measure *A, const double *y, double *x)
{
    size_t m = A->m, n = A->n;
    switch (A->kind) {
    case GPMC_MEASURE_GAUSSIAN:
    case GPMC_MEASURE_BERNOULLI:
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)n, 1.0, A->mat, (int)n, y, 1, 0.0,
                    x, 1);
        break;
    case GPMC_MEASURE_SUBSAMPLED:
        memset(x, 0, n * sizeof *x);
        for (size_t i = 0; i < m; i++)
            x[A->index[i]] = A->scale * y[i];
        break;
    case GPMC_MEASURE_FOURIER:
        memset(A->buf, 0, n * sizeof *A->buf);
        for (size_t i = 0; i < m; i++)
            A->buf[A->index[i]] = A->coef_t[i] * y[i];
        fftw_execute(A->hc2r);
        for (size_t j = 0; j < n; j++)
            x[j] = A->sign[j] * A->buf[j];
        break;
    case GPMC_MEASURE_IDENTITY:
        memmove(x, y, n * sizeof *y);
        break;
    case GPMC_MEASURE_NKINDS:
        break;
    }
}

void gpmc_measure_apply_batch(gpmc_measure *A, const double *X, size_t b, double *Y)
{
    size_t m = A->m, n = A->n;
    if (b == 0)
        return;
    if (is_dense(A->kind)) {
        /* Y = X A^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)m, (int)n, 1.0, X,
                    (int)n, A->mat, (int)n, 0.0, Y, (int)m);
        return;
    }
    for (size_t t = 0; t < b; t++)
        gpmc_measure_apply(A, X + t * n, Y + t * m);
}

void gpmc_measure_apply_t_batch(gpmc_measure *A, const double *Y, size_t b, double *X)
{
    size_t m = A->m, n = A->n;
    if (b == 0)
        return;
    if (is_dense(A->kind)) {
        /* X = Y A */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)n, (int)m, 1.0, Y,
                    (int)m, A->mat, (int)n, 0.0, X, (int)n);
        return;
    }
    for (size_t t = 0; t < b; t++)
        gpmc_measure_apply_t(A, Y + t * m, X + t * n);
}

/* Row p of the unnormalised transform R at coordinate j (top of file). The phase p j is
 * reduced mod n in integers (p j < n^2 < 2^62), so the argument of cos/sin stays in
 * [0, 2 pi) and carries a few roundings whatever the size. */
static double trig_row(size_t p, size_t j, size_t n)
{
    uint64_t k = 2 * p <= n ? p : n - p;
    double t = TWO_PI * (double)(((uint64_t)k * j) % n) / (double)n;
    return 2 * p <= n ? cos(t) : -sin(t);
}

void gpmc_measure_dense(const gpmc_measure *A, double *out)
{
    size_t m = A->m, n = A->n;
    switch (A->kind) {
    case GPMC_MEASURE_GAUSSIAN:
    case GPMC_MEASURE_BERNOULLI:
        memcpy(out, A->mat, m * n * sizeof *out);
        break;
    case GPMC_MEASURE_SUBSAMPLED:
        memset(out, 0, m * n * sizeof *out);
        for (size_t i = 0; i < m; i++)
            out[i * n + A->index[i]] = A->scale;
        break;
    case GPMC_MEASURE_FOURIER:
        for (size_t i = 0; i < m; i++) {
            size_t p = A->index[i];
            double c = A->scale * fourier_weight(p, n);
            for (size_t j = 0; j < n; j++)
                out[i * n + j] = c * trig_row(p, j, n) * A->sign[j];
        }
        break;
    case GPMC_MEASURE_IDENTITY:
        memset(out, 0, m * n * sizeof *out);
        for (size_t i = 0; i < n; i++)
            out[i * n + i] = 1;
        break;
    case GPMC_MEASURE_NKINDS:
        break;
    }
}

gpmc_measure_kind gpmc_measure_get_kind(const gpmc_measure *A) { return A->kind; }
size_t gpmc_measure_rows(const gpmc_measure *A) { return A->m; }
size_t gpmc_measure_cols(const gpmc_measure *A) { return A->n; }
double gpmc_measure_scale(const gpmc_measure *A) { return A->scale; }
const size_t *gpmc_measure_index(const gpmc_measure *A) { return A->index; }
const double *gpmc_measure_matrix(const gpmc_measure *A) { return A->mat; }
