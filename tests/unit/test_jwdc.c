/* The `jwdc` experiment and its evaluator (MATH.md, Conditions 4; Hand-Joshi eqs. 6-7),
 * checked against computations written here independently of src/numerics/jwdc_eval.c:
 *
 *  - the batched evaluator against plain loops (MATH.md's e1/e2 Q from wdc_ref.h, m^T Q y
 *    as a bilinear form, LAPACK's dsyev), at several shapes, across a chunk boundary of
 *    the rows, for unnormalised blocks, and at y = -m (both values 0);
 *  - the aim matrix blockdiag(D6, D7): its norm is the objective;
 *  - Monte Carlo means of the random matrices: E B+h^T B+x = alpha_1 Q_hx and
 *    E B+h^T diag(C+m m . C+y y) B+x = (alpha/ell)(m^T Q_my y) Q_hx (and eq. 7's mirror),
 *    tolerances from the sample variances;
 *  - alpha = P(chi2_{n+2} <= 9n) where it differs from 1 (n = 1), through the sampler, the
 *    joint mean and the experiment's alpha_mc;
 *  - the experiment: eps_hat, eps_6, eps_7 recomputed at their stored witnesses from the
 *    stored B, C (certified: attained values), eps_hat = max(eps_6, eps_7) exactly,
 *    reproducibility, budgets keep B and C, eps_hat falls with ell;
 *  - search quality: on tiny instances eps_hat >= 95% of an independent dense search with
 *    100x the budget. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/jwdc_eval.h"
#include "gpmc/rng.h"
#include "gpmc/stats.h"
#include "gpmc/theory.h"
#include "testutil.h"
#include "testutil_exp.h"
#include "wdc_ref.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const gpmc_experiment gpmc_exp_jwdc;
static const gpmc_experiment *const E = &gpmc_exp_jwdc;

/* ---- independent reference (plain loops) ------------------------------------------- */

static double sym_norm(double *d, size_t k)
{
    double ev[64];
    assert_true(k <= 64);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)k, d, (lapack_int)k, ev), 0);
    return fmax(fabs(ev[0]), fabs(ev[k - 1]));
}

static void unit(const double *a, size_t k, double *out)
{
    double s = norm(a, k);
    for (size_t i = 0; i < k; i++)
        out[i] = a[i] / s;
}

/* a^T Q_{a,b} b for unit a, b, by forming Q (wdc_ref.h) and the bilinear form. */
static double bilinear_q(const double *a, const double *b, size_t k)
{
    double *q = malloc(k * k * sizeof *q), s = 0;
    ref_Q(a, b, k, 1.0, q);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            s += a[i] * q[i * k + j] * b[j];
    free(q);
    return s;
}

/* One side of eq. 6 (or 7 with the roles swapped): the deviation matrix's norm for
 * outer rows a (ell x k) gated by unit s, t and weights from rows w (ell x j) at unit
 * c, d. wrong = 1: the centring (alpha/(2 ell)) c^T d instead of (alpha/ell) c^T Q_cd d
 * (the "Q ~ I/2" slip). *margin: the smallest |a_i.s|, |a_i.t|, |w_i.c|, |w_i.d|. */
static double ref_side(const double *a, size_t k, const double *w, size_t j, size_t ell,
                       double alpha, const double *s, const double *t, const double *c,
                       const double *d, int wrong, double *margin)
{
    double *dm = calloc(k * k, sizeof *dm), *q = malloc(k * k * sizeof *q);
    for (size_t i = 0; i < ell; i++) {
        const double *ai = a + i * k, *wi = w + i * j;
        double zs = dot(ai, s, k), zt = dot(ai, t, k), zc = dot(wi, c, j), zd = dot(wi, d, j);
        if (dot(ai, ai, k) > 0)
            *margin = fmin(*margin, fmin(fabs(zs), fabs(zt)));
        if (dot(wi, wi, j) > 0)
            *margin = fmin(*margin, fmin(fabs(zc), fabs(zd)));
        if (zs > 0 && zt > 0 && zc > 0 && zd > 0)
            for (size_t r = 0; r < k; r++)
                for (size_t e = 0; e < k; e++)
                    dm[r * k + e] += (double)ell * zc * zd * ai[r] * ai[e];
    }
    double kap = wrong ? 0.5 * dot(c, d, j) : bilinear_q(c, d, j);
    ref_Q(s, t, k, alpha * kap, q);
    for (size_t i = 0; i < k * k; i++)
        dm[i] -= q[i];
    double r = sym_norm(dm, k);
    free(dm), free(q);
    return r;
}

