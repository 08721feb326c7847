/* linalg: extreme eigenvalues of symmetric matrices and spectral norms, against spectra
 * known by construction and against LAPACK's full solvers.
 *
 * Tolerances. A test matrix A = U diag(lambda) U^T is assembled in floating point from k
 * Householder reflectors and a k-term sum per entry: the stored matrix is A + E with
 * entries of E of order k eps ||A|| and random signs, so ||E|| ~ k eps ||A|| (Weyl: the
 * eigenvalues move by at most ||E||). The solver (LAPACK dsyev: Householder, then
 * QL/QR) is backward stable and adds O(k eps ||A||). We allow 50 k eps ||A||: well above
 * the rounding, far below any real error (which shows as O(||A||)). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/linalg.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static gsl_rng *rng;

static int setup(void **state)
{
    (void)state;
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);
    return rng ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gsl_rng_free(rng);
    return 0;
}

static double tol_for(size_t k, double norm) { return 50.0 * (double)k * DBL_EPSILON * norm; }

/* cmocka's assert_float_equal compares in single precision: useless at 1e-15. */
#define assert_close(a, b, tol) assert_close_at((a), (b), (tol), __FILE__, __LINE__)
static void assert_close_at(double a, double b, double tol, const char *file, int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%.17g != %.17g (|diff| %.3g > tol %.3g)\n", a, b, fabs(a - b), tol);
        _fail(file, line);
    }
}

/* out (k x k) = U, a random orthogonal matrix: product of k random Householder
 * reflectors, applied with plain loops. */
static void random_orthogonal(size_t k, double *u)
{
    double *v = malloc(k * sizeof *v), *t = malloc(k * sizeof *t);
    for (size_t i = 0; i < k * k; i++)
        u[i] = 0;
    for (size_t i = 0; i < k; i++)
        u[i * k + i] = 1;
    for (size_t r = 0; r < k; r++) {
        double ss = 0;
        for (size_t i = 0; i < k; i++) {
            v[i] = gsl_ran_gaussian(rng, 1.0);
            ss += v[i] * v[i];
        }
        /* U <- (I - 2 v v^T / v^T v) U */
        for (size_t j = 0; j < k; j++) {
            double s = 0;
            for (size_t i = 0; i < k; i++)
                s += v[i] * u[i * k + j];
            t[j] = 2 * s / ss;
        }
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                u[i * k + j] -= v[i] * t[j];
    }
    free(v);
    free(t);
}

/* a = U diag(lam) U^T (k x k, both triangles). */
static void with_spectrum(size_t k, const double *lam, double *a)
{
    double *u = malloc(k * k * sizeof *u);
    random_orthogonal(k, u);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double s = 0;
            for (size_t l = 0; l < k; l++)
                s += u[i * k + l] * lam[l] * u[j * k + l];
            a[i * k + j] = s;
        }
    for (size_t i = 0; i < k; i++) /* exactly symmetric */
        for (size_t j = i + 1; j < k; j++)
            a[j * k + i] = a[i * k + j];
    free(u);
}

static void minmax(const double *x, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        *lo = fmin(*lo, x[i]);
        *hi = fmax(*hi, x[i]);
    }
}

static void check_spectrum(size_t k, const double *lam)
{
    double *a = malloc(k * k * sizeof *a), *a0 = malloc(k * k * sizeof *a0);
    with_spectrum(k, lam, a);
    memcpy(a0, a, k * k * sizeof *a);
    double lo, hi, lmin, lmax;
    minmax(lam, k, &lo, &hi);
    double norm = fmax(fabs(lo), fabs(hi));
    gpmc_symeig *e = gpmc_symeig_alloc(k);
    assert_non_null(e);
    assert_int_equal(gpmc_symeig_extreme(e, a, &lmin, &lmax), GPMC_OK);
    assert_close(lmin, lo, tol_for(k, norm));
    assert_close(lmax, hi, tol_for(k, norm));
    assert_close(gpmc_symeig_norm(e, a), norm, tol_for(k, norm));
    assert_memory_equal(a, a0, k * k * sizeof *a); /* input untouched */
    gpmc_symeig_free(e);
    free(a);
    free(a0);
}

