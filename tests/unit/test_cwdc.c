/* Tests of the convolutional WDC (include/gpmc/cwdc_eval.h, src/experiments/cwdc.c;
 * MATH.md, Conditions 5): the real matrix against a direct transposed convolution, the
 * q = s permutation to blockdiag(W~), the block identity (Sup.8) at given pairs, the
 * exact expectation against Monte Carlo means (q = s and q > s, with a zero window), and
 * the experiment's eps_hat against a dense search with 100x its budget. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "gpmc/cwdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_eval.h"
#include "testutil.h"
#include "testutil_exp.h"

extern const gpmc_experiment gpmc_exp_cwdc;

static gsl_rng *rng_at(uint64_t seed)
{
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(r);
    gpmc_rng_seek(r, seed, 0, 0, 0);
    return r;
}

/* (W x)[c][t] = sum_{c', j, 0 <= t - s j < q} K[c][c'][t - s j] x[c'][j], by loops over
 * the output. Rejects the flipped kernel K[..][q - 1 - (t - s j)] (also a "transposed
 * convolution" in some conventions, but not the matrix the filters define here) and an
 * output length s d0 (the last q - s positions dropped). */
static void test_build_is_transposed_conv(void **state)
{
    (void)state;
    gpmc_cwdc_shape sh = {2, 3, 4, 2, 3};
    size_t L = gpmc_cwdc_len(&sh), N = gpmc_cwdc_rows(&sh), k = gpmc_cwdc_cols(&sh);
    assert_int_equal(L, 2 * 3 + 3);
    size_t nf = sh.c1 * sh.c0 * sh.q;
    double f[18], x[8], w[27 * 8], out[27], flip_diff = 0;
    gsl_rng *r = rng_at(11);
    gpmc_rng_gaussian(r, 1, f, nf);
    gpmc_rng_gaussian(r, 1, x, k);
    gpmc_cwdc_build(&sh, f, w);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)k, 1.0, w, (int)k, x, 1, 0.0, out, 1);
    for (size_t c = 0; c < sh.c1; c++)
        for (size_t t = 0; t < L; t++) {
            double ref = 0, flip = 0;
            for (size_t cp = 0; cp < sh.c0; cp++)
                for (size_t j = 0; j < sh.d0; j++)
                    if (t >= sh.s * j && t - sh.s * j < sh.q) {
                        size_t u = t - sh.s * j;
                        ref += f[(c * sh.c0 + cp) * sh.q + u] * x[cp * sh.d0 + j];
                        flip += f[(c * sh.c0 + cp) * sh.q + sh.q - 1 - u] * x[cp * sh.d0 + j];
                    }
            assert_close(out[c * L + t], ref, 1e-13 * (1 + fabs(ref)));
            flip_diff = fmax(flip_diff, fabs(flip - ref));
        }
    assert_true(flip_diff > 1e-3); /* the flipped kernel is told apart */
    gpmc_rng_free(r);
}

/* q = s: rows (c, t = s j + u) -> j c1 s + c s + u, columns (c', j) -> j c0 + c' turn W
 * into blockdiag(W~, ..., W~) exactly (every off-block entry 0, every block W~). Rejects
 * a W~ with rows u c1 + c (the blocks would be W~ with permuted rows: not equal). */
static void test_block_permutation(void **state)
{
    (void)state;
    gpmc_cwdc_shape sh = {3, 2, 4, 3, 3};
    size_t L = gpmc_cwdc_len(&sh), N = gpmc_cwdc_rows(&sh), k = gpmc_cwdc_cols(&sh);
    size_t nb = sh.c1 * sh.s; /* rows of W~ */
    double f[18], w[24 * 12], wt[6 * 3];
    gsl_rng *r = rng_at(12);
    gpmc_rng_gaussian(r, 1, f, sh.c1 * sh.c0 * sh.q);
    gpmc_cwdc_build(&sh, f, w);
    gpmc_cwdc_block(&sh, f, wt);
    assert_int_equal(N, sh.d0 * nb);
    for (size_t c = 0; c < sh.c1; c++)
        for (size_t t = 0; t < L; t++)
            for (size_t cp = 0; cp < sh.c0; cp++)
                for (size_t j = 0; j < sh.d0; j++) {
                    size_t jr = t / sh.s, u = t % sh.s;
                    size_t pr = jr * nb + c * sh.s + u, pc = j * sh.c0 + cp;
                    double v = w[(c * L + t) * k + cp * sh.d0 + j];
                    double want = pr / nb == pc / sh.c0 ? wt[(pr % nb) * sh.c0 + pc % sh.c0] : 0;
                    assert_true(v == want);
                }
    gpmc_rng_free(r);
}