/* eps6, eps7 of the tuple (h, x, m, y) (any nonzero lengths). */
static void ref_jwdc(const double *b, const double *c, size_t ell, size_t n, size_t p,
                     double alpha, const double *h, const double *x, const double *m,
                     const double *y, int wrong, double *e6, double *e7, double *margin)
{
    double hh[64], xx[64], mm[64], yy[64], mg = INFINITY;
    assert_true(n <= 64 && p <= 64);
    unit(h, n, hh), unit(x, n, xx), unit(m, p, mm), unit(y, p, yy);
    *e6 = ref_side(b, n, c, p, ell, alpha, hh, xx, mm, yy, wrong, &mg);
    *e7 = ref_side(c, p, b, n, ell, alpha, mm, yy, hh, xx, wrong, &mg);
    if (margin)
        *margin = mg;
}

/* Truncated rows as the experiment draws them (the sampler under test in the means). */
static void trunc_rows(gsl_rng *r, size_t ell, size_t dim, double *a)
{
    gpmc_rng_truncated_rows(r, 1 / sqrt((double)ell), 3 * sqrt((double)dim / (double)ell), ell,
                            dim, a);
}

/* ---- driving the experiment -------------------------------------------------------- */

typedef struct {
    long ell, n, p, tuples, search, angles, batch;
    int gaussian, store;
} config;

static config cfg(long ell, long n, long p)
{
    config c = {.ell = ell, .n = n, .p = p, .tuples = 500, .search = 8000, .angles = 64,
                .batch = 128}; /* the table's defaults */
    return c;
}

static size_t param(const char *name) { return exp_param(E, name); }
static size_t field(const char *name) { return exp_field(E, name); }

static void make_values(const config *c, gpmc_value *v)
{
    memset(v, 0, E->nparams * sizeof *v);
    v[param("ell")].num = (double)c->ell;
    v[param("n")].num = (double)c->n;
    v[param("p")].num = (double)c->p;
    v[param("ensemble")].num = c->gaussian;
    v[param("tuples")].num = (double)c->tuples;
    v[param("search")].num = (double)c->search;
    v[param("angles")].num = (double)c->angles;
    v[param("batch")].num = (double)c->batch;
    v[param("store_matrices")].num = c->store;
    gpmc_value *eps = &v[param("eps")];
    eps->len = 2;
    eps->list[0] = 0.5, eps->list[1] = 1;
}

typedef exp_run run;