static const size_t sizes[] = {1, 2, 3, 5, 10, 20, 33, 64, 65, 100, 150};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Eigenvalues uniform in [-1, 1] and in [-3, 0.5]: both signs of the extreme. */
static void test_symeig_random_spectrum(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSIZES; s++) {
        size_t k = sizes[s];
        double *lam = malloc(k * sizeof *lam);
        for (int rep = 0; rep < 3; rep++) {
            for (size_t i = 0; i < k; i++)
                lam[i] = rep == 2 ? -3 + 3.5 * gsl_rng_uniform(rng) : 2 * gsl_rng_uniform(rng) - 1;
            check_spectrum(k, lam);
        }
        free(lam);
    }
}

/* Multiple and clustered extreme eigenvalues must come out at full accuracy. */
static void test_symeig_clusters(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSIZES; s++) {
        size_t k = sizes[s];
        double *lam = malloc(k * sizeof *lam);
        for (size_t i = 0; i < k; i++) /* top and bottom thirds coincide */
            lam[i] = i < k / 3 ? -2.0 : (i >= k - k / 3 ? 2.0 : gsl_rng_uniform(rng) - 0.5);
        check_spectrum(k, lam);
        for (size_t i = 0; i < k; i++) /* a cluster 1e-12 wide at the top */
            lam[i] = i < k / 2 ? 1.0 + 1e-12 * gsl_rng_uniform(rng) : gsl_rng_uniform(rng);
        check_spectrum(k, lam);
        for (size_t i = 0; i < k; i++) /* identity: everything multiple */
            lam[i] = 1.0;
        check_spectrum(k, lam);
        for (size_t i = 0; i < k; i++) /* rank one: one eigenvalue 5, the rest 0 */
            lam[i] = i == 0 ? 5.0 : 0.0;
        check_spectrum(k, lam);
        free(lam);
    }
}

/* Diagonal and tridiagonal matrices whose spectra are known in closed form. */
static void test_symeig_closed_forms(void **state)
{
    (void)state;
    gpmc_symeig *e = gpmc_symeig_alloc(4);
    double diag[16] = {3, 0, 0, 0, 0, -7, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 2};
    double lmin, lmax;
    assert_int_equal(gpmc_symeig_extreme(e, diag, &lmin, &lmax), GPMC_OK);
    assert_true(lmin == -7 && lmax == 3);
    assert_true(gpmc_symeig_norm(e, diag) == 7);
    gpmc_symeig_free(e);
    /* The k x k second-difference matrix tridiag(-1, 2, -1) has eigenvalues
     * 2 - 2 cos(j pi / (k+1)), j = 1..k. */
    for (size_t k = 2; k <= 130; k += 16) {
        double *a = calloc(k * k, sizeof *a);
        for (size_t i = 0; i < k; i++) {
            a[i * k + i] = 2;
            if (i + 1 < k)
                a[i * k + i + 1] = a[(i + 1) * k + i] = -1;
        }
        e = gpmc_symeig_alloc(k);
        assert_int_equal(gpmc_symeig_extreme(e, a, &lmin, &lmax), GPMC_OK);
        double pi = acos(-1.0);
        assert_close(lmin, 2 - 2 * cos(pi / (double)(k + 1)), tol_for(k, 4));
        assert_close(lmax, 2 - 2 * cos(pi * (double)k / (double)(k + 1)), tol_for(k, 4));
        gpmc_symeig_free(e);
        free(a);
    }
    /* 1 x 1 and the zero matrix are exact. */
    e = gpmc_symeig_alloc(1);
    double one = -2.5;
    assert_int_equal(gpmc_symeig_extreme(e, &one, &lmin, &lmax), GPMC_OK);
    assert_true(lmin == -2.5 && lmax == -2.5);
    gpmc_symeig_free(e);
    double zero[9] = {0};
    e = gpmc_symeig_alloc(3);
    assert_int_equal(gpmc_symeig_extreme(e, zero, &lmin, &lmax), GPMC_OK);
    assert_true(lmin == 0 && lmax == 0);
    gpmc_symeig_free(e);
}

