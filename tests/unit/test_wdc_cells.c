/* The exact diagonal WDC supremum by the cells of the arrangement (src/numerics/wdc_cells.c):
 *
 *  - counts: 2 sum_{j<k} C(n, j) (2^n for n < k), SIZE_MAX past size_t; C(66, 33) exact
 *    (the plain multiply-then-divide binomial overflows inside it and is rejected);
 *  - k = 1: the two half-lines, in closed form; W = 0: alpha/2 exactly;
 *  - k = 2: equals the diagonal sup of the exact k = 2 mode (wdc_exact2), another algorithm
 *    (sorted arcs of the circle), to the rounding of two masked Grams;
 *  - k = 3, 4 (and n < k): the distinct masks of the enumerated candidates are exactly
 *    2 sum_{i<k} C(n'-1, i) (the arrangement's cell count in general position; the variants
 *    sum_{i<=k} and C(n', i) are rejected), every mask seen by 200k random directions is
 *    among them, and the enumerated sup is never below the random directions' best;
 *  - a repeated and an opposite row (not general position) are still handled exactly;
 *  - the reported value is the evaluator's at the witness (plain-loop recomputation), the
 *    run is deterministic, and a stop request ends it between batches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/rng.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_cells.h"
#include "gpmc/wdc_eval.h"
#include "gpmc/wdc_exact2.h"
#include "testutil.h"
#include "wdc_ref.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 64

/* n x k weights of the wdc experiment's ensembles (ens 0: Gaussian N(0, I/n), alpha = 1;
 * 1: truncated at 3 sqrt(k/n); 2: Gaussian with rows 1 and 3 zeroed, as truncation would,
 * which it rarely does at this radius); returns alpha, *nz the nonzero rows. */
static double make_w(gsl_rng *rng, size_t n, size_t k, int ens, double *w, size_t *nz)
{
    double sigma = 1 / sqrt((double)n), alpha = 1;
    if (ens == 1) {
        gpmc_rng_truncated_rows(rng, sigma, 3 * sqrt((double)k / (double)n), n, k, w);
        alpha = gpmc_theory_alpha_truncated(k);
    } else {
        gpmc_rng_gaussian(rng, sigma, w, n * k);
    }
    if (ens == 2)
        for (size_t i = 1; i < n && i < 4; i += 2)
            memset(w + i * k, 0, k * sizeof(double));
    *nz = 0;
    for (size_t i = 0; i < n; i++)
        *nz += norm(w + i * k, k) > 0;
    return alpha;
}

/* The mask {w_l.x > 0} as bits (n <= 64). */
static uint64_t mask_of(const double *w, size_t n, size_t k, const double *x)
{
    uint64_t m = 0;
    for (size_t l = 0; l < n; l++)
        if (dot(w + l * k, x, k) > 0)
            m |= (uint64_t)1 << l;
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sort and drop repeats; the number left. */
static size_t distinct(uint64_t *m, size_t len)
{
    if (len == 0)
        return 0;
    qsort(m, len, sizeof *m, cmp_u64);
    size_t u = 1;
    for (size_t i = 1; i < len; i++)
        if (m[i] != m[u - 1])
            m[u++] = m[i];
    return u;
}

/* Cells of a central arrangement of n hyperplanes in general position in R^k:
 * 2 sum_{i<k} C(n-1, i) (1 for n = 0). `variant` 1: 2 sum_{i<=k} C(n-1, i); 2:
 * 2 sum_{i<k} C(n, i) (plausible misremembered forms). */
static double arrangement_cells(size_t n, size_t k, int variant)
{
    if (n == 0)
        return 1;
    size_t top = variant == 2 ? n : n - 1, last = variant == 1 ? k : k - 1;
    double s = 0, c = 1; /* c = C(top, i) */
    for (size_t i = 0; i <= last && i <= top; i++) {
        s += c;
        c = c * (double)(top - i) / (double)(i + 1);
    }
    return 2 * s;
}

typedef struct {
    double eps, x[8];
    size_t evaluated, skipped;
} cells_out;

static cells_out run_cells(const double *w, size_t n, size_t k, double alpha)
{
    cells_out o = {0};
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, BATCH);
    gpmc_wdc_cells *c = gpmc_wdc_cells_alloc(n, k, BATCH);
    assert_non_null(ev);
    assert_non_null(c);
    assert_true(k <= 8);
    gpmc_wdc_eval_set_w(ev, w, alpha);
    assert_int_equal(gpmc_wdc_cells_run(c, w, alpha, ev, NULL, &o.eps, o.x), GPMC_OK);
    o.evaluated = gpmc_wdc_cells_evaluated(c);
    o.skipped = gpmc_wdc_cells_skipped(c);
    /* the value is the deviation at the witness: plain loops and dsyev agree */
    assert_close(ref_dev(w, n, k, alpha, o.x, o.x, NULL), o.eps, dev_tol(w, n, k));
    assert_close(norm(o.x, k), 1, 4 * DBL_EPSILON);
    gpmc_wdc_cells_free(c);
    gpmc_wdc_eval_free(ev);
    return o;
}

