/* measure: the measurement operators A: R^n -> R^m (measure.h).
 *
 * Floating-point tolerances follow Higham, Accuracy and Stability of Numerical Algorithms:
 * a dot product of length k is within gamma_k |a|.|b| of the exact value,
 * gamma_k = k EPS / (1 - k EPS), EPS = DBL_EPSILON (twice the unit roundoff, so every bound
 * is conservative by 2). For the FFT, Theorem 24.2: a Cooley-Tukey transform of size n
 * computed with twiddle factors of relative error mu has a normwise relative error at most
 * L eta / (1 - L eta), L = ceil(log2 n), eta = mu + gamma_4 (sqrt 2 + mu); FFTW's
 * twiddles are accurate to an ulp, mu = EPS. A halfcomplex transform holds the real and
 * imaginary parts of that complex transform, which after the orthonormal weights (at most
 * sqrt(2/n)) gives sqrt 2 times that bound relative to |x|; scaling by s w_p adds 8 more
 * roundings (the sqrts and quotients forming s and w_p, the products). So one FOURIER apply
 * is within s e |x| of A x, e = fft_err(n), and likewise for A^T y.
 * Monte Carlo checks allow 5 standard errors estimated from the samples themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/error.h"
#include "gpmc/measure.h"
#include "gpmc/rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NSE 5.0
#define EPS DBL_EPSILON
#define TWO_PI 6.28318530717958647692 /* M_PI is XSI, not C11 */

static double gamma_k(double k) { return k * EPS / (1 - k * EPS); }

/* Relative error of one FOURIER apply (top of file). */
static double fft_err(size_t n)
{
    double L = n > 1 ? ceil(log2((double)n)) : 1, eta = EPS + gamma_k(4) * (sqrt(2.0) + EPS);
    return sqrt(2.0) * L * eta / (1 - L * eta) + gamma_k(8);
}

typedef struct {
    gpmc_measure_kind kind;
    size_t m, n;
    gpmc_measure_scaling scaling;
} spec;

/* Every kind, odd and even n (the halfcomplex layouts differ), m < n and m = n, both
 * scalings of the subsampled kinds, and the degenerate n = 1. */
static const spec cases[] = {
    {GPMC_MEASURE_GAUSSIAN, 300, 600, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_GAUSSIAN, 7, 13, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_GAUSSIAN, 20, 5, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_BERNOULLI, 300, 600, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_BERNOULLI, 7, 13, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_SUBSAMPLED, 300, 600, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_SUBSAMPLED, 7, 13, GPMC_MEASURE_PLAIN},
    {GPMC_MEASURE_SUBSAMPLED, 13, 13, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_FOURIER, 300, 600, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_FOURIER, 7, 13, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_FOURIER, 8, 8, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_FOURIER, 5, 16, GPMC_MEASURE_PLAIN},
    {GPMC_MEASURE_FOURIER, 200, 1000, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_FOURIER, 1, 1, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_IDENTITY, 13, 13, GPMC_MEASURE_ISOTROPIC},
    {GPMC_MEASURE_IDENTITY, 600, 600, GPMC_MEASURE_ISOTROPIC},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* An operator of case c, sampled from stream (seed, c, trial, 0). */
static gpmc_measure *make(const spec *c, gsl_rng *r, uint64_t seed, uint64_t trial)
{
    gpmc_measure *A = gpmc_measure_alloc(c->kind, c->m, c->n);
    assert_non_null(A);
    assert_int_equal(gpmc_measure_set_scaling(A, c->scaling), GPMC_OK);
    gpmc_rng_seek(r, seed, (uint64_t)c->kind, trial, 0);
    gpmc_measure_sample(A, r);
    return A;
}


/* y = D x with the test's own loop, and |D| |x|. */
static void matvec(const double *D, size_t m, size_t n, const double *x, double *y,
                   double *absy)
{
    for (size_t i = 0; i < m; i++) {
        double s = 0, a = 0;
        for (size_t j = 0; j < n; j++) {
            s += D[i * n + j] * x[j];
            a += fabs(D[i * n + j] * x[j]);
        }
        y[i] = s;
        absy[i] = a;
    }
}

static void transpose(const double *D, size_t m, size_t n, double *T)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            T[j * m + i] = D[i * n + j];
}