static void run_open(run *r, const config *c)
{
    gpmc_value v[EXP_MAXP];
    make_values(c, v);
    exp_open(r, E, v, 0x10e7);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    static const char *names[] = {"ell", "n", "p"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(E->params[i].name, names[i]);
    static const char *budgets[] = {"tuples", "search", "angles", "eps", "store_matrices", "batch"};
    for (size_t i = 0; i < 6; i++)
        assert_true(E->params[param(budgets[i])].flags & GPMC_PARAM_NOHASH);
    assert_false(E->params[param("ell")].flags & GPMC_PARAM_NOHASH);
    assert_false(E->params[param("ensemble")].flags & GPMC_PARAM_NOHASH);
    assert_string_equal(E->fields[field("eps_hat")].threshold, "eps");
    (void)field("eps_6"), (void)field("eps_7"), (void)field("alpha"), (void)field("alpha_mc");
    for (size_t f = 0; f < E->nfields; f++)
        assert_true(E->fields[f].doc && E->fields[f].units);
    for (size_t q = 0; q < E->nparams; q++)
        assert_non_null(E->params[q].doc);
    assert_ptr_equal(gpmc_experiment_find("jwdc"), E);
}

/* The evaluator against ref_jwdc. Shapes include n = p = 1, n != p and ell = 700 (two
 * chunks of rows); blocks are given unnormalised (scaled by 3 and 0.2: the values are
 * scale invariant); tuple 0 has x = h, y = m, tuple 1 y = -m (no C row is active on
 * both m and -m, and Q_{m,-m} = 0: both values 0). The wrong centring of ref_jwdc is
 * told apart on most tuples (it is the right one only where m^T y = 2 m^T Q y). */
static void test_evaluator(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {{1, 1, 1}, {9, 2, 3}, {40, 5, 4}, {700, 3, 6}, {30, 8, 1}};
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t ell = shapes[s][0], n = shapes[s][1], p = shapes[s][2], K = n + p, NB = 11;
        double *b = malloc(ell * n * sizeof *b), *c = malloc(ell * p * sizeof *c);
        double *u = malloc(NB * K * sizeof *u), *v = malloc(NB * K * sizeof *v);
        double e6[11], e7[11], alpha = 0.8;
        trunc_rows(r, ell, n, b);
        trunc_rows(r, ell, p, c);
        gpmc_jwdc_eval *ev = gpmc_jwdc_eval_alloc(ell, n, p, NB);
        assert_non_null(ev);
        gpmc_jwdc_eval_set(ev, b, c, alpha);
        for (size_t i = 0; i < NB * K; i++) {
            u[i] = 3 * gsl_ran_gaussian(r, 1.0);
            v[i] = 0.2 * gsl_ran_gaussian(r, 1.0);
        }
        memcpy(v, u, K * sizeof *v);
        for (size_t i = n; i < K; i++)
            v[K + i] = -u[K + i];
        assert_int_equal(gpmc_jwdc_eval_tuples(ev, u, v, NB, e6, e7), GPMC_OK);
        double sc = 0, told = 0;
        for (size_t i = 0; i < ell; i++)
            sc = fmax(sc, fmax(dot(b + i * n, b + i * n, n), dot(c + i * p, c + i * p, p)));
        double tol = 1e-13 * (1 + (double)ell * sc * sc * (double)ell) + 1e-14;
        for (size_t t = 0; t < NB; t++) {
            const double *ut = u + t * K, *vt = v + t * K;
            double r6, r7, w6, w7;
            ref_jwdc(b, c, ell, n, p, alpha, ut, vt, ut + n, vt + n, 0, &r6, &r7, NULL);
            ref_jwdc(b, c, ell, n, p, alpha, ut, vt, ut + n, vt + n, 1, &w6, &w7, NULL);
            assert_close(e6[t], r6, tol);
            assert_close(e7[t], r7, tol);
            told += fabs(w6 - r6) > 100 * tol || fabs(w7 - r7) > 100 * tol;
        }
        assert_true(e6[1] < 1e-14 && e7[1] < 1e-14);
        if (n + p > 2) /* at n = p = 1 the angles are 0 or pi, where the two agree */
            assert_true(told >= NB - 2);
        /* The best tuples are the largest values, at their tuples. */
        const double *bu, *bv;
        double best6 = gpmc_jwdc_eval_best(ev, 6, &bu, &bv), m6 = 0;
        for (size_t t = 0; t < NB; t++)
            m6 = fmax(m6, e6[t]);
        assert_true(best6 == m6);
        double chk[11];
        assert_int_equal(gpmc_jwdc_eval_tuples(ev, bu, bv, 1, chk, NULL), GPMC_OK);
        assert_close(chk[0], m6, tol);
        /* The aim matrix: blockdiag(D6, D7), symmetric, norm = max(eps6, eps7). */
        double *d = malloc(K * K * sizeof *d);
        assert_int_equal(gpmc_jwdc_eval_matrix(ev, u + 2 * K, v + 2 * K, d), GPMC_OK);
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++) {
                assert_true(d[i * K + j] == d[j * K + i]);
                if ((i < n) != (j < n))
                    assert_true(d[i * K + j] == 0);
            }
        assert_close(sym_norm(d, K), fmax(e6[2], e7[2]), tol);
        free(d);
        gpmc_jwdc_eval_free(ev);
        free(b), free(c), free(u), free(v);
    }
    gpmc_rng_free(r);
}

/* Entry-wise mean and standard error over R samples of a k x k matrix, then |mean -
 * want| <= Z SE for every entry; returns the largest |mean - alt| / SE over entries (how
 * far the alternative is rejected). Z = 4.5: with <= 40 entries a correct implementation
 * fails with probability < 40 x 7e-6 (normal means; R >= 2e4). */
#define Z 4.5
static double check_mean(const double *sum, const double *sum2, size_t R, size_t k,
                         const double *want, const double *alt)
{
    double worst_alt = 0;
    for (size_t i = 0; i < k * k; i++) {
        double mu = sum[i] / (double)R, var = (sum2[i] / (double)R - mu * mu) * R / (R - 1.0);
        double se = sqrt(fmax(var, 0) / (double)R) + 1e-300;
        if (!(fabs(mu - want[i]) <= Z * se + 1e-15))
            fail_msg("entry %zu: mean %.6g, want %.6g, SE %.3g (%.1f SE)", i, mu, want[i], se,
                     fabs(mu - want[i]) / se);
        worst_alt = fmax(worst_alt, fabs(mu - alt[i]) / se);
    }
    return worst_alt;
}