/* Sup.8 at given pairs: for q = s the full-matrix deviation with the block expectation
 * equals max_j of W~'s WDC deviation (gpmc_wdc_eval, alpha = 1) at (x_j, y_j); a block
 * with x_j = 0 counts 0. Floating point: both are eigenvalues of sums of <= c1 s terms of
 * size ~1, so 1e-12. Rejects the dense WDC expectation Q_{x,y} of the whole vector. */
static void test_block_identity(void **state)
{
    (void)state;
    gpmc_cwdc_shape sh = {3, 4, 5, 2, 2};
    size_t k = gpmc_cwdc_cols(&sh), n = sh.c1 * sh.s, c0 = sh.c0, d0 = sh.d0;
    enum { NP = 6 };
    double f[4 * 3 * 2], wt[8 * 3], x[NP * 15], y[NP * 15], dev[NP];
    double *w = malloc(gpmc_cwdc_rows(&sh) * k * sizeof(double));
    gsl_rng *r = rng_at(13);
    double sigma2 = 1.0 / (double)(sh.c1 * sh.q);
    gpmc_rng_gaussian(r, sqrt(sigma2), f, sh.c1 * sh.c0 * sh.q);
    gpmc_cwdc_build(&sh, f, w);
    gpmc_cwdc_block(&sh, f, wt);
    for (size_t p = 0; p < NP; p++) {
        gpmc_rng_unit_vector(r, x + p * k, k);
        gpmc_rng_unit_vector(r, y + p * k, k);
    }
    for (size_t c = 0; c < c0; c++) /* pair 1: block 2 of x zero; pair 2: y = x */
        x[1 * k + c * d0 + 2] = 0;
    memcpy(y + 2 * k, x + 2 * k, k * sizeof(double));
    gpmc_cwdc_eval *ev = gpmc_cwdc_eval_alloc(&sh, NP);
    gpmc_wdc_eval *tev = gpmc_wdc_eval_alloc(n, c0, 1);
    assert_non_null(ev);
    assert_non_null(tev);
    gpmc_cwdc_eval_set_w(ev, w, sigma2);
    gpmc_wdc_eval_set_w(tev, wt, 1.0);
    assert_int_equal(gpmc_cwdc_eval_pairs(ev, x, y, NP, dev), GPMC_OK);
    double *dq = malloc(k * k * sizeof(double)), *qd = malloc(k * k * sizeof(double));
    gpmc_symeig *eig = gpmc_symeig_alloc(k);
    double dense_gap = 0;
    for (size_t p = 0; p < NP; p++) {
        double best = 0;
        for (size_t j = 0; j < d0; j++) {
            double xb[3], yb[3], v;
            for (size_t c = 0; c < c0; c++)
                xb[c] = x[p * k + c * d0 + j], yb[c] = y[p * k + c * d0 + j];
            if (norm(xb, c0) == 0 || norm(yb, c0) == 0)
                continue;
            assert_int_equal(gpmc_wdc_eval_pairs(tev, xb, yb, 1, &v), GPMC_OK);
            best = fmax(best, v);
        }
        assert_close(dev[p], best, 1e-12);
        /* The wrong variant: G - Q_{x,y} (dense), G = D + E. */
        assert_int_equal(gpmc_cwdc_eval_matrix(ev, GPMC_SEARCH_FRESH, x + p * k, y + p * k, dq),
                         GPMC_OK);
        gpmc_cwdc_expectation(ev, x + p * k, y + p * k, qd);
        for (size_t i = 0; i < k * k; i++)
            dq[i] += qd[i];
        gpmc_theory_Q(x + p * k, y + p * k, k, 1.0, qd);
        for (size_t i = 0; i < k * k; i++)
            dq[i] -= qd[i];
        dense_gap = fmax(dense_gap, fabs(gpmc_symeig_norm(eig, dq) - best));
    }
    assert_true(dense_gap > 0.05);
    gpmc_symeig_free(eig);
    free(dq);
    free(qd);
    free(w);
    gpmc_cwdc_eval_free(ev);
    gpmc_wdc_eval_free(tev);
    gpmc_rng_free(r);
}

/* E[W_{+,x}^T W_{+,y}] against the mean of T draws, every entry within 5 standard errors
 * of the mean (sample std / sqrt T; 5 SE: two-sided 6e-7 per entry, < 1e-4 over the k^2
 * entries) plus 1e-12 for entries that are 0 in every draw. Returns the largest |z| of a
 * wrong expectation `alt` (NULL: none) so the caller can assert it is rejected. */