static double scale_of(const spec *c)
{
    int sub = c->kind == GPMC_MEASURE_SUBSAMPLED || c->kind == GPMC_MEASURE_FOURIER;
    return sub && c->scaling == GPMC_MEASURE_ISOTROPIC ? sqrt((double)c->n / (double)c->m) : 1;
}

/* The choices string, the enum and the names agree word for word, so a CHOICE parameter's
 * index is the kind; unknown names are refused with the list. */
static void test_kind_names(void **state)
{
    (void)state;
    char buf[] = GPMC_MEASURE_CHOICES;
    int i = 0;
    for (char *save = NULL, *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
        gpmc_measure_kind k = GPMC_MEASURE_NKINDS;
        assert_int_equal(gpmc_measure_kind_parse(w, &k), GPMC_OK);
        assert_int_equal(k, i);
        assert_string_equal(gpmc_measure_kind_name(k), w);
        i++;
    }
    assert_int_equal(i, GPMC_MEASURE_NKINDS);
    gpmc_measure_kind k = GPMC_MEASURE_NKINDS;
    gpmc_error_clear();
    assert_int_equal(gpmc_measure_kind_parse("gauss", &k), GPMC_EINVAL);
    assert_int_equal(k, GPMC_MEASURE_NKINDS);
    assert_non_null(strstr(gpmc_error_message(), GPMC_MEASURE_CHOICES));
    assert_int_equal(gpmc_measure_kind_parse(NULL, &k), GPMC_EINVAL);
    assert_string_equal(gpmc_measure_kind_name(GPMC_MEASURE_NKINDS), "?");
}

static void test_alloc_validates(void **state)
{
    (void)state;
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_IDENTITY, 3, 4));
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_SUBSAMPLED, 5, 4));
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_FOURIER, 5, 4));
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_GAUSSIAN, 0, 4));
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_BERNOULLI, 4, 0));
    assert_null(gpmc_measure_alloc(GPMC_MEASURE_NKINDS, 4, 4));
    assert_non_null(strstr(gpmc_error_message(), "gpmc_measure_alloc"));
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_GAUSSIAN, 5, 4); /* m > n is fine */
    assert_non_null(A);
    assert_int_equal(gpmc_measure_set_scaling(A, GPMC_MEASURE_PLAIN), GPMC_EINVAL);
    assert_int_equal(gpmc_measure_get_kind(A), GPMC_MEASURE_GAUSSIAN);
    assert_int_equal(gpmc_measure_rows(A), 5);
    assert_int_equal(gpmc_measure_cols(A), 4);
    assert_null(gpmc_measure_index(A));
    assert_non_null(gpmc_measure_matrix(A));
    gpmc_measure_free(A);
    A = gpmc_measure_alloc(GPMC_MEASURE_IDENTITY, 4, 4);
    assert_int_equal(gpmc_measure_set_scaling(A, GPMC_MEASURE_PLAIN), GPMC_OK);
    assert_close(gpmc_measure_scale(A), 1.0, 0);
    gpmc_measure_free(A);
    A = gpmc_measure_alloc(GPMC_MEASURE_FOURIER, 4, 9);
    assert_close(gpmc_measure_scale(A), 1.5, 0); /* sqrt(9/4), exact */
    assert_int_equal(gpmc_measure_set_scaling(A, GPMC_MEASURE_PLAIN), GPMC_OK);
    assert_close(gpmc_measure_scale(A), 1.0, 0);
    assert_null(gpmc_measure_matrix(A));
    gpmc_measure_free(A);
    gpmc_measure_free(NULL);
}

/* <A x, y> = <x, A^T y> for every kind. Dense, subsampled and identity: each side is within
 * gamma_{n+m} |y|^T |A| |x| of the exact value (a product of length n, then a dot of length
 * m, or the other way round). FOURIER: |A| = s, so each side is within
 * s |x| |y| (e + gamma_{m or n} (1 + e)). */