/* (a) E[B+h^T B+x] = alpha_1 Q_hx, E[B+h^T diag(C+m m . C+y y) B+x] = (alpha/ell)(m^T Q_my y)
 * Q_hx and E[C+m^T diag(B+h h . B+x x) C+y] = (alpha/ell)(h^T Q_hx x) Q_my, over R draws of
 * truncated B, C at ell = 6, n = 2, p = 3 and angles 1.2 (h, x), 2.1 (m, y). The wrong
 * variant (alpha/(2 ell)) m^T y (the Q ~ I/2 slip; here m^T y = -0.505 against
 * 2 m^T Q y = +0.103) must be rejected by more than Z SE in some entry. */
static void test_means(void **state)
{
    (void)state;
    enum { ELL = 6, N = 2, P = 3, R = 100000 };
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 77, 1, 0, 0);
    double h[N] = {1, 0}, x[N] = {cos(1.2), sin(1.2)};
    double m[P] = {0, 1, 0}, y[P] = {0, cos(2.1), sin(2.1)};
    double b[ELL * N], c[ELL * P];
    double s1[N * N] = {0}, q1[N * N] = {0}, s6[N * N] = {0}, q6[N * N] = {0};
    double s7[P * P] = {0}, q7[P * P] = {0};
    for (size_t t = 0; t < R; t++) {
        trunc_rows(r, ELL, N, b);
        trunc_rows(r, ELL, P, c);
        double g1[N * N] = {0}, g6[N * N] = {0}, g7[P * P] = {0};
        for (size_t i = 0; i < ELL; i++) {
            const double *bi = b + i * N, *ci = c + i * P;
            double zh = dot(bi, h, N), zx = dot(bi, x, N), zm = dot(ci, m, P), zy = dot(ci, y, P);
            int gb = zh > 0 && zx > 0, gc = zm > 0 && zy > 0;
            for (size_t a = 0; a < N; a++)
                for (size_t e = 0; e < N; e++) {
                    g1[a * N + e] += gb ? bi[a] * bi[e] : 0;
                    g6[a * N + e] += gb && gc ? zm * zy * bi[a] * bi[e] : 0;
                }
            for (size_t a = 0; a < P; a++)
                for (size_t e = 0; e < P; e++)
                    g7[a * P + e] += gb && gc ? zh * zx * ci[a] * ci[e] : 0;
        }
        for (size_t i = 0; i < N * N; i++) {
            s1[i] += g1[i], q1[i] += g1[i] * g1[i];
            s6[i] += g6[i], q6[i] += g6[i] * g6[i];
        }
        for (size_t i = 0; i < P * P; i++)
            s7[i] += g7[i], q7[i] += g7[i] * g7[i];
    }
    double a1 = gpmc_theory_alpha_truncated(N), a2 = gpmc_theory_alpha_truncated(P), al = a1 * a2;
    double qhx[N * N], qmy[P * P], w1[N * N], w6[N * N], w7[P * P], v6[N * N], v7[P * P];
    double kmy = bilinear_q(m, y, P), khx = bilinear_q(h, x, N);
    ref_Q(h, x, N, 1.0, qhx);
    ref_Q(m, y, P, 1.0, qmy);
    for (size_t i = 0; i < N * N; i++) {
        w1[i] = a1 * qhx[i];
        w6[i] = al / ELL * kmy * qhx[i];
        v6[i] = al / (2.0 * ELL) * dot(m, y, P) * qhx[i];
    }
    for (size_t i = 0; i < P * P; i++) {
        w7[i] = al / ELL * khx * qmy[i];
        v7[i] = al / (2.0 * ELL) * dot(h, x, N) * qmy[i];
    }
    /* The WDC mean; its variant: Q_hx without alpha_1 (= 0.99877: not resolvable at n = 2,
     * so no rejection asserted here: test_alpha_small_n does it at n = 1). */
    check_mean(s1, q1, R, N, w1, w1);
    double rej6 = check_mean(s6, q6, R, N, w6, v6), rej7 = check_mean(s7, q7, R, P, w7, v7);
    print_message("means: wrong centring rejected by %.0f SE (eq. 6), %.0f SE (eq. 7)\n", rej6,
                  rej7);
    assert_true(rej6 > Z && rej7 > Z);
    gpmc_rng_free(r);
}

