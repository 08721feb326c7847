/* Statistics over trials: Clopper-Pearson intervals, quantiles, sorting and streaming
 * moments, against values known in closed form or computed another way. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/rng.h"
#include "gpmc/stats.h"
#include "gpmc/error.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS DBL_EPSILON
#define SEED UINT64_C(0x57a75)


/* --- Clopper-Pearson ------------------------------------------------------------------ */

/* With no successes the upper limit solves (1 - p)^n = a/2, so hi = 1 - (a/2)^(1/n); with
 * all successes the lower limit solves p^n = a/2. Closed forms: exp/log/expm1, a few ulps:
 * 8 EPS. Rejects the one-sided variant (a instead of a/2: hi = 1 - 0.05^(1/n), off by 0.04
 * at n = 10). No trial gives no interval: NaN, not [0, 1]. */
static void test_clopper_pearson_at_the_edges(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(gpmc_clopper_pearson(0, 10, 0.95, &lo, &hi), 0);
    assert_true(lo == 0);
    assert_close(hi, 1 - pow(0.025, 0.1), 8 * EPS);
    assert_true(fabs(hi - (1 - pow(0.05, 0.1))) > 0.01);
    assert_int_equal(gpmc_clopper_pearson(10, 10, 0.95, &lo, &hi), 0);
    assert_close(lo, pow(0.025, 0.1), 8 * EPS);
    assert_true(hi == 1);
    assert_int_equal(gpmc_clopper_pearson(0, 0, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_not_equal(gpmc_clopper_pearson(11, 10, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_not_equal(gpmc_clopper_pearson(1, 10, 1.0, &lo, &hi), 0);
}

/* Where GSL 2.7's own inverse fails (gsl_cdf_beta_Pinv aborts "inverse failed to converge"
 * for k = 16, n = 500 and k = 31, 32, 59, 941, 968, 969 of n = 1000), against 50-digit
 * references computed another way (tests/unit/cp_reference.py: the binomial tail as an
 * explicit sum in mpmath, bisected in log p). (682, 925) is R's binom.test help-page
 * example, printed there as [0.7076683, 0.7654066]. Tolerance: the root is found to
 * 4 EPS relative in p and GSL's incomplete beta carries ~1e-14 relative error, moved into
 * p by the tail's condition number (<= n at these points): 1e-12 relative. */
static const struct { size_t k, n; double lo, hi; } cp_refs[] = {
    {1, 2, 0.01257911709342504912808, 0.9874208829065749508719},
    {3, 10, 0.06673951117773446711465, 0.6524528500599972950383},
    {682, 925, 0.7076682640790390230279, 0.7654065582415252469817},
    {16, 500, 0.01839918532363990749836, 0.05144676829164562183532},
    {484, 500, 0.9485532317083543781647, 0.9816008146763600925016},
    {31, 1000, 0.02115817197020862938384, 0.04371508500623890677175},
    {59, 1000, 0.04521335440279659809693, 0.07544907308424079892874},
    {968, 1000, 0.9551240971649907133641, 0.9780111503943575808102},
    {1, 5000, 0.000005063548777051590462195, 0.001113819380333972268204},
    {2500, 5000, 0.4860443740009257784416, 0.5139556259990742215584},
    {7, 10000, 0.0002814811457427945810523, 0.001441732309149769254524},
    {9990, 10000, 0.998161735865789379835, 0.9995203602762289231023},
};

static void test_clopper_pearson_against_references(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cp_refs / sizeof *cp_refs; c++) {
        double lo, hi;
        assert_int_equal(gpmc_clopper_pearson(cp_refs[c].k, cp_refs[c].n, 0.95, &lo, &hi), 0);
        assert_close(lo, cp_refs[c].lo, 1e-12 * cp_refs[c].lo);
        assert_close(hi, cp_refs[c].hi, 1e-12 * cp_refs[c].hi);
    }
    double lo, hi;
    gpmc_clopper_pearson(682, 925, 0.95, &lo, &hi);
    assert_close(lo, 0.7076683, 5e-8); /* R's printed digits */
    assert_close(hi, 0.7654066, 5e-8);
}

/* Every s of every n in the list: finite, 0 <= lo <= s/n <= hi <= 1, both limits strictly
 * increasing in s, and the defining equations P(X >= s | lo) = a/2, P(X <= s | hi) = a/2
 * to 1e-8 relative (the bound; a limit off by one part in 1e8 of p moves the tail
 * by up to n 1e-8 relative, so this also pins the relative accuracy in p near 0, where an
 * absolute 1e-12 stop would leave the tail at n = 5000, s = 1 off by 2e-4 relative).
 * 8,648 pairs; the worst residual is printed. */
static void test_clopper_pearson_every_count(void **state)
{
    (void)state;
    const size_t ns[] = {1, 2, 10, 30, 100, 500, 1000, 2000, 5000};
    double worst = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        size_t n = ns[i];
        double prev_lo = -1, prev_hi = -1;
        for (size_t s = 0; s <= n; s++, pairs++) {
            double lo, hi, p = (double)s / (double)n;
            if (gpmc_clopper_pearson(s, n, 0.95, &lo, &hi))
                fail_msg("s = %zu, n = %zu: %s", s, n, gpmc_error_message());
            if (!(isfinite(lo) && isfinite(hi) && 0 <= lo && lo <= p && p <= hi && hi <= 1))
                fail_msg("s = %zu, n = %zu: [%.17g, %.17g] does not bracket %g", s, n, lo, hi, p);
            if (!(lo > prev_lo && hi > prev_hi))
                fail_msg("s = %zu, n = %zu: not increasing in s", s, n);
            prev_lo = lo;
            prev_hi = hi;
            if (s > 0) {
                double r = fabs(gsl_cdf_binomial_Q((unsigned)(s - 1), lo, (unsigned)n) / 0.025 - 1);
                worst = fmax(worst, r);
                if (!(r <= 1e-8))
                    fail_msg("s = %zu, n = %zu: P(X >= s | lo) off by %.3g relative", s, n, r);
            }
            if (s < n) {
                double r = fabs(gsl_cdf_binomial_P((unsigned)s, hi, (unsigned)n) / 0.025 - 1);
                worst = fmax(worst, r);
                if (!(r <= 1e-8))
                    fail_msg("s = %zu, n = %zu: P(X <= s | hi) off by %.3g relative", s, n, r);
            }
        }
    }
    print_message("clopper-pearson: %zu (s, n) pairs, worst tail residual %.3g relative\n",
                  pairs, worst);
}

/* The cache returns what a fresh computation gives, bit for bit, for any order of calls. */
static void test_clopper_pearson_cache_is_transparent(void **state)
{
    (void)state;
    double lo1, hi1, lo2, hi2;
    gpmc_stats_cache_clear();
    gpmc_clopper_pearson(37, 200, 0.95, &lo1, &hi1);
    for (size_t n = 1; n < 20; n++) /* evict the slot of n = 200 */
        gpmc_clopper_pearson(0, n, 0.95, &lo2, &hi2);
    gpmc_clopper_pearson(37, 200, 0.95, &lo2, &hi2);
    assert_true(lo1 == lo2 && hi1 == hi2);
    gpmc_clopper_pearson(37, 200, 0.99, &lo2, &hi2); /* another level: another slot */
    assert_true(lo2 < lo1 && hi2 > hi1);
    gpmc_stats_cache_clear();
}

/* k = 5 of n = 10: [0.187086, 0.812914] to the 6 printed digits (tolerance half a unit of
 * the last digit), and to 16 EPS against 30-digit values from mpmath (findroot on the
 * binomial tail sum, an independent route). */
static void test_clopper_pearson_mid_value(void **state)
{
    (void)state;
    double lo, hi;
    gpmc_clopper_pearson(5, 10, 0.95, &lo, &hi);
    assert_close(lo, 0.187086, 5e-7);
    assert_close(hi, 0.812914, 5e-7);
    assert_close(lo, 0.187086028447398531644798431117, 16 * EPS);
    assert_close(hi, 0.812913971552601468355201568883, 16 * EPS);
    gpmc_clopper_pearson(17, 30, 0.95, &lo, &hi);
    assert_close(lo, 0.374273450609220721645002933379, 16 * EPS);
}

/* The defining equations: P(Bin(n, lo) >= k) = a/2 and P(Bin(n, hi) <= k) = a/2. The
 * binomial tail has derivative at most n in p and is a sum of at most n + 1 rounded
 * terms, so an endpoint correct to a few ulps leaves a residual below 8 n EPS. The
 * interval also widens with the level and is symmetric: lo(k) = 1 - hi(n - k). */
static void test_clopper_pearson_solves_its_equations(void **state)
{
    (void)state;
    const size_t cases[][2] = {{1, 10}, {3, 7}, {17, 30}, {1, 1000}, {500, 1000}, {999, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t k = cases[c][0], n = cases[c][1];
        double lo, hi, lo99, hi99, lo_s, hi_s;
        gpmc_clopper_pearson(k, n, 0.95, &lo, &hi);
        double tol = 8 * (double)n * EPS;
        assert_close(gsl_cdf_binomial_Q((unsigned)(k - 1), lo, (unsigned)n), 0.025, tol);
        assert_close(gsl_cdf_binomial_P((unsigned)k, hi, (unsigned)n), 0.025, tol);
        assert_true(lo < (double)k / (double)n && (double)k / (double)n < hi);
        gpmc_clopper_pearson(k, n, 0.99, &lo99, &hi99);
        assert_true(lo99 < lo && hi < hi99);
        gpmc_clopper_pearson(n - k, n, 0.95, &lo_s, &hi_s);
        assert_close(lo, 1 - hi_s, 8 * EPS);
        assert_close(hi, 1 - lo_s, 8 * EPS);
    }
}

/* --- quantiles and sorting ------------------------------------------------------------ */

/* Linear interpolation between order statistics at position q (n - 1), as GSL and numpy's
 * default: hand-computed values. The position is one rounding and the interpolation two,
 * each relative to the data, so 8 EPS max|data|; node positions are exact. */
static void test_quantile_interpolates_linearly(void **state)
{
    (void)state;
    const double a[5] = {1, 2, 3, 4, 5}, ta = 8 * EPS * 5;
    assert_close(gpmc_quantile_sorted(a, 5, 0.0), 1.0, 0);
    assert_close(gpmc_quantile_sorted(a, 5, 0.25), 2.0, 0);
    assert_close(gpmc_quantile_sorted(a, 5, 0.5), 3.0, 0);
    assert_close(gpmc_quantile_sorted(a, 5, 0.1), 1.4, ta);
    assert_close(gpmc_quantile_sorted(a, 5, 0.9), 4.6, ta);
    assert_close(gpmc_quantile_sorted(a, 5, 1.0), 5.0, 0);
    const double b[2] = {10, 20};
    assert_close(gpmc_quantile_sorted(b, 2, 0.3), 13.0, 8 * EPS * 20);
    const double c[4] = {-3, 0, 0.5, 8}, tc = 8 * EPS * 8;
    assert_close(gpmc_quantile_sorted(c, 4, 0.5), 0.25, tc);   /* position 1.5 */
    assert_close(gpmc_quantile_sorted(c, 4, 0.75), 2.375, tc); /* 0.5 + 0.25 * 7.5 */
    /* Equal values give that value exactly: GSL's (1 - d) x + d x rounds to 37 + 1 ulp at
     * q = 0.05 (found by the edge sweep: q05 above max). */
    const double e[3] = {37, 37, 37};
    for (double q = 0; q <= 1; q += 0.05)
        assert_true(gpmc_quantile_sorted(e, 3, q) == 37);
    assert_close(gpmc_quantile_sorted(c, 1, 0.7), -3.0, 0);
    assert_true(isnan(gpmc_quantile_sorted(c, 0, 0.5)));
    /* q outside [0, 1] is clamped to the extremes rather than read out of bounds */
    assert_close(gpmc_quantile_sorted(c, 4, -0.5), -3.0, 0);
    assert_close(gpmc_quantile_sorted(c, 4, 1.5), 8.0, 0);
}

/* Sorting yields a non-decreasing permutation of the input (compared with the C library's
 * qsort on a copy, element by element, exactly). */
static int cmp_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

static void test_sort_is_an_ordered_permutation(void **state)
{
    (void)state;
    enum { N = 1001 };
    double a[N], b[N];
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 1, 0, 0);
    gpmc_rng_gaussian(r, 1.0, a, N);
    a[7] = a[500] = a[1000]; /* ties */
    memcpy(b, a, sizeof a);
    gpmc_sort(a, N);
    qsort(b, N, sizeof *b, cmp_double);
    for (size_t i = 0; i < N; i++)
        assert_true(a[i] == b[i]);
    for (size_t i = 1; i < N; i++)
        assert_true(a[i - 1] <= a[i]);
    gpmc_sort(a, 0); /* empty input is allowed */
    gpmc_rng_free(r);
}

/* --- streaming moments ---------------------------------------------------------------- */

static void test_moments_small_cases(void **state)
{
    (void)state;
    gpmc_moments m;
    gpmc_moments_init(&m);
    assert_true(m.n == 0 && isnan(gpmc_moments_var(&m)));
    gpmc_moments_add(&m, 2.5);
    assert_true(m.n == 1 && m.mean == 2.5 && m.min == 2.5 && m.max == 2.5);
    assert_true(isnan(gpmc_moments_var(&m)));
    gpmc_moments_add(&m, 4.5);
    gpmc_moments_add(&m, -1.0);
    /* {2.5, 4.5, -1}: mean 2, squared deviations 0.25 + 6.25 + 9 = 15.5, var 7.75 */
    assert_close(m.mean, 2.0, 4 * EPS);
    assert_close(gpmc_moments_var(&m), 7.75, 16 * EPS);
    assert_close(gpmc_moments_std(&m), sqrt(7.75), 16 * EPS);
    assert_true(m.min == -1.0 && m.max == 4.5);
}

/* Welford against the corrected two-pass algorithm, on data whose mean dwarfs its spread
 * (condition number kappa = sqrt(1 + mean^2/var) up to 1e6). Chan, Golub & LeVeque (1983)
 * bound the relative error of the updating algorithm by about n kappa EPS and of the
 * corrected two-pass one by n EPS + (n kappa EPS)^2; the difference is within the sum. */
static void test_welford_matches_two_pass(void **state)
{
    (void)state;
    enum { N = 10000 };
    static double x[N];
    const double offsets[] = {0.0, 1e3, 1e6};
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t o = 0; o < sizeof offsets / sizeof *offsets; o++) {
        gpmc_rng_seek(r, SEED, 2, o, 0);
        gpmc_rng_gaussian(r, 1.0, x, N);
        gpmc_moments m;
        gpmc_moments_init(&m);
        double sum = 0, xmin = INFINITY, xmax = -INFINITY;
        for (size_t i = 0; i < N; i++) {
            x[i] += offsets[o];
            gpmc_moments_add(&m, x[i]);
            sum += x[i];
            xmin = fmin(xmin, x[i]);
            xmax = fmax(xmax, x[i]);
        }
        double mean = sum / N, ss = 0, comp = 0;
        for (size_t i = 0; i < N; i++) {
            ss += (x[i] - mean) * (x[i] - mean);
            comp += x[i] - mean;
        }
        double var = (ss - comp * comp / N) / (N - 1);
        double kappa = sqrt(1 + mean * mean / var), nke = N * kappa * EPS;
        assert_close(gpmc_moments_var(&m), var, (nke + N * EPS + nke * nke) * var);
        assert_close(m.mean, mean, 2 * N * EPS * fmax(fabs(xmin), fabs(xmax)));
        assert_true(m.min == xmin && m.max == xmax && m.n == N);
        print_message("welford: offset %.0e, relative var difference %.2e (bound %.2e)\n",
                      offsets[o], fabs(gpmc_moments_var(&m) - var) / var,
                      nke + N * EPS + nke * nke);
    }
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clopper_pearson_at_the_edges),
        cmocka_unit_test(test_clopper_pearson_mid_value),
        cmocka_unit_test(test_clopper_pearson_solves_its_equations),
        cmocka_unit_test(test_clopper_pearson_against_references),
        cmocka_unit_test(test_clopper_pearson_every_count),
        cmocka_unit_test(test_clopper_pearson_cache_is_transparent),
        cmocka_unit_test(test_quantile_interpolates_linearly),
        cmocka_unit_test(test_sort_is_an_ordered_permutation),
        cmocka_unit_test(test_moments_small_cases),
        cmocka_unit_test(test_welford_matches_two_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