static void test_counts(void **state)
{
    (void)state;
    /* 2 sum_{j<k} C(n, j): two points per row set of every level (not the 2^k C(n, k-1)
     * of all the pieces around every ray: 6240 at (40, 3)) */
    assert_int_equal(gpmc_wdc_cells_count(40, 3), 2 * (1 + 40 + 780));
    assert_int_equal(gpmc_wdc_cells_count(200, 3), 2 * (1 + 200 + 19900));
    assert_int_equal(gpmc_wdc_cells_count(40, 5), 2 * (1 + 40 + 780 + 9880 + 91390));
    assert_int_equal(gpmc_wdc_cells_count(7, 1), 2);
    assert_int_equal(gpmc_wdc_cells_count(4, 4), 2 * (1 + 4 + 6 + 4));
    assert_int_equal(gpmc_wdc_cells_count(3, 4), 8); /* n < k: 2^n */
    assert_int_equal(gpmc_wdc_cells_count(0, 4), 1);
    assert_int_equal(gpmc_wdc_cells_combinations(3, 4), 1);
    /* C(66, 33) = 7219428434016265740 < 2^64: the plain C (n - i) / (i + 1) overflows at
     * its last step (C(66, 32) 34 > 2^64), the cancelled form does not */
    if (SIZE_MAX >= UINT64_MAX) {
        assert_true((size_t)UINT64_C(7219428434016265740) ==
                    gpmc_wdc_cells_combinations(66, 34));
        assert_int_equal(gpmc_wdc_cells_combinations(68, 35), SIZE_MAX); /* 2.8e19 */
    }
    assert_int_equal(gpmc_wdc_cells_count(66, 34), SIZE_MAX); /* ~2^66 */
    assert_int_equal(gpmc_wdc_cells_count(SIZE_MAX, 2), SIZE_MAX);
    assert_int_equal(gpmc_wdc_cells_count(10, 0), SIZE_MAX);
    assert_int_equal(gpmc_wdc_cells_bytes(SIZE_MAX / 4, 3, 16), SIZE_MAX);
    assert_null(gpmc_wdc_cells_alloc(0, 3, 16));
    assert_null(gpmc_wdc_cells_alloc(10, GPMC_WDC_CELLS_KMAX + 1, 16));
    assert_null(gpmc_wdc_cells_alloc(10, 3, 0));
}

/* k = 1: the cells are x = +1 and x = -1, so eps = max(|S+ - alpha/2|, |S- - alpha/2|)
 * with S+- the sums of w_i^2 over w_i > 0 and w_i < 0. The variant |S - alpha/2| (all rows
 * active) is rejected. W = 0 (any k): no row is ever active, eps = alpha/2 exactly. */
static void test_k1_and_zero(void **state)
{
    (void)state;
    gsl_rng *rng = gpmc_rng_alloc();
    double miss = 0;
    for (size_t n = 1; n <= 40; n += 13) {
        double w[40], sp = 0, sm = 0;
        size_t nz;
        double alpha = make_w(rng, n, 1, 0, w, &nz);
        for (size_t i = 0; i < n; i++)
            *(w[i] > 0 ? &sp : &sm) += w[i] * w[i];
        cells_out o = run_cells(w, n, 1, alpha);
        double want = fmax(fabs(sp - 0.5 * alpha), fabs(sm - 0.5 * alpha));
        assert_close(o.eps, want, dev_tol(w, n, 1));
        assert_int_equal(o.evaluated, 2);
        miss = fmax(miss, fabs(fabs(sp + sm - 0.5 * alpha) - want));
    }
    assert_true(miss > 1e-3);
    double z[5 * 3] = {0};
    for (size_t k = 1; k <= 3; k++) {
        cells_out o = run_cells(z, 5, k, 0.8);
        assert_true(o.eps == 0.4);
        assert_int_equal(o.evaluated, 1);
    }
    gpmc_rng_free(rng);
}