/* Against LAPACK's dsyev on GOE-like matrices; also: only the upper triangle is read,
 * and huge or tiny scales neither overflow nor underflow. */
static void test_symeig_vs_lapack(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSIZES; s++) {
        size_t k = sizes[s];
        double *a = malloc(k * k * sizeof *a), *c = malloc(k * k * sizeof *c);
        double *w = malloc(k * sizeof *w);
        gpmc_symeig *e = gpmc_symeig_alloc(k);
        for (int rep = 0; rep < 5; rep++) {
            for (size_t i = 0; i < k; i++)
                for (size_t j = i; j < k; j++)
                    a[i * k + j] = a[j * k + i] = gsl_ran_gaussian(rng, 1.0);
            memcpy(c, a, k * k * sizeof *a);
            assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)k, c,
                                           (lapack_int)k, w), 0);
            double norm = fmax(fabs(w[0]), fabs(w[k - 1])), lmin, lmax;
            for (size_t i = 0; i < k; i++) /* garbage below the diagonal */
                for (size_t j = 0; j < i; j++)
                    a[i * k + j] = NAN;
            assert_int_equal(gpmc_symeig_extreme(e, a, &lmin, &lmax), GPMC_OK);
            assert_close(lmin, w[0], tol_for(k, norm));
            assert_close(lmax, w[k - 1], tol_for(k, norm));
            for (double scale = 1e-150; scale < 1e151; scale *= 1e150) {
                for (size_t i = 0; i < k; i++)
                    for (size_t j = i; j < k; j++)
                        c[i * k + j] = a[i * k + j] * scale;
                double smin, smax;
                assert_int_equal(gpmc_symeig_extreme(e, c, &smin, &smax), GPMC_OK);
                assert_close(smin / scale, w[0], tol_for(k, norm));
                assert_close(smax / scale, w[k - 1], tol_for(k, norm));
            }
        }
        gpmc_symeig_free(e);
        free(a);
        free(c);
        free(w);
    }
}

static void test_symeig_nan(void **state)
{
    (void)state;
    gpmc_symeig *e = gpmc_symeig_alloc(3);
    double a[9] = {1, 2, 3, 0, 1, NAN, 0, 0, 1}, lmin, lmax;
    assert_int_equal(gpmc_symeig_extreme(e, a, &lmin, &lmax), GPMC_ENUM);
    assert_true(isnan(lmin) && isnan(lmax));
    assert_true(isnan(gpmc_symeig_norm(e, a)));
    a[5] = INFINITY;
    assert_true(isnan(gpmc_symeig_norm(e, a)));
    double lambda = 0, v[3];
    assert_int_equal(gpmc_symeig_extreme_vector(e, a, &lambda, v), GPMC_ENUM);
    assert_true(isnan(lambda));
    /* The eigenvalue of largest modulus is the negative one: its vector is e_2. */
    double d[9] = {1, 0, 0, 0, -3, 0, 0, 0, 2};
    assert_int_equal(gpmc_symeig_extreme_vector(e, d, &lambda, v), GPMC_OK);
    assert_true(lambda == -3 && fabs(fabs(v[1]) - 1) < 1e-15 && fabs(v[0]) < 1e-15 &&
                fabs(v[2]) < 1e-15);
    gpmc_symeig_free(e);
    assert_null(gpmc_symeig_alloc(0));
}