static double mc_check(const gpmc_cwdc_shape *sh, const double *x, const double *y, size_t T,
                       int alt_variant)
{
    size_t k = gpmc_cwdc_cols(sh), N = gpmc_cwdc_rows(sh), nf = sh->c1 * sh->c0 * sh->q;
    double sigma2 = 1.0 / (double)(sh->c1 * sh->q);
    double *f = malloc(nf * sizeof(double)), *w = malloc(N * k * sizeof(double));
    double *d = malloc(k * k * sizeof(double)), *e = malloc(k * k * sizeof(double));
    double *s1 = calloc(k * k, sizeof(double)), *s2 = calloc(k * k, sizeof(double));
    double *alt = malloc(k * k * sizeof(double));
    gpmc_cwdc_eval *ev = gpmc_cwdc_eval_alloc(sh, 1);
    assert_non_null(ev);
    gsl_rng *r = rng_at(14);
    for (size_t t = 0; t < T; t++) {
        gpmc_rng_gaussian(r, sqrt(sigma2), f, nf);
        gpmc_cwdc_build(sh, f, w);
        gpmc_cwdc_eval_set_w(ev, w, sigma2);
        assert_int_equal(gpmc_cwdc_eval_matrix(ev, GPMC_SEARCH_FRESH, x, y, d), GPMC_OK);
        gpmc_cwdc_expectation(ev, x, y, e);
        for (size_t i = 0; i < k * k; i++) {
            double g = d[i] + e[i]; /* the masked Gram itself */
            s1[i] += g, s2[i] += g * g;
        }
    }
    gpmc_cwdc_expectation(ev, x, y, e);
    /* Wrong variants: 1 the dense Q_{x,y} of the whole vector; 2 the block variance
     * 1/(c1 s) instead of 1/(c1 q). */
    if (alt_variant == 1)
        gpmc_theory_Q(x, y, k, 1.0, alt);
    else
        for (size_t i = 0; i < k * k; i++)
            alt[i] = e[i] * (double)sh->q / (double)sh->s;
    double zalt = 0;
    for (size_t i = 0; i < k * k; i++) {
        double m = s1[i] / (double)T, var = fmax(s2[i] / (double)T - m * m, 0);
        double se = sqrt(var / (double)(T - 1));
        assert_close(m, e[i], 5 * se + 1e-12);
        if (se > 0)
            zalt = fmax(zalt, fabs(m - alt[i]) / se);
    }
    gpmc_rng_free(r);
    gpmc_cwdc_eval_free(ev);
    free(f), free(w), free(d), free(e), free(s1), free(s2), free(alt);
    return zalt;
}

static void test_expectation_block(void **state)
{
    (void)state;
    gpmc_cwdc_shape sh = {2, 3, 3, 2, 2};
    double x[6], y[6];
    gsl_rng *r = rng_at(15);
    gpmc_rng_unit_vector(r, x, 6);
    gpmc_rng_unit_vector(r, y, 6);
    gpmc_rng_free(r);
    assert_true(mc_check(&sh, x, y, 20000, 1) > 10); /* the dense Q rejected */
}

/* q > s: overlapping windows, and x[:, 0] = 0 so the first window (J = {0}, rows t < s)
 * sees x_S = 0 and contributes 0 (not NaN). */
static void test_expectation_overlap(void **state)
{
    (void)state;
    gpmc_cwdc_shape sh = {2, 2, 3, 1, 3};
    double x[6], y[6];
    gsl_rng *r = rng_at(16);
    gpmc_rng_unit_vector(r, x, 6);
    gpmc_rng_unit_vector(r, y, 6);
    gpmc_rng_free(r);
    x[0] = x[3] = 0;
    assert_true(mc_check(&sh, x, y, 20000, 1) > 10); /* the dense Q rejected */
    assert_true(mc_check(&sh, x, y, 20000, 2) > 10); /* the variance 1/(c1 s) rejected */
}

/* A naive deviation, independent of the evaluator's windows and GEMMs: per row of W, its
 * mask and its own expectation sigma^2 P_S^T Q(x_S, y_S) P_S with S the row's nonzero
 * columns (filters a.s. nonzero). */
static double naive_dev(const gpmc_cwdc_shape *sh, const double *w, double sigma2,
                        const double *x, const double *y, double *g, double *q, gpmc_symeig *eig)
{
    size_t k = gpmc_cwdc_cols(sh), N = gpmc_cwdc_rows(sh);
    size_t idx[64];
    double xs[64], ys[64];
    memset(g, 0, k * k * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        const double *wi = w + i * k;
        if (dot(wi, x, k) > 0 && dot(wi, y, k) > 0)
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < k; b++)
                    g[a * k + b] += wi[a] * wi[b];
        size_t m = 0;
        for (size_t a = 0; a < k; a++)
            if (wi[a] != 0)
                idx[m] = a, xs[m] = x[a], ys[m] = y[a], m++;
        if (m == 0 || norm(xs, m) == 0 || norm(ys, m) == 0)
            continue;
        gpmc_theory_Q(xs, ys, m, sigma2, q);
        for (size_t a = 0; a < m; a++)
            for (size_t b = 0; b < m; b++)
                g[idx[a] * k + idx[b]] -= q[a * m + b];
    }
    return gpmc_symeig_norm(eig, g);
}