/* (b) alpha where it differs from 1: n = 1, alpha_1 = P(chi2_3 <= 9) = 0.97071.
 *  - the sampler's rows: E[ell |w|^2] / n = alpha (the trace identity), from 10^6 rows;
 *  - the joint mean at n = p = 1, h = x = m = y = 1: E[ell sum_i relu(b_i)^2 relu(c_i)^2] =
 *    alpha / 4 with alpha = alpha_1^2 = 0.9423;
 *  - the experiment: alpha is that closed form, and the mean of alpha_mc over 400 trials
 *    matches it.
 * Rejected in each: alpha = 1 (no truncation factor); in the first also P(chi2_n <= 9n)
 * (= 0.99730, the wrong degrees of freedom). */
static void test_alpha_small_n(void **state)
{
    (void)state;
    double a = gpmc_theory_alpha_truncated(1), wrong_dof = 0.99730020393673979;
    assert_close(a, 0.97070911346511, 1e-12);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 5, 2, 0, 0);
    enum { ELL = 10, ROWS = 1000000 };
    double w[ELL], s = 0, s2 = 0;
    for (size_t t = 0; t < ROWS / ELL; t++) {
        trunc_rows(r, ELL, 1, w);
        for (size_t i = 0; i < ELL; i++) {
            double z = ELL * w[i] * w[i];
            s += z, s2 += z * z;
        }
    }
    double mu = s / ROWS, se = sqrt((s2 / ROWS - mu * mu) / ROWS);
    print_message("alpha(1) = %.5f, trace estimate %.5f +- %.5f\n", a, mu, se);
    assert_true(fabs(mu - a) <= Z * se);
    assert_true(fabs(mu - 1) > Z * se && fabs(mu - wrong_dof) > Z * se);

    /* the joint mean */
    double b[ELL], c[ELL];
    s = s2 = 0;
    enum { RJ = 200000 };
    for (size_t t = 0; t < RJ; t++) {
        trunc_rows(r, ELL, 1, b);
        trunc_rows(r, ELL, 1, c);
        double g = 0;
        for (size_t i = 0; i < ELL; i++)
            if (b[i] > 0 && c[i] > 0)
                g += ELL * b[i] * b[i] * c[i] * c[i];
        s += g, s2 += g * g;
    }
    mu = s / RJ, se = sqrt((s2 / RJ - mu * mu) / RJ);
    print_message("joint mean %.5f +- %.5f, alpha/4 = %.5f (alpha = 1: 0.25)\n", mu, se, a * a / 4);
    assert_true(fabs(mu - a * a / 4) <= Z * se && fabs(mu - 0.25) > Z * se);

    /* the experiment's alpha and alpha_mc */
    config cf = cfg(400, 1, 1);
    cf.tuples = 1, cf.search = 0, cf.angles = 0;
    run er;
    run_open(&er, &cf);
    enum { T = 400 };
    s = s2 = 0;
    for (uint64_t t = 0; t < T; t++) {
        exp_trial(&er, 9, t);
        assert_true(exp_get(&er, "alpha") == a * a);
        double am = exp_get(&er, "alpha_mc");
        s += am, s2 += am * am;
    }
    mu = s / T, se = sqrt((s2 / T - mu * mu) / (T - 1));
    print_message("alpha_mc over %d trials %.5f +- %.5f, alpha %.5f\n", T, mu, se, a * a);
    assert_true(fabs(mu - a * a) <= Z * se && fabs(mu - 1) > Z * se);
    exp_close(&er);
    cf.gaussian = 1; /* Gaussian rows: alpha = 1 exactly */
    run_open(&er, &cf);
    exp_trial(&er, 9, 0);
    assert_true(exp_get(&er, "alpha") == 1);
    exp_close(&er);
    gpmc_rng_free(r);
}

/* (c) the stored witnesses and matrices reproduce eps_hat, eps_6, eps_7 (plain loops), the
 * witness rows are unit, eps_hat = max(eps_6, eps_7) exactly, and the parts are ordered. */