/* a = U diag(sigma) V^T, rows x cols, sigma given (length min(rows, cols)). */
static void with_singular_values(size_t rows, size_t cols, const double *sigma, double *a)
{
    size_t m = rows < cols ? rows : cols;
    double *u = malloc(rows * rows * sizeof *u), *v = malloc(cols * cols * sizeof *v);
    random_orthogonal(rows, u);
    random_orthogonal(cols, v);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double s = 0;
            for (size_t l = 0; l < m; l++)
                s += u[i * rows + l] * sigma[l] * v[j * cols + l];
            a[i * cols + j] = s;
        }
    free(u);
    free(v);
}

static void test_norm2_known(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{1, 1}, {1, 7}, {7, 1}, {5, 3}, {3, 5}, {20, 20},
                                       {100, 80}, {80, 100}, {30, 200}, {200, 30}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t r = shapes[s][0], c = shapes[s][1], m = r < c ? r : c, mx = r < c ? c : r;
        double *sig = malloc(m * sizeof *sig), *a = malloc(r * c * sizeof *a);
        double *work = malloc(gpmc_norm2_worksize(r, c) * sizeof *work);
        for (int rep = 0; rep < 3; rep++) {
            double smax = 0;
            for (size_t i = 0; i < m; i++) {
                /* rep 1: a top singular value repeated; rep 2: one dominant value */
                sig[i] = rep == 1 ? (i < (m + 1) / 2 ? 2.0 : gsl_rng_uniform(rng))
                                  : (rep == 2 && i > 0 ? 1e-3 : 0.1 + 3 * gsl_rng_uniform(rng));
                smax = fmax(smax, sig[i]);
            }
            with_singular_values(r, c, sig, a);
            /* Gram route: sigma_max relative error O(m eps) plus the construction's. */
            double tol = tol_for(mx, smax);
            assert_close(gpmc_norm2(a, r, c, work), smax, tol);
            for (size_t i = 0; i < r * c; i++) /* squares would overflow: scaled inside */
                a[i] *= 1e200;
            assert_close(gpmc_norm2(a, r, c, work) / 1e200, smax, tol);
            for (size_t i = 0; i < r * c; i++) /* to 1e-200: squares would underflow */
                a[i] = a[i] * 1e-200 * 1e-200;
            assert_close(gpmc_norm2(a, r, c, work) / 1e-200, smax, tol);
        }
        free(sig);
        free(a);
        free(work);
    }
}

static void test_norm2_vs_lapack(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{6, 4}, {4, 6}, {70, 90}, {90, 70}, {64, 64}, {65, 66}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t r = shapes[s][0], c = shapes[s][1], m = r < c ? r : c, mx = r < c ? c : r;
        double *a = malloc(r * c * sizeof *a), *b = malloc(r * c * sizeof *b);
        double *sv = malloc(m * sizeof *sv), *sup = malloc(m * sizeof *sup);
        double *work = malloc(gpmc_norm2_worksize(r, c) * sizeof *work);
        for (size_t i = 0; i < r * c; i++)
            a[i] = gsl_ran_gaussian(rng, 1.0);
        memcpy(b, a, r * c * sizeof *a);
        assert_int_equal(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)r,
                                        (lapack_int)c, b, (lapack_int)c, sv, NULL, 1, NULL, 1,
                                        sup), 0);
        assert_close(gpmc_norm2(a, r, c, work), sv[0], tol_for(mx, sv[0]));
        free(a);
        free(b);
        free(sv);
        free(sup);
        free(work);
    }
    double z[6] = {0}, w[6 + 10];
    assert_true(gpmc_norm2(z, 2, 3, w) == 0);
    z[4] = NAN;
    assert_true(isnan(gpmc_norm2(z, 2, 3, w)));
}

static void test_dot_nrm2(void **state)
{
    (void)state;
    double x[4] = {1, 2, 3, 4}, y[4] = {4, -3, 2, -1};
    assert_true(gpmc_dot(x, y, 4) == 0);
    assert_true(gpmc_dot(x, x, 4) == 30);
    double v[2] = {3e200, 4e200};
    assert_close(gpmc_nrm2(v, 2), 5e200, 5e200 * 4 * DBL_EPSILON); /* no overflow */
}