/* k = 2 against wdc_exact2's eps_diag: both are evaluator values of the same (argmax) arc's
 * Gram, each entry within (n + k) eps S of the exact sum (dev_tol: 4 (n + k) eps (1 + S)),
 * so they agree within 2 dev_tol (relative ~1e-14 here). */
static void test_k2_matches_exact2(void **state)
{
    (void)state;
    static const size_t ns[] = {2, 5, 20, 60};
    gsl_rng *rng = gpmc_rng_alloc();
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int ens = 0; ens < 3; ens++)
            for (int rep = 0; rep < 3; rep++) {
                size_t n = ns[a], nz;
                double w[2 * 60];
                double alpha = make_w(rng, n, 2, ens, w, &nz);
                cells_out o = run_cells(w, n, 2, alpha);
                gpmc_wdc_exact2_result res = ref_exact2(w, n, alpha);
                double tol = 2 * dev_tol(w, n, 2);
                if (rep == 0)
                    print_message("k=2 n=%zu ens=%d: cells %.15f exact2 %.15f diff %.2g tol "
                                  "%.2g (%zu candidates)\n",
                                  n, ens, o.eps, res.eps_diag, o.eps - res.eps_diag, tol,
                                  o.evaluated);
                assert_close(o.eps, res.eps_diag, tol);
                assert_int_equal(o.evaluated, gpmc_wdc_cells_count(nz, 2));
                assert_int_equal(o.skipped, 0);
            }
    gpmc_rng_free(rng);
}

/* The enumeration against the arrangement and against random directions, for one W.
 * `degenerate`: row 5 repeats row 2 and row 7 is -row 3 / 2 (not general position: two
 * hyperplanes fewer, and the two row sets {2, 5}, {3, 7} of the top level are dependent). */
static void check_cells(gsl_rng *rng, size_t n, size_t k, int ens, size_t ndir, int degenerate)
{
    double *w = malloc(n * k * sizeof *w);
    size_t nz;
    double alpha = make_w(rng, n, k, ens, w, &nz);
    size_t nh = nz, cnt = gpmc_wdc_cells_count(nz, k), skip = 0;
    if (degenerate) {
        assert_true(ens == 0 && k == 3 && n > 7);
        for (size_t a = 0; a < k; a++) {
            w[5 * k + a] = w[2 * k + a];
            w[7 * k + a] = -0.5 * w[3 * k + a];
        }
        nh -= 2; /* distinct hyperplanes */
        skip = 2;
        cnt -= 2 * skip;
    }
    cells_out o = run_cells(w, n, k, alpha);
    assert_int_equal(o.evaluated, cnt);
    assert_int_equal(o.skipped, skip);

    /* the candidates again through the iterator: their masks, their distance from the
     * hyperplanes (relative to |w_l|, far above the rounding of w_l.x, ~k eps), and the
     * evaluator's largest value there (= run's eps: the same points, batches, order) */
    gpmc_wdc_cells *c = gpmc_wdc_cells_alloc(n, k, BATCH);
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, BATCH);
    assert_non_null(c);
    assert_non_null(ev);
    gpmc_wdc_eval_set_w(ev, w, alpha);
    uint64_t *em = malloc(cnt * sizeof *em);
    double *x = malloc(BATCH * k * sizeof *x), dv[BATCH], best = -1, margin = INFINITY;
    size_t got = 0, nb;
    gpmc_wdc_cells_begin(c, w);
    while ((nb = gpmc_wdc_cells_next(c, x, BATCH)) > 0) {
        assert_true(got + nb <= cnt);
        assert_int_equal(gpmc_wdc_eval_pairs(ev, x, x, nb, dv), GPMC_OK);
        for (size_t b = 0; b < nb; b++) {
            em[got + b] = mask_of(w, n, k, x + b * k);
            margin = fmin(margin, ref_margin(w, n, k, x + b * k));
            best = fmax(best, dv[b]);
        }
        got += nb;
    }
    assert_int_equal(got, cnt);
    assert_true(best == o.eps);
    assert_true(margin > 100 * (double)k * DBL_EPSILON);
    size_t ucells = distinct(em, cnt);
    double want = arrangement_cells(nh, k, 0);
    assert_true((double)ucells == want);
    /* the closed form is the discriminating one here */
    assert_true((double)ucells != arrangement_cells(nh, k, 1) || nh <= k); /* equal below */
    assert_true((double)ucells != arrangement_cells(nh, k, 2) || nh == 0);

    /* random directions: a lower bound, and masks that must all be enumerated */
    uint64_t *rm = malloc(ndir * sizeof *rm);
    double rbest = -1;
    for (size_t d0 = 0; d0 < ndir; d0 += BATCH) {
        nb = ndir - d0 < BATCH ? ndir - d0 : BATCH;
        for (size_t b = 0; b < nb; b++) {
            gpmc_rng_unit_vector(rng, x + b * k, k);
            rm[d0 + b] = mask_of(w, n, k, x + b * k);
        }
        assert_int_equal(gpmc_wdc_eval_pairs(ev, x, x, nb, dv), GPMC_OK);
        for (size_t b = 0; b < nb; b++)
            rbest = fmax(rbest, dv[b]);
    }
    size_t urand = distinct(rm, ndir), missing = 0;
    for (size_t i = 0; i < urand; i++)
        missing += bsearch(rm + i, em, ucells, sizeof *em, cmp_u64) == NULL;
    print_message("k=%zu n=%zu (n'=%zu%s) ens=%d: %zu candidates, %zu cells (closed form %.0f), "
                  "random saw %zu, missing %zu; eps %.12f random best %.12f; margin %.2g\n",
                  k, n, nz, degenerate ? ", 2 repeated" : "", ens, cnt, ucells, want, urand, missing, o.eps, rbest, margin);
    assert_int_equal(missing, 0);
    /* the random best is the value of an enumerated cell: equal Grams up to rounding */
    assert_true(o.eps >= rbest - 2 * dev_tol(w, n, k));
    free(rm);
    free(em);
    free(x);
    gpmc_wdc_eval_free(ev);
    gpmc_wdc_cells_free(c);
    free(w);
}