/* The experiment on a tiny instance (k = c0 d0 = 2 or 3) against the best of 100x its
 * budget of uniform random pairs, both by the naive deviation: eps_hat >= 0.95 of it.
 * Also: the witnesses reproduce eps_hat (certified), and for q = s eps_hat_lift equals
 * eps_hat_tilde (the lift is exact). */
static void dense_case(size_t c0, size_t c1, size_t d0, size_t s, size_t q)
{
    const gpmc_experiment *E = &gpmc_exp_cwdc;
    gpmc_value v[EXP_MAXP];
    exp_defaults(E, v);
    v[exp_param(E, "c0")].num = (double)c0;
    v[exp_param(E, "c1")].num = (double)c1;
    v[exp_param(E, "d0")].num = (double)d0;
    v[exp_param(E, "stride")].num = (double)s;
    v[exp_param(E, "kernel")].num = (double)q;
    v[exp_param(E, "store_matrices")].num = 1;
    exp_run r;
    exp_open(&r, E, v, 0xc0de);
    exp_trial(&r, 7, 0);
    gpmc_cwdc_shape sh = {c0, c1, d0, s, q};
    size_t k = gpmc_cwdc_cols(&sh), N = gpmc_cwdc_rows(&sh);
    double sigma2 = 1.0 / (double)(c1 * q);
    double *w = malloc(N * k * sizeof(double)), *g = malloc(k * k * sizeof(double));
    double *qq = malloc(64 * 64 * sizeof(double)), x[64], y[64];
    gpmc_symeig *eig = gpmc_symeig_alloc(k);
    gpmc_cwdc_build(&sh, exp_arr(&r, "filters"), w);
    double eps = exp_get(&r, "eps_hat");
    assert_close(naive_dev(&sh, w, sigma2, exp_arr(&r, "witness_x"), exp_arr(&r, "witness_y"),
                           g, qq, eig), eps, 1e-12);
    if (s == q)
        assert_close(exp_get(&r, "eps_hat_lift"), exp_get(&r, "eps_hat_tilde"), 1e-12);
    size_t budget = 100 * (size_t)exp_get(&r, "pairs_evaluated");
    gsl_rng *rg = rng_at(17);
    double dense = 0;
    for (size_t i = 0; i < budget; i++) {
        gpmc_rng_unit_vector(rg, x, k);
        gpmc_rng_unit_vector(rg, y, k);
        dense = fmax(dense, naive_dev(&sh, w, sigma2, x, y, g, qq, eig));
    }
    print_message("cwdc (c0 %zu, c1 %zu, d0 %zu, s %zu, q %zu): eps_hat %.4f, dense %.4f (%zu pairs), "
                  "ratio %.3f\n", c0, c1, d0, s, q, eps, dense, budget, eps / dense);
    if (!(eps >= 0.95 * dense))
        fail_msg("eps_hat %.6g < 0.95 x dense %.6g", eps, dense);
    gpmc_rng_free(rg);
    gpmc_symeig_free(eig);
    free(w), free(g), free(qq);
    exp_close(&r);
}

static void test_dense_search(void **state)
{
    (void)state;
    dense_case(1, 3, 2, 1, 2); /* q > s, k = 2 */
    dense_case(1, 2, 3, 2, 2); /* q = s, k = 3 */
    dense_case(2, 3, 2, 1, 2); /* q > s, k = 4 */
}

static void test_check(void **state)
{
    (void)state;
    const gpmc_experiment *E = &gpmc_exp_cwdc;
    gpmc_value v[EXP_MAXP];
    exp_defaults(E, v);
    v[exp_param(E, "kernel")].num = 1; /* < stride 2 */
    gpmc_point pt = {.exp = E, .values = v};
    char msg[256];
    assert_int_not_equal(E->check(&pt, msg, sizeof msg), 0);
    v[exp_param(E, "kernel")].num = 2;
    assert_int_equal(E->check(&pt, msg, sizeof msg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_is_transposed_conv),
        cmocka_unit_test(test_block_permutation),
        cmocka_unit_test(test_block_identity),
        cmocka_unit_test(test_expectation_block),
        cmocka_unit_test(test_expectation_overlap),
        cmocka_unit_test(test_dense_search),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests_name("cwdc", tests, NULL, NULL);
}
