/* rng: Philox streams addressed by (seed, point key, trial, substream), and the samplers.
 * Moment checks allow 5 standard errors computed from the sample size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/rng.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NSE 5.0

static void draws(gsl_rng *r, uint64_t seed, uint64_t key, uint64_t trial, uint32_t sub,
                  unsigned long *out, size_t n)
{
    gpmc_rng_seek(r, seed, key, trial, sub);
    for (size_t i = 0; i < n; i++)
        out[i] = gsl_rng_get(r);
}

/* A stream is a pure function of its address; changing any coordinate changes it. */
static void test_streams_are_addressed(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    enum { N = 64 };
    unsigned long a[N], b[N];
    draws(r, 1, 2, 3, 0, a, N);
    for (int i = 0; i < 5; i++) /* disturb the state, then come back */
        gsl_rng_get(r);
    draws(r, 1, 2, 3, 0, b, N);
    assert_memory_equal(a, b, sizeof a);
    const uint64_t addr[][4] = {{9, 2, 3, 0}, {1, 9, 3, 0}, {1, 2, 9, 0}, {1, 2, 3, 9}};
    for (size_t c = 0; c < 4; c++) {
        draws(r, addr[c][0], addr[c][1], addr[c][2], (uint32_t)addr[c][3], b, N);
        size_t same = 0;
        for (size_t i = 0; i < N; i++)
            same += a[i] == b[i];
        /* Independent 32-bit draws agree with probability 2^-32 each. */
        assert_true(same <= 1);
    }
    gpmc_rng_free(r);
}

static void test_hash_chains(void **state)
{
    (void)state;
    uint64_t h1 = gpmc_hash_str(gpmc_hash_str(GPMC_HASH_INIT, "n=10"), "k=5");
    uint64_t h2 = gpmc_hash_str(gpmc_hash_str(GPMC_HASH_INIT, "n=10"), "k=5");
    uint64_t h3 = gpmc_hash_str(gpmc_hash_str(GPMC_HASH_INIT, "n=1"), "0k=5");
    assert_int_equal(h1, h2);
    assert_true(h1 != h3); /* the terminating NUL separates the parts */
    /* FNV-1a 64 of "a" (known value) */
    assert_int_equal(gpmc_hash_bytes(GPMC_HASH_INIT, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
}

/* N(0, sigma^2): mean within 5 SE (sigma/sqrt(N)), variance within 5 SE (sigma^2 sqrt(2/N)). */
static void test_gaussian_moments(void **state)
{
    (void)state;
    enum { N = 200000 };
    double *a = malloc(N * sizeof *a), sigma = 0.3;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 5, 6, 7, 0);
    gpmc_rng_gaussian(r, sigma, a, N);
    double m = 0, v = 0;
    for (size_t i = 0; i < N; i++)
        m += a[i];
    m /= N;
    for (size_t i = 0; i < N; i++)
        v += (a[i] - m) * (a[i] - m);
    v /= N - 1;
    assert_close(m, 0.0, NSE * sigma / sqrt(N));
    assert_close(v, sigma * sigma, NSE * sigma * sigma * sqrt(2.0 / N));
    free(a);
    gpmc_rng_free(r);
}

static void test_rademacher(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *a = malloc(N * sizeof *a), s = 1 / sqrt(300.0), m = 0;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 1, 1, 1, 1);
    gpmc_rng_rademacher(r, s, a, N);
    for (size_t i = 0; i < N; i++) {
        assert_true(a[i] == s || a[i] == -s);
        m += a[i];
    }
    assert_close(m / N, 0.0, NSE * s / sqrt(N));
    free(a);
    gpmc_rng_free(r);
}

/* Rows w ~ N(0, sigma^2 I_k) are zeroed when |w| > radius: with probability
 * P(chi^2_k > radius^2 / sigma^2); kept rows are untouched and within the radius. */
static void test_truncated_rows(void **state)
{
    (void)state;
    enum { ROWS = 40000, K = 4 };
    double *a = malloc(ROWS * K * sizeof *a), sigma = 0.5, radius = 1.2;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 3, 3, 3, 0);
    gpmc_rng_truncated_rows(r, sigma, radius, ROWS, K, a);
    size_t zero = 0;
    for (size_t i = 0; i < ROWS; i++) {
        double ss = 0;
        for (size_t j = 0; j < K; j++)
            ss += a[i * K + j] * a[i * K + j];
        zero += ss == 0;
        assert_true(ss <= radius * radius);
    }
    double p = gsl_cdf_chisq_Q(radius * radius / (sigma * sigma), K);
    assert_close((double)zero / ROWS, p, NSE * sqrt(p * (1 - p) / ROWS));
    free(a);
    gpmc_rng_free(r);
}

/* Unit vectors: norm 1, and uniform on the sphere: E[u_1^2] = 1/k within 5 SE. */
static void test_unit_vectors(void **state)
{
    (void)state;
    enum { N = 50000, K = 7 };
    double u[K], s1 = 0, s2 = 0;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 8, 8, 8, 0);
    for (size_t i = 0; i < N; i++) {
        gpmc_rng_unit_vector(r, u, K);
        double nn = 0;
        for (size_t j = 0; j < K; j++)
            nn += u[j] * u[j];
        assert_close(nn, 1.0, 4 * K * 1.1e-16);
        s1 += u[0] * u[0];
        s2 += u[0] * u[0] * u[0] * u[0];
    }
    double m = s1 / N, var = s2 / N - m * m;
    assert_close(m, 1.0 / K, NSE * sqrt(var / N));
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_are_addressed), cmocka_unit_test(test_hash_chains),
        cmocka_unit_test(test_gaussian_moments),      cmocka_unit_test(test_rademacher),
        cmocka_unit_test(test_truncated_rows),        cmocka_unit_test(test_unit_vectors),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