static void check_record(run *r, const config *c)
{
    size_t ell = (size_t)c->ell, n = (size_t)c->n, p = (size_t)c->p;
    const double *b = exp_arr(r, "B"), *cm = exp_arr(r, "C");
    double alpha = exp_get(r, "alpha"), sc = 0;
    for (size_t i = 0; i < ell; i++)
        sc = fmax(sc, fmax(dot(b + i * n, b + i * n, n), dot(cm + i * p, cm + i * p, p)));
    double tol = 1e-13 * (1 + (double)ell * (double)ell * sc * sc) + 1e-14;
    static const char *pre[3] = {"witness", "witness6", "witness7"}, *vec = "hxmy";
    double vals[3];
    for (int w = 0; w < 3; w++) {
        const double *wv[4];
        char name[32];
        for (int j = 0; j < 4; j++) {
            snprintf(name, sizeof name, "%s_%c", pre[w], vec[j]);
            wv[j] = exp_arr(r, name);
            assert_close(norm(wv[j], j < 2 ? n : p), 1, 1e-14);
        }
        double e6, e7, margin;
        ref_jwdc(b, cm, ell, n, p, alpha, wv[0], wv[1], wv[2], wv[3], 0, &e6, &e7, &margin);
        assert_true(margin > 1e-12); /* no mask within rounding of flipping */
        vals[w] = w == 0 ? fmax(e6, e7) : w == 1 ? e6 : e7;
    }
    assert_close(exp_get(r, "eps_hat"), vals[0], tol);
    assert_close(exp_get(r, "eps_6"), vals[1], tol);
    assert_close(exp_get(r, "eps_7"), vals[2], tol);
    assert_true(exp_get(r, "eps_hat") == fmax(exp_get(r, "eps_6"), exp_get(r, "eps_7")));
    assert_true(exp_get(r, "eps_hat") >= exp_get(r, "eps_hat_random"));
    assert_true(exp_get(r, "eps_hat_random") >= exp_get(r, "dev_q99"));
    assert_true(exp_get(r, "dev_q99") >= exp_get(r, "dev_q90"));
    assert_true(exp_get(r, "dev_q90") >= exp_get(r, "dev_q50"));
    assert_true(exp_get(r, "tuples_evaluated") == (double)(c->tuples + c->angles + c->search));
    assert_close(exp_get(r, "theta_hx"),
                 gpmc_angle(exp_arr(r, "witness_h"), exp_arr(r, "witness_x"), n), 1e-15);
    assert_close(exp_get(r, "theta_my"),
                 gpmc_angle(exp_arr(r, "witness_m"), exp_arr(r, "witness_y"), p), 1e-15);
}

static void test_witness_recompute(void **state)
{
    (void)state;
    static const long shapes[][3] = {{30, 3, 3}, {200, 2, 5}, {600, 6, 2}, {5, 1, 4}};
    for (size_t s = 0; s < 4; s++)
        for (int gauss = 0; gauss <= 1; gauss++) {
            config c = cfg(shapes[s][0], shapes[s][1], shapes[s][2]);
            c.store = 1, c.gaussian = gauss, c.tuples = 300, c.search = 600;
            run r;
            run_open(&r, &c);
            exp_trial(&r, 4, s);
            check_record(&r, &c);
            if (!gauss) { /* truncated rows: zero or within the radius */
                const double *b = exp_arr(&r, "B");
                double rad = 3 * sqrt((double)c.n / (double)c.ell), nb;
                for (long i = 0; i < c.ell; i++)
                    assert_true((nb = norm(b + i * c.n, (size_t)c.n)) == 0 || nb <= rad);
            }
            exp_close(&r);
        }
}

/* (d) bitwise reproducibility; the unhashed budgets keep B and C. */
static void test_reproducible(void **state)
{
    (void)state;
    config c = cfg(50, 3, 4);
    c.store = 1, c.tuples = 200, c.search = 300, c.angles = 20, c.batch = 16;
    run r;
    run_open(&r, &c);
    size_t total = r.lay.total;
    double *first = malloc(total * sizeof *first);
    exp_trial(&r, 3, 4);
    memcpy(first, r.rec.data, total * sizeof *first);
    exp_trial(&r, 3, 5);
    assert_true(memcmp(first, r.rec.data, total * sizeof *first) != 0);
    exp_trial(&r, 3, 4);
    assert_memory_equal(first, r.rec.data, total * sizeof *first);
    size_t off_b = r.lay.offset[field("B")], off_c = r.lay.offset[field("C")];
    exp_close(&r);
    config c2 = c;
    c2.tuples = 17, c2.search = 5, c2.angles = 0, c2.batch = 3;
    run r2;
    run_open(&r2, &c2);
    exp_trial(&r2, 3, 4);
    assert_memory_equal(first + off_b, exp_arr(&r2, "B"), 50 * 3 * sizeof(double));
    assert_memory_equal(first + off_c, exp_arr(&r2, "C"), 50 * 4 * sizeof(double));
    assert_true(exp_get(&r2, "tuples_evaluated") == 17 + 5);
    exp_close(&r2);
    free(first);
}