static void test_adjoint(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t c = 0; c < NCASES; c++) {
        const spec *cs = &cases[c];
        size_t m = cs->m, n = cs->n;
        gpmc_measure *A = make(cs, r, 1, c);
        double *x = malloc(n * sizeof *x), *y = malloc(m * sizeof *y);
        double *Ax = malloc(m * sizeof *Ax), *Aty = malloc(n * sizeof *Aty);
        double *D = malloc(m * n * sizeof *D), *Dabs = malloc(m * sizeof *Dabs);
        gpmc_rng_seek(r, 2, 0, c, 1);
        gpmc_rng_gaussian(r, 1.0, x, n);
        gpmc_rng_gaussian(r, 1.0, y, m);
        gpmc_measure_apply(A, x, Ax);
        gpmc_measure_apply_t(A, y, Aty);
        double lhs = dot(Ax, y, m), rhs = dot(x, Aty, n), tol;
        if (cs->kind == GPMC_MEASURE_FOURIER) {
            double e = fft_err(n), s = scale_of(cs);
            tol = s * norm(x, n) * norm(y, m) * (2 * e + (gamma_k(m) + gamma_k(n)) * (1 + e));
        } else {
            gpmc_measure_dense(A, D);
            for (size_t i = 0; i < m * n; i++)
                D[i] = fabs(D[i]);
            double *absx = malloc(n * sizeof *absx), *ax = malloc(m * sizeof *ax);
            for (size_t j = 0; j < n; j++)
                absx[j] = fabs(x[j]);
            matvec(D, m, n, absx, ax, Dabs);
            double b = 0;
            for (size_t i = 0; i < m; i++)
                b += fabs(y[i]) * ax[i];
            tol = 2 * gamma_k(n + m) * b;
            free(absx);
            free(ax);
        }
        assert_close(lhs, rhs, tol);
        free(x), free(y), free(Ax), free(Aty), free(D), free(Dabs);
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* apply and apply_t agree with the materialised matrix (multiplied by the test's loop).
 * Dense kinds: both within gamma_n (|A||x|)_i of exact. FOURIER: the matrix comes from
 * cos/sin, an entry within s w_max (2 pi gamma_3 + gamma_8) of exact (argument 2 pi r/n with
 * three roundings, libm within an ulp, then the scale factors), and the FFT is within
 * s e |x| in norm, hence in every entry. */
static void test_apply_matches_dense(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t c = 0; c < NCASES; c++) {
        const spec *cs = &cases[c];
        size_t m = cs->m, n = cs->n, big = m > n ? m : n;
        gpmc_measure *A = make(cs, r, 3, c);
        double *D = malloc(m * n * sizeof *D), *Dt = malloc(m * n * sizeof *Dt);
        double *x = malloc(big * sizeof *x), *y = malloc(big * sizeof *y);
        double *ref = malloc(big * sizeof *ref), *absref = malloc(big * sizeof *absref);
        gpmc_measure_dense(A, D);
        transpose(D, m, n, Dt);
        int fourier = cs->kind == GPMC_MEASURE_FOURIER;
        /* sqrt(2/n) bounds every w_p, also 1/sqrt(n) and the w_0 = 1 of n = 1 */
        double s = scale_of(cs), e = fft_err(n), wmax = sqrt(2.0 / (double)n);
        double entry = s * wmax * (TWO_PI * gamma_k(3) + gamma_k(8));
        for (int t = 0; t < 2; t++) { /* t = 0: A x; t = 1: A^T y */
            size_t rows = t ? n : m, cols = t ? m : n;
            gpmc_rng_seek(r, 4, 0, c, (uint32_t)t);
            gpmc_rng_gaussian(r, 1.0, x, cols);
            if (t)
                gpmc_measure_apply_t(A, x, y);
            else
                gpmc_measure_apply(A, x, y);
            matvec(t ? Dt : D, rows, cols, x, ref, absref);
            double l1 = 0;
            for (size_t j = 0; j < cols; j++)
                l1 += fabs(x[j]);
            for (size_t i = 0; i < rows; i++) {
                double tol = fourier ? s * e * norm(x, cols) + entry * l1 +
                                           gamma_k(cols + 1) * (absref[i] + entry * l1)
                                     : 2 * gamma_k(cols) * absref[i];
                assert_close(y[i], ref[i], tol);
            }
        }
        free(D), free(Dt), free(x), free(y), free(ref), free(absref);
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* The batched products equal the single ones: bit for bit where they run the same code,
 * within 2 gamma_n (|A||x|)_i where one DGEMM replaces B DGEMVs. */
static void test_batch_matches_single(void **state)
{
    (void)state;
    enum { B = 3 };
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t c = 0; c < NCASES; c++) {
        const spec *cs = &cases[c];
        size_t m = cs->m, n = cs->n;
        gpmc_measure *A = make(cs, r, 5, c);
        int dense = gpmc_measure_matrix(A) != NULL;
        double *D = malloc(m * n * sizeof *D), *Dt = malloc(m * n * sizeof *Dt);
        double *X = malloc(B * n * sizeof *X), *Y = malloc(B * m * sizeof *Y);
        double *Xo = malloc(B * n * sizeof *Xo), *Yo = malloc(B * m * sizeof *Yo);
        double *one = malloc((m > n ? m : n) * sizeof *one);
        double *tmp = malloc((m > n ? m : n) * sizeof *tmp);
        double *absv = malloc((m > n ? m : n) * sizeof *absv);
        double *ref = malloc((m > n ? m : n) * sizeof *ref);
        gpmc_measure_dense(A, D);
        transpose(D, m, n, Dt);
        for (size_t i = 0; i < m * n; i++)
            D[i] = fabs(D[i]), Dt[i] = fabs(Dt[i]);
        gpmc_rng_seek(r, 6, 0, c, 0);
        gpmc_rng_gaussian(r, 1.0, X, B * n);
        gpmc_rng_gaussian(r, 1.0, Y, B * m);
        gpmc_measure_apply_batch(A, X, B, Yo);
        gpmc_measure_apply_t_batch(A, Y, B, Xo);
        gpmc_measure_apply_batch(A, X, 0, NULL); /* an empty batch touches nothing */
        for (size_t b = 0; b < B; b++) {
            gpmc_measure_apply(A, X + b * n, one);
            for (size_t j = 0; j < n; j++)
                tmp[j] = fabs(X[b * n + j]);
            matvec(D, m, n, tmp, ref, absv); /* absv = |A| |x| */
            for (size_t i = 0; i < m; i++)
                assert_close(Yo[b * m + i], one[i], dense ? 2 * gamma_k(n) * absv[i] : 0);
            gpmc_measure_apply_t(A, Y + b * m, one);
            for (size_t i = 0; i < m; i++)
                tmp[i] = fabs(Y[b * m + i]);
            matvec(Dt, n, m, tmp, ref, absv);
            for (size_t j = 0; j < n; j++)
                assert_close(Xo[b * n + j], one[j], dense ? 2 * gamma_k(m) * absv[j] : 0);
        }
        free(D), free(Dt), free(X), free(Y), free(Xo), free(Yo), free(one), free(tmp);
        free(absv), free(ref);
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* E[A^T A] = I for every random kind, entrywise within 5 standard errors estimated from
 * T samples, plus the rounding of the sums: gamma_{m+T+1} times the mean of sum_i |a_ij a_ik|
 * (entries exactly constant across samples, like a Bernoulli diagonal, have zero SE). */
static void test_isotropic(void **state)
{
    (void)state;
    enum { T = 20000, M = 3, N = 8 };
    static const spec iso[] = {
        {GPMC_MEASURE_GAUSSIAN, M, N, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_BERNOULLI, M, N, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_SUBSAMPLED, M, N, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_FOURIER, M, N, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_FOURIER, M, N - 1, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_GAUSSIAN, N + 2, N, GPMC_MEASURE_ISOTROPIC}, /* m > n */
    };
    gsl_rng *r = gpmc_rng_alloc();
    double D[(N + 2) * N], s1[N * N], s2[N * N], sa[N * N];
    for (size_t c = 0; c < sizeof iso / sizeof iso[0]; c++) {
        size_t m = iso[c].m, n = iso[c].n;
        gpmc_measure *A = gpmc_measure_alloc(iso[c].kind, m, n);
        assert_non_null(A);
        memset(s1, 0, sizeof s1), memset(s2, 0, sizeof s2), memset(sa, 0, sizeof sa);
        for (size_t t = 0; t < T; t++) {
            gpmc_rng_seek(r, 7, c, t, 0);
            gpmc_measure_sample(A, r);
            gpmc_measure_dense(A, D);
            for (size_t j = 0; j < n; j++)
                for (size_t k = 0; k < n; k++) {
                    double v = 0, a = 0;
                    for (size_t i = 0; i < m; i++) {
                        v += D[i * n + j] * D[i * n + k];
                        a += fabs(D[i * n + j] * D[i * n + k]);
                    }
                    s1[j * n + k] += v;
                    s2[j * n + k] += v * v;
                    sa[j * n + k] += a;
                }
        }
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                double mean = s1[j * n + k] / T, var = s2[j * n + k] / T - mean * mean;
                double se = sqrt(fmax(var, 0) * T / (T - 1) / T);
                double fp = gamma_k((double)(m + T + 1)) * sa[j * n + k] / T;
                assert_close(mean, j == k ? 1.0 : 0.0, NSE * se + fp);
            }
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* Subsampled Fourier rows are orthogonal with squared norm s^2: A A^T = (n/m) I, and I with
 * the plain scaling. Column i of A A^T is A(A^T e_i); each apply is within s e of exact in
 * norm and |A| = s, so every entry is within s^2 e (2 + e). */
static void test_fourier_rows_orthogonal(void **state)
{
    (void)state;
    static const spec fc[] = {
        {GPMC_MEASURE_FOURIER, 300, 600, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_FOURIER, 300, 600, GPMC_MEASURE_PLAIN},
        {GPMC_MEASURE_FOURIER, 101, 257, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_FOURIER, 64, 64, GPMC_MEASURE_ISOTROPIC},
        {GPMC_MEASURE_FOURIER, 2, 2, GPMC_MEASURE_ISOTROPIC},
    };
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t c = 0; c < sizeof fc / sizeof fc[0]; c++) {
        size_t m = fc[c].m, n = fc[c].n;
        gpmc_measure *A = make(&fc[c], r, 8, c);
        double s = scale_of(&fc[c]), e = fft_err(n), tol = s * s * e * (2 + e);
        double *ei = calloc(m, sizeof *ei), *v = malloc(n * sizeof *v);
        double *col = malloc(m * sizeof *col), worst = 0;
        for (size_t i = 0; i < m; i++) {
            ei[i] = 1;
            gpmc_measure_apply_t(A, ei, v);
            gpmc_measure_apply(A, v, col);
            ei[i] = 0;
            for (size_t k = 0; k < m; k++) {
                double d = fabs(col[k] - (k == i ? s * s : 0));
                worst = d > worst ? d : worst;
            }
        }
        assert_close(worst, 0, tol);
        print_message("fourier %zux%zu %s: max |A A^T - (n/m) I| = %.2g (bound %.2g)\n", m, n,
                      fc[c].scaling == GPMC_MEASURE_PLAIN ? "plain" : "isotropic", worst, tol);
        free(ei), free(v), free(col);
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* FOURIER's D: with m = n every row is kept, row 0 of F is 1/sqrt(n), so row 0 of A is
 * s d_j / sqrt(n) with s = sqrt(n/m) = 1: d_j = sqrt(n) A_0j.
 * The signs are +-1 (to the few roundings of s w_0), fair (mean 0 within 5 SE of T n draws)
 * and neighbours uncorrelated (mean d_j d_{j+1} = 0 within 5 SE of T (n - 1) draws). */
static void test_fourier_random_signs(void **state)
{
    (void)state;
    enum { T = 2000, N = 16 };
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_FOURIER, N, N);
    double D[N * N], sum = 0, lag = 0;
    for (size_t t = 0; t < T; t++) {
        gpmc_rng_seek(r, 15, 0, t, 0);
        gpmc_measure_sample(A, r);
        assert_int_equal(gpmc_measure_index(A)[0], 0);
        gpmc_measure_dense(A, D);
        for (size_t j = 0; j < N; j++) {
            double d = sqrt((double)N) * D[j];
            assert_close(fabs(d), 1.0, gamma_k(8));
            d = d > 0 ? 1 : -1;
            sum += d;
            if (j + 1 < N)
                lag += d * (D[j + 1] > 0 ? 1 : -1);
        }
    }
    assert_close(sum / (T * N), 0.0, NSE / sqrt((double)T * N));
    assert_close(lag / (T * (N - 1)), 0.0, NSE / sqrt((double)T * (N - 1)));
    gpmc_measure_free(A);
    gpmc_rng_free(r);
}

/* E|A x|^2 = |x|^2 for a fixed x (it is x^T E[A^T A] x), checked through apply on every
 * random kind within 5 standard errors of the T samples of |A x|^2 / |x|^2. */
static void test_norm_preserved_on_average(void **state)
{
    (void)state;
    enum { T = 4000, M = 20, N = 60 };
    static const gpmc_measure_kind kinds[] = {GPMC_MEASURE_GAUSSIAN, GPMC_MEASURE_BERNOULLI,
                                              GPMC_MEASURE_SUBSAMPLED, GPMC_MEASURE_FOURIER};
    gsl_rng *r = gpmc_rng_alloc();
    double x[N], y[M];
    gpmc_rng_seek(r, 9, 9, 9, 9);
    gpmc_rng_gaussian(r, 1.0, x, N);
    for (size_t i = 0; i < N / 4; i++)
        x[i] += 3; /* not isotropic itself: a spike in the low frequencies and coordinates */
    double xx = dot(x, x, N);
    for (size_t c = 0; c < sizeof kinds / sizeof kinds[0]; c++) {
        gpmc_measure *A = gpmc_measure_alloc(kinds[c], M, N);
        double s1 = 0, s2 = 0;
        for (size_t t = 0; t < T; t++) {
            gpmc_rng_seek(r, 10, c, t, 0);
            gpmc_measure_sample(A, r);
            gpmc_measure_apply(A, x, y);
            double q = dot(y, y, M) / xx;
            s1 += q, s2 += q * q;
        }
        double mean = s1 / T, se = sqrt((s2 / T - mean * mean) / (T - 1));
        assert_close(mean, 1.0, NSE * se);
        print_message("%s %dx%d: E|Ax|^2/|x|^2 = %.4f +- %.4f (sd of one draw %.3f)\n",
                      gpmc_measure_kind_name(kinds[c]), M, N, mean, se, se * sqrt(T - 1.0));
        gpmc_measure_free(A);
    }
    gpmc_rng_free(r);
}

/* The subsampled kinds keep m distinct indices, increasing, in [0, n); SUBSAMPLED returns
 * exactly s x[index] and scatters back exactly; m = n keeps everything. */
static void test_subsampled_indices(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    static const size_t mn[][2] = {{1, 1}, {1, 50}, {17, 50}, {49, 50}, {50, 50}, {300, 600}};
    for (int kind = GPMC_MEASURE_SUBSAMPLED; kind <= GPMC_MEASURE_FOURIER; kind++)
        for (size_t c = 0; c < sizeof mn / sizeof mn[0]; c++) {
            size_t m = mn[c][0], n = mn[c][1];
            gpmc_measure *A = gpmc_measure_alloc((gpmc_measure_kind)kind, m, n);
            for (uint64_t t = 0; t < 50; t++) {
                gpmc_rng_seek(r, 11, c, t, 0);
                gpmc_measure_sample(A, r);
                const size_t *idx = gpmc_measure_index(A);
                assert_non_null(idx);
                for (size_t i = 0; i < m; i++) {
                    assert_true(idx[i] < n);
                    if (i > 0)
                        assert_true(idx[i] > idx[i - 1]);
                }
                if (m == n)
                    assert_int_equal(idx[m - 1], n - 1);
            }
            if (kind == GPMC_MEASURE_SUBSAMPLED) {
                double *x = malloc(n * sizeof *x), *y = malloc(m * sizeof *y);
                double *z = malloc(n * sizeof *z);
                const size_t *idx = gpmc_measure_index(A);
                gpmc_rng_gaussian(r, 1.0, x, n);
                for (int sc = 0; sc < 2; sc++) {
                    gpmc_measure_set_scaling(A, sc ? GPMC_MEASURE_PLAIN : GPMC_MEASURE_ISOTROPIC);
                    double s = sc ? 1 : sqrt((double)n / (double)m);
                    assert_close(gpmc_measure_scale(A), s, 0);
                    gpmc_measure_apply(A, x, y);
                    for (size_t i = 0; i < m; i++)
                        assert_close(y[i], s * x[idx[i]], 0);
                    gpmc_measure_apply_t(A, y, z);
                    size_t nonzero = 0;
                    for (size_t j = 0; j < n; j++)
                        nonzero += z[j] != 0;
                    assert_int_equal(nonzero, m); /* x is Gaussian: no zero entries */
                    for (size_t i = 0; i < m; i++)
                        assert_close(z[idx[i]], s * y[i], 0);
                }
                free(x), free(y), free(z);
            }
            gpmc_measure_free(A);
        }
    gpmc_rng_free(r);
}

/* Same stream -> the same operator, bit for bit, whatever was drawn before and in whichever
 * operator object; another trial -> another operator. */
static void test_reproducible(void **state)
{
    (void)state;
    enum { M = 30, N = 60 };
    gsl_rng *r = gpmc_rng_alloc();
    double *D1 = malloc(M * N * sizeof *D1), *D2 = malloc(M * N * sizeof *D2);
    for (int kind = 0; kind < GPMC_MEASURE_IDENTITY; kind++) {
        gpmc_measure *A = gpmc_measure_alloc((gpmc_measure_kind)kind, M, N);
        gpmc_measure *B = gpmc_measure_alloc((gpmc_measure_kind)kind, M, N);
        gpmc_rng_seek(r, 12, 13, 14, 0);
        gpmc_measure_sample(A, r);
        gpmc_measure_dense(A, D1);
        gpmc_rng_seek(r, 12, 13, 15, 0);
        gpmc_measure_sample(B, r);
        gpmc_measure_dense(B, D2);
        assert_true(memcmp(D1, D2, M * N * sizeof *D1) != 0);
        gpmc_rng_seek(r, 12, 13, 14, 0);
        gpmc_measure_sample(B, r);
        gpmc_measure_dense(B, D2);
        assert_memory_equal(D1, D2, M * N * sizeof *D1);
        gpmc_rng_seek(r, 12, 13, 14, 0); /* and the same object again, after another draw */
        gpmc_measure_sample(A, r);
        gpmc_measure_dense(A, D2);
        assert_memory_equal(D1, D2, M * N * sizeof *D1);
        gpmc_measure_free(A);
        gpmc_measure_free(B);
    }
    free(D1), free(D2);
    gpmc_rng_free(r);
}

/* IDENTITY: A x = x and A^T y = y exactly, the dense form is I, and sampling draws nothing. */
static void test_identity(void **state)
{
    (void)state;
    enum { N = 9 };
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_IDENTITY, N, N);
    double x[N], y[N], D[N * N];
    gpmc_rng_seek(r, 1, 2, 3, 4);
    unsigned long first = gsl_rng_get(r);
    gpmc_rng_seek(r, 1, 2, 3, 4);
    gpmc_measure_sample(A, r);
    assert_int_equal(gsl_rng_get(r), first);
    gpmc_rng_gaussian(r, 1.0, x, N);
    gpmc_measure_apply(A, x, y);
    assert_memory_equal(x, y, sizeof x);
    gpmc_measure_apply_t(A, x, y);
    assert_memory_equal(x, y, sizeof x);
    gpmc_measure_apply(A, y, y); /* in place is allowed for the identity */
    assert_memory_equal(x, y, sizeof x);
    gpmc_measure_dense(A, D);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            assert_close(D[i * N + j], i == j ? 1.0 : 0.0, 0);
    gpmc_measure_free(A);
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_alloc_validates),
        cmocka_unit_test(test_adjoint),
        cmocka_unit_test(test_apply_matches_dense),
        cmocka_unit_test(test_batch_matches_single),
        cmocka_unit_test(test_isotropic),
        cmocka_unit_test(test_fourier_rows_orthogonal),
        cmocka_unit_test(test_fourier_random_signs),
        cmocka_unit_test(test_norm_preserved_on_average),
        cmocka_unit_test(test_subsampled_indices),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_identity),
    };
    return cmocka_run_group_tests_name("measure", tests, NULL, NULL);
}