static void test_k3_cells(void **state)
{
    (void)state;
    static const size_t ns[] = {12, 20, 40};
    gsl_rng *rng = gpmc_rng_alloc();
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int ens = 0; ens < 3; ens++)
            check_cells(rng, ns[a], 3, ens, 200000, 0);
    check_cells(rng, 12, 3, 0, 200000, 1);
    check_cells(rng, 30, 3, 0, 200000, 1);
    gpmc_rng_free(rng);
}

/* k = 4 and 5, including n < k (all 2^n orthant cells) and n = k - 1. */
static void test_k4_cells(void **state)
{
    (void)state;
    static const size_t ns[] = {1, 2, 3, 4, 6, 10, 16};
    gsl_rng *rng = gpmc_rng_alloc();
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        check_cells(rng, ns[a], 4, ns[a] == 10 ? 2 : 0, 100000, 0);
    check_cells(rng, 3, 5, 0, 50000, 0);
    check_cells(rng, 9, 5, 0, 100000, 0);
    gpmc_rng_free(rng);
}

static int stop_now(void) { return 1; }

/* Deterministic (bitwise), and a stop request ends the run before its second batch. */
static void test_determinism_and_stop(void **state)
{
    (void)state;
    gsl_rng *rng = gpmc_rng_alloc();
    size_t n = 15, k = 3, nz;
    double w[15 * 3];
    double alpha = make_w(rng, n, k, 0, w, &nz);
    cells_out a = run_cells(w, n, k, alpha), b = run_cells(w, n, k, alpha);
    assert_true(a.eps == b.eps);
    assert_memory_equal(a.x, b.x, k * sizeof(double));
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, BATCH);
    gpmc_wdc_cells *c = gpmc_wdc_cells_alloc(n, k, BATCH);
    assert_non_null(ev);
    assert_non_null(c);
    gpmc_wdc_eval_set_w(ev, w, alpha);
    gpmc_stream st = {.stop_requested = stop_now};
    double eps, x[3];
    assert_int_equal(gpmc_wdc_cells_run(c, w, alpha, ev, &st, &eps, x), GPMC_ESTOPPED);
    assert_int_equal(gpmc_wdc_cells_evaluated(c), BATCH); /* the first batch, then the poll */
    gpmc_wdc_cells_free(c);
    gpmc_wdc_eval_free(ev);
    gpmc_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_k1_and_zero),
        cmocka_unit_test(test_k2_matches_exact2),
        cmocka_unit_test(test_k3_cells),
        cmocka_unit_test(test_k4_cells),
        cmocka_unit_test(test_determinism_and_stop),
    };
    return cmocka_run_group_tests_name("wdc_cells", tests, NULL, NULL);
}