/* (e) the deviation concentrates: mean eps_hat at ell = 20 above ell = 400 (n = p = 3) by
 * more than 3 standard errors of the difference (as test_wdc's concentration test). */
static void test_concentration(void **state)
{
    (void)state;
    static const long ells[] = {20, 400};
    enum { T = 8 };
    double mean[2] = {0}, var[2] = {0}, e[2][T];
    for (size_t i = 0; i < 2; i++) {
        config c = cfg(ells[i], 3, 3);
        c.tuples = 300, c.search = 600;
        run r;
        run_open(&r, &c);
        for (int t = 0; t < T; t++) {
            exp_trial(&r, 12, (uint64_t)t);
            e[i][t] = exp_get(&r, "eps_hat");
            mean[i] += e[i][t] / T;
        }
        for (int t = 0; t < T; t++)
            var[i] += (e[i][t] - mean[i]) * (e[i][t] - mean[i]) / (T - 1);
        exp_close(&r);
    }
    double se = sqrt(var[0] / T + var[1] / T), diff = mean[0] - mean[1];
    print_message("mean eps_hat ell=20 %.4f, ell=400 %.4f: difference %.1f SE\n", mean[0],
                  mean[1], diff / se);
    assert_true(diff > 3 * se);
}

/* An independent dense search: `budget` evaluations through the (separately tested)
 * evaluator, half uniform random tuples, half (1+1) evolution strategies from the 16
 * best, isotropic Gaussian steps on all four vectors with step adaptation (x1.5 on
 * success, x0.7 otherwise, restart at 0.3 below 1e-7). Nothing of search.c. */
static double dense_search(gpmc_jwdc_eval *ev, gsl_rng *r, size_t K, size_t budget)
{
    enum { BT = 64, S = 16 };
    double *u = malloc(BT * K * sizeof *u), *v = malloc(BT * K * sizeof *v);
    double *pu = malloc(S * K * sizeof *pu), *pv = malloc(S * K * sizeof *pv);
    double e6[BT], e7[BT], pval[S], sig[S], best = 0;
    for (size_t q = 0; q < S; q++)
        pval[q] = -1, sig[q] = 0.3;
    size_t used = 0;
    while (used < budget / 2) {
        for (size_t i = 0; i < BT * K; i++)
            u[i] = gsl_ran_gaussian(r, 1.0), v[i] = gsl_ran_gaussian(r, 1.0);
        assert_int_equal(gpmc_jwdc_eval_tuples(ev, u, v, BT, e6, e7), GPMC_OK);
        used += BT;
        for (size_t t = 0; t < BT; t++) {
            double val = fmax(e6[t], e7[t]);
            size_t worst = 0;
            for (size_t q = 1; q < S; q++)
                worst = pval[q] < pval[worst] ? q : worst;
            if (val > pval[worst]) {
                pval[worst] = val;
                memcpy(pu + worst * K, u + t * K, K * sizeof *u);
                memcpy(pv + worst * K, v + t * K, K * sizeof *v);
            }
        }
    }
    while (used < budget) {
        for (size_t t = 0; t < BT; t++) { /* 4 children per parent */
            size_t q = t % S;
            double su = sig[q] * norm(pu + q * K, K) / sqrt((double)K);
            double sv = sig[q] * norm(pv + q * K, K) / sqrt((double)K);
            for (size_t i = 0; i < K; i++) {
                u[t * K + i] = pu[q * K + i] + su * gsl_ran_gaussian(r, 1.0);
                v[t * K + i] = pv[q * K + i] + sv * gsl_ran_gaussian(r, 1.0);
            }
        }
        assert_int_equal(gpmc_jwdc_eval_tuples(ev, u, v, BT, e6, e7), GPMC_OK);
        used += BT;
        for (size_t q = 0; q < S; q++) {
            size_t bt = q;
            for (size_t t = q; t < BT; t += S)
                bt = fmax(e6[t], e7[t]) > fmax(e6[bt], e7[bt]) ? t : bt;
            double val = fmax(e6[bt], e7[bt]);
            if (val > pval[q]) {
                pval[q] = val;
                memcpy(pu + q * K, u + bt * K, K * sizeof *u);
                memcpy(pv + q * K, v + bt * K, K * sizeof *v);
                sig[q] = fmin(1.0, 1.5 * sig[q]);
            } else if ((sig[q] *= 0.7) < 1e-7) {
                sig[q] = 0.3;
            }
        }
    }
    for (size_t q = 0; q < S; q++)
        best = fmax(best, pval[q]);
    free(u), free(v), free(pu), free(pv);
    return best;
}