/* The pair masks: both strictly positive (a zero pre-activation is off: rejects >= 0;
 * one positive is off: rejects OR), contiguous and gathered through an index. */
/* gpmc_range_basis: columns a1, a2 and a3 = a1 + a2 (+ 1e-9 a4 in the second case, still
 * below the 1e-6 rank rule; 1e-3 a4 above it) of R^5 span a plane, so the rank is 2 and the
 * two basis rows are orthonormal and reproduce every column: |a - B^T B a| is rounding, or
 * the dropped 1e-9 |a4| / |a3| ~ 4e-10 relative (asserted < 1e-8).
 * The variant without the rank rule (all min(n, c) = 3 directions) is rejected, and the
 * 1e-3 case keeps its third direction. */
static void test_range_basis(void **state)
{
    (void)state;
    const double a1[5] = {1, 2, 0, -1, 3}, a2[5] = {0, 1, 1, 2, -1}, a4[5] = {1, -1, 2, 0, 0};
    const double eps[3] = {0, 1e-9, 1e-3};
    const size_t want[3] = {2, 2, 3};
    for (int c = 0; c < 3; c++) {
        double a[15], orig[15], sv[3], work[64];
        for (size_t i = 0; i < 5; i++) {
            orig[i] = a1[i];
            orig[5 + i] = a2[i];
            orig[10 + i] = a1[i] + a2[i] + eps[c] * a4[i];
        }
        memcpy(a, orig, sizeof a);
        assert_true(gpmc_svd_lwork(5, 3) <= 64);
        size_t rank = gpmc_range_basis(a, 5, 3, sv, work, gpmc_svd_lwork(5, 3));
        assert_int_equal(rank, want[c]);
        for (size_t r = 0; r < rank; r++)
            for (size_t q = 0; q < rank; q++)
                assert_true(fabs(gpmc_dot(a + 5 * r, a + 5 * q, 5) - (r == q)) < 1e-14);
        if (c == 2)
            continue;
        for (size_t col = 0; col < 3; col++) {
            double res[5];
            memcpy(res, orig + 5 * col, sizeof res);
            for (size_t r = 0; r < rank; r++) {
                double d = gpmc_dot(a + 5 * r, orig + 5 * col, 5);
                for (size_t i = 0; i < 5; i++)
                    res[i] -= d * a[5 * r + i];
            }
            assert_true(gpmc_nrm2(res, 5) < 1e-8 * gpmc_nrm2(orig + 5 * col, 5));
        }
    }
}

static void test_pair_masks(void **state)
{
    (void)state;
    const double zx[6] = {1, 0, -1, 2, 3, 0.5}, zy[6] = {1, 1, 1, -2, 0, 1e-300};
    const double want[6] = {1, 0, 0, 0, 0, 1};
    double m[6];
    gpmc_pair_masks(zx, zy, NULL, 6, m);
    assert_memory_equal(m, want, sizeof m);
    const size_t idx[4] = {5, 0, 4, 5};
    const double want_idx[4] = {1, 1, 0, 1};
    gpmc_pair_masks(zx, zy, idx, 4, m);
    assert_memory_equal(m, want_idx, sizeof want_idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symeig_random_spectrum),
        cmocka_unit_test(test_symeig_clusters),
        cmocka_unit_test(test_symeig_closed_forms),
        cmocka_unit_test(test_symeig_vs_lapack),
        cmocka_unit_test(test_symeig_nan),
        cmocka_unit_test(test_norm2_known),
        cmocka_unit_test(test_norm2_vs_lapack),
        cmocka_unit_test(test_range_basis),
        cmocka_unit_test(test_dot_nrm2),
        cmocka_unit_test(test_pair_masks),
    };
    return cmocka_run_group_tests_name("linalg", tests, setup, teardown);
}