/* (f) search quality on tiny instances: the default budgets (tuples 500, angles 64,
 * search 8000, batch 128) against dense_search with 100x their total, on the same B, C
 * (stored), 8 matrices per shape: every eps_hat / dense >= 0.95 (measured minimum 0.9999
 * and 0.965; medians 1.000, 0.996). Not every matrix there is: on 32 other matrices per
 * shape (seed 77), 1 and 3 of 32 fell below 0.95 (1 and 4 before the block-tied
 * stages), one at 0.666 at any budget tried: a supremum at a corner, h ~ x and
 * theta_my ~ pi - 0.07 with C rows on the edges of the thin wedge c.m > 0, c.y > 0, which
 * is reached only through tuples of small value. */
/* Under AddressSanitizer the dense references dominate the whole suite's time (51 s of
 * 100x searches): the same code runs there on the first 2 matrices per shape, and on all 8
 * in the plain build. */
#if defined(__SANITIZE_ADDRESS__)
#define FRACTION_TRIALS 2
#else
#define FRACTION_TRIALS 8
#endif

static void test_search_fraction(void **state)
{
    (void)state;
    static const long shapes[][3] = {{8, 2, 2}, {10, 2, 3}};
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 99, 3, 0, 0);
    for (size_t s = 0; s < 2; s++) {
        config c = cfg(shapes[s][0], shapes[s][1], shapes[s][2]);
        c.store = 1;
        run er;
        run_open(&er, &c);
        size_t ell = (size_t)c.ell, n = (size_t)c.n, p = (size_t)c.p;
        gpmc_jwdc_eval *ev = gpmc_jwdc_eval_alloc(ell, n, p, 64);
        size_t budget = 100 * (size_t)(c.tuples + c.angles + c.search);
        double frac[FRACTION_TRIALS];
        for (uint64_t t = 0; t < FRACTION_TRIALS; t++) {
            exp_trial(&er, 31, t);
            gpmc_jwdc_eval_set(ev, exp_arr(&er, "B"), exp_arr(&er, "C"), exp_get(&er, "alpha"));
            double dense = dense_search(ev, r, n + p, budget), eh = exp_get(&er, "eps_hat");
            print_message("ell=%zu n=%zu p=%zu trial %d: eps_hat %.5f dense(100x) %.5f "
                          "fraction %.4f\n",
                          ell, n, p, (int)t, eh, dense, eh / dense);
            frac[t] = eh / dense;
        }
        gpmc_sort(frac, FRACTION_TRIALS);
        print_message("median %.4f min %.4f\n",
                      0.5 * (frac[(FRACTION_TRIALS - 1) / 2] + frac[FRACTION_TRIALS / 2]), frac[0]);
        assert_true(frac[0] >= 0.95);
        gpmc_jwdc_eval_free(ev);
        exp_close(&er);
    }
    gpmc_rng_free(r);
}

/* The smallest sizes run and give finite numbers. */
static void test_tiny(void **state)
{
    (void)state;
    config c = cfg(1, 1, 1);
    c.tuples = 3, c.search = 5, c.angles = 2, c.store = 1;
    run r;
    run_open(&r, &c);
    for (uint64_t t = 0; t < 4; t++) {
        exp_trial(&r, 2, t);
        assert_true(isfinite(exp_get(&r, "eps_hat")) && isfinite(exp_get(&r, "alpha_mc")));
        check_record(&r, &c);
    }
    exp_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_evaluator),
        cmocka_unit_test(test_means),
        cmocka_unit_test(test_alpha_small_n),
        cmocka_unit_test(test_witness_recompute),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_concentration),
        cmocka_unit_test(test_search_fraction),
        cmocka_unit_test(test_tiny),
    };
    return cmocka_run_group_tests_name("jwdc", tests, NULL, NULL);
}
