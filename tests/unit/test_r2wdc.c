/* The R2WDC evaluator (r2wdc_eval.h), the diagonal WDC evaluator of wide layers and the
 * `r2wdc` experiment, against independent computations written here:
 *
 *  - layer 1: G_0 = identity, so the near value at (x, y) is ||W_{+,x}^T W_{+,y} - Q_{x,y}||,
 *    the WDC deviation: equal to gpmc_wdc_eval's to rounding (tolerance from the error
 *    bound of the masked Gram below); the variant without the M term of Q is rejected;
 *  - deeper layers: the near value equals a dense reference (D formed by the WDC
 *    evaluator at r = G_{j-1}(x), s = G_{j-1}(y), bases of Lambda by Householder QR of
 *    columns from gpmc_net_lambda), and is attained: a near pair u = G(x1 + t a) - G(x1)
 *    gives a far value <= near; span >= max(far, near) on every tuple;
 *  - the rank argument: on a contractive layer (n_j < n_{j-1}) the diagonal WDC deviation
 *    has smallest eigenvalue -1/2 exactly, so wdc_layer >= 1/2; the variant with Q_{x,x} = I
 *    (no 1/2) gives -1 and is rejected; an expansive layer stays below 1/2;
 *  - the "#widths" shape: layout lengths follow the list; bad names are refused;
 *  - the experiment: eps_layer <= span_layer, the contractive layer's wdc_layer >= 1/2;
 *  - search quality: eps_layer >= 95% of a dense search with 100x the budget (k = 2, 3),
 *    never above wdc_exact2's exact sup on layer 1 at k = 2. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/net.h"
#include "gpmc/r2wdc_eval.h"
#include "gpmc/r2wdc_pieces.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_eval.h"
#include "gpmc/wdc_exact2.h"

#include "testutil.h"
#include "testutil_exp.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const gpmc_experiment gpmc_exp_r2wdc;
static const gpmc_experiment *const E = &gpmc_exp_r2wdc;

#define PI 3.14159265358979323846
#define U (DBL_EPSILON / 2)

static double gamma_n(size_t n) { return (double)n * U / (1 - (double)n * U); }

static double frob2(const double *a, size_t len) { return dot(a, a, len); }

static void unit_rows(gsl_rng *r, double *a, size_t rows, size_t k)
{
    for (size_t i = 0; i < rows; i++)
        gpmc_rng_unit_vector(r, a + i * k, k);
}

/* Largest |eigenvalue| of a symmetric k x k matrix (dense LAPACK, a copy). */
static double sym_norm(const double *a, size_t k)
{
    double *c = malloc(k * k * sizeof *c), *w = malloc(k * sizeof *w);
    memcpy(c, a, k * k * sizeof *c);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)k, c, (lapack_int)k, w), 0);
    double v = fmax(fabs(w[0]), fabs(w[k - 1]));
    free(c);
    free(w);
    return v;
}

/* Layer 1: the near value is the WDC deviation, for the same W_1 and the same pairs. */
static void test_layer1_is_wdc(void **state)
{
    (void)state;
    size_t k = 6, n = 64, B = 24;
    size_t width[2] = {k, n};
    gpmc_net *net = gpmc_net_alloc(1, width);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 7, 0, 0, 0);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    double *t6 = malloc(6 * B * k * sizeof *t6);
    unit_rows(r, t6, 6 * B, k);
    double *x = t6, *y = t6 + B * k;
    memcpy(y, x, k * sizeof *y);                 /* tuple 0: x = y */
    for (size_t a = 0; a < k; a++)               /* tuple 1: y = -x */
        y[k + a] = -x[k + a];
    for (size_t a = 0; a < k; a++)               /* tuple 2: angle 1e-7 */
        y[2 * k + a] = x[2 * k + a] + 1e-7 * y[2 * k + a];
    const double *t[6];
    for (size_t v = 0; v < 6; v++)
        t[v] = t6 + v * B * k;
    gpmc_r2wdc_eval *ev = gpmc_r2wdc_eval_alloc(net, B);
    gpmc_wdc_eval *wev = gpmc_wdc_eval_alloc(n, k, B);
    assert_non_null(ev);
    assert_non_null(wev);
    gpmc_wdc_eval_set_w(wev, net->W[0], 1);
    double val[24], far[24], near[24], wdc[24];
    assert_int_equal(gpmc_r2wdc_eval_tuples(ev, 1, t, B, val, far, near), GPMC_OK);
    assert_int_equal(gpmc_wdc_eval_pairs(wev, x, y, B, wdc), GPMC_OK);
    /* Both form W_{+,x}^T W_{+,y} = sum over <= n rows: each has error <= gamma_n ||W||_F^2
     * in Frobenius norm (|sum_i |w_ia w_ib||_F <= sum_i |w_i|^2); Q's entries are formed
     * to a few units of rounding each (|Q|_F <= sqrt(k)), and the eigen/singular value
     * solvers are backward stable (c k u |D|). */
    double tol = 2 * gamma_n(n) * frob2(net->W[0], n * k) + 64 * (double)k * U * 2;
    double *dm = malloc(k * k * sizeof *dm), *mm = malloc(k * k * sizeof *mm);
    int rejected = 0;
    for (size_t b = 0; b < B; b++) {
        assert_close(near[b], wdc[b], tol);
        assert_true(far[b] <= near[b] + tol);
        assert_true(val[b] == fmax(far[b], near[b]));
        /* wrong variant: Q without its M term, (pi - theta)/(2 pi) I alone */
        assert_int_equal(gpmc_wdc_eval_matrix(wev, x + b * k, y + b * k, dm), GPMC_OK);
        double th = gpmc_angle(x + b * k, y + b * k, k);
        gpmc_theory_M(x + b * k, y + b * k, k, mm);
        for (size_t i = 0; i < k * k; i++)
            dm[i] += sin(th) / (2 * PI) * mm[i];
        rejected += fabs(sym_norm(dm, k) - near[b]) > tol;
    }
    assert_true(rejected >= (int)B - 3); /* all but the angle 0, pi, ~0 tuples */
    printf("# layer 1: tol %.3g, wrong variant (no M) rejected on %d of %zu tuples\n", tol,
           rejected, B);
    free(dm);
    free(mm);
    free(t6);
    gpmc_r2wdc_eval_free(ev);
    gpmc_wdc_eval_free(wev);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

/* Orthonormal basis (rows, returned count) of the columns of the n x c column-major a by
 * Householder QR, dropping nothing (the test's Lambda have full column rank). */
static size_t qr_rows(double *a, size_t n, size_t c)
{
    double tau[64];
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)c, a,
                                    (lapack_int)n, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)c,
                                    (lapack_int)c, a, (lapack_int)n, tau), 0);
    return c;
}

/* Layer j >= 2 against the dense reference, near pairs, span >= value. */
static void test_deep_layers(void **state)
{
    (void)state;
    size_t k = 3, d = 3, B = 8;
    size_t width[4] = {3, 40, 30, 25};
    gpmc_net *net = gpmc_net_alloc(d, width);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 11, 0, 0, 0);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_r2wdc_eval *ev = gpmc_r2wdc_eval_alloc(net, B);
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 6 * B);
    double *t6 = malloc(6 * B * k * sizeof *t6);
    const double *t[6];
    for (size_t v = 0; v < 6; v++)
        t[v] = t6 + v * B * k;
    double val[8], far[8], near[8], span[8];
    size_t nmax = 40;
    double *dm = malloc(nmax * nmax * sizeof *dm), *b1 = malloc(nmax * k * sizeof *b1),
           *b3 = malloc(nmax * k * sizeof *b3), *tmp = malloc(nmax * k * sizeof *tmp),
           *kk = malloc(k * k * sizeof *kk), *scr = malloc(nmax * sizeof *scr),
           *e = malloc(k * sizeof *e);
    double maxdiff = 0, minnear = INFINITY;
    for (size_t j = 2; j <= d; j++) {
        size_t n = width[j - 1], nj = width[j];
        gpmc_wdc_eval *wev = gpmc_wdc_eval_alloc(nj, n, 1);
        gpmc_wdc_eval_set_w(wev, net->W[j - 1], 1);
        unit_rows(r, t6, 6 * B, k);
        /* tuple 0: a near pair x2 = x1 + 1e-6 a (same cell), x4 = x3 + 1e-6 a' */
        for (size_t a = 0; a < k; a++) {
            t6[3 * B * k + a] = t6[2 * B * k + a] + 1e-6 * t6[3 * B * k + a];
            t6[5 * B * k + a] = t6[4 * B * k + a] + 1e-6 * t6[5 * B * k + a];
        }
        assert_int_equal(gpmc_r2wdc_eval_tuples(ev, j, t, B, val, far, near), GPMC_OK);
        assert_int_equal(gpmc_r2wdc_eval_span(ev, j, t, B, span), GPMC_OK);
        gpmc_net sub = *net;
        sub.depth = j - 1;
        gpmc_net_forward(&sub, t6, 6 * B, tr);
        for (size_t b = 0; b < B; b++) {
            const double *rr = tr->act[j - 1] + b * n, *ss = tr->act[j - 1] + (B + b) * n;
            assert_int_equal(gpmc_wdc_eval_matrix(wev, rr, ss, dm), GPMC_OK);
            /* columns Lambda e_a at x1 and x3, column-major n x k */
            for (size_t a = 0; a < k; a++) {
                memset(e, 0, k * sizeof *e);
                e[a] = 1;
                gpmc_net_lambda(&sub, tr, 2 * B + b, j - 1, e, b1 + a * n, scr);
                gpmc_net_lambda(&sub, tr, 4 * B + b, j - 1, e, b3 + a * n, scr);
            }
            qr_rows(b1, n, k);
            qr_rows(b3, n, k);
            /* K = B1^T D B3 with plain loops */
            for (size_t a = 0; a < k; a++)
                for (size_t c = 0; c < k; c++) {
                    double sacc = 0;
                    for (size_t p = 0; p < n; p++)
                        sacc += b1[a * n + p] * dot(dm + p * n, b3 + c * n, n);
                    kk[a * k + c] = sacc;
                }
            double sv[3], work[64];
            memcpy(tmp, kk, k * k * sizeof *kk);
            assert_int_equal(LAPACKE_dgesvd_work(LAPACK_ROW_MAJOR, 'N', 'N', 3, 3, tmp, 3, sv,
                                                 NULL, 1, NULL, 1, work, 64), 0);
            /* rounding: both are O(n u) relative in each product of O(1) matrices */
            double tol = 1e3 * (double)(n + nj) * U;
            assert_close(near[b], sv[0], tol);
            maxdiff = fmax(maxdiff, fabs(near[b] - sv[0]));
            minnear = fmin(minnear, near[b]);
            assert_true(span[b] >= val[b] - tol);
        }
        /* the near pair of tuple 0: its far value is attained inside near's sup */
        assert_true(far[0] <= near[0] + 1e-5);
        gpmc_wdc_eval_free(wev);
    }
    printf("# deep layers: near vs dense reference max |diff| %.3g (smallest near %.3g)\n",
           maxdiff, minnear);
    free(dm);
    free(b1);
    free(b3);
    free(tmp);
    free(kk);
    free(scr);
    free(e);
    free(t6);
    gpmc_net_trace_free(tr);
    gpmc_r2wdc_eval_free(ev);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

/* The rank argument on a contractive layer, and an expansive one for contrast. */
static void test_contractive_diag(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 3, 0, 0, 0);
    size_t n = 30, k = 40; /* W: n x k, n_j = 30 < n_{j-1} = 40 */
    double *w = malloc(400 * 40 * sizeof *w), *x = malloc(40 * sizeof *x);
    gpmc_rng_gaussian(r, 1 / sqrt((double)n), w, n * k);
    gpmc_wdc_diag *ev = gpmc_wdc_diag_alloc(n, k);
    /* the eigenvalue -1/2 is exact in exact arithmetic (W_{+,x} has <= 30 < 40 rows);
     * computed, its error is <= gamma_n |W|_F^2 (the Gram) + c k u (the eigensolver) */
    double tol = gamma_n(n) * frob2(w, n * k) + 64 * (double)k * U;
    for (int i = 0; i < 20; i++) {
        double dev, lmin, lmax;
        gpmc_rng_unit_vector(r, x, k);
        assert_int_equal(gpmc_wdc_diag_eval(ev, w, 1, x, &dev, &lmin, &lmax), GPMC_OK);
        assert_true(dev >= 0.5 - tol);
        assert_close(lmin, -0.5, tol);
        /* wrong variant: Q_{x,x} = I (no 1/2): lmin - 1/2 = -1, not -1/2 */
        assert_false(fabs((lmin - 0.5) - (-0.5)) <= tol);
    }
    gpmc_wdc_diag_free(ev);
    /* expansive: 400 x 10, MP edges (1/2)(1 +- sqrt(10/200))^2 give ~0.25: below 1/2 */
    n = 400, k = 10;
    gpmc_rng_gaussian(r, 1 / sqrt((double)n), w, n * k);
    ev = gpmc_wdc_diag_alloc(n, k);
    for (int i = 0; i < 20; i++) {
        double dev;
        gpmc_rng_unit_vector(r, x, k);
        assert_int_equal(gpmc_wdc_diag_eval(ev, w, 1, x, &dev, NULL, NULL), GPMC_OK);
        assert_true(dev < 0.45);
    }
    gpmc_wdc_diag_free(ev);
    free(w);
    free(x);
    gpmc_rng_free(r);
}

/* ---- the experiment ---------------------------------------------------------------- */

static size_t param(const char *name) { return exp_param(E, name); }
static size_t field(const char *name) { return exp_field(E, name); }

/* Defaults from the table, then widths. */
static void make_values(gpmc_value *v, const double *widths, size_t d)
{
    exp_defaults(E, v);
    gpmc_value *w = &v[param("widths")];
    w->len = d;
    for (size_t i = 0; i < d; i++)
        w->list[i] = widths[i];
}

static void test_shape_len(void **state)
{
    (void)state;
    gpmc_value v[32];
    double widths[3] = {12, 10, 8};
    make_values(v, widths, 3);
    gpmc_layout lay;
    assert_int_equal(gpmc_layout_init(&lay, E, v), GPMC_OK);
    size_t f = field("eps_layer"), wf = field("witness");
    assert_int_equal(lay.rank[f], 1);
    assert_int_equal(lay.dims[f][0], 3);
    assert_int_equal(lay.len[f], 3);
    assert_int_equal(lay.rank[wf], 3);
    assert_int_equal(lay.len[wf], 3 * 6 * 4);
    gpmc_layout_free(&lay);
    /* "#k" names an INT, "#nosuch" nothing: both refused */
    gpmc_field_def bad[2] = {{.name = "a", .shape = "#k"}, {.name = "b", .shape = "#nosuch"}};
    for (int i = 0; i < 2; i++) {
        gpmc_experiment e2 = *E;
        e2.fields = &bad[i];
        e2.nfields = 1;
        assert_int_equal(gpmc_layout_init(&lay, &e2, v), GPMC_EINVAL);
    }
}

static void test_experiment(void **state)
{
    (void)state;
    gpmc_value v[EXP_MAXP];
    double widths[2] = {10, 6}; /* layer 2 contractive: 6 < 10 */
    make_values(v, widths, 2);
    v[param("wdc_full_max")].num = 4; /* layer 1 (input 4): full search; layer 2: x = y */
    exp_run r;
    exp_open(&r, E, v, 0x77);
    for (uint64_t trial = 0; trial < 4; trial++) {
        exp_trial(&r, 5, trial);
        const double *el = exp_arr(&r, "eps_layer"), *sl = exp_arr(&r, "span_layer");
        const double *wl = exp_arr(&r, "wdc_layer"), *dl = exp_arr(&r, "wdc_diag_only");
        for (size_t j = 0; j < 2; j++) {
            assert_true(el[j] >= 0 && el[j] <= sl[j]);
            assert_true(isfinite(wl[j]));
        }
        assert_true(dl[0] == 0 && dl[1] == 1);
        assert_true(wl[1] >= 0.5 - 1e-12); /* rank argument, tolerance as above */
        assert_true(exp_get(&r, "eps_hat") == fmax(el[0], el[1]));
        /* the witness has unit rows */
        const double *wit = exp_arr(&r, "witness");
        for (size_t i = 0; i < 12; i++)
            assert_close(norm(wit + i * 4, 4), 1, 1e-12);
    }
    /* too deep: refused */
    double deep[9] = {4, 4, 4, 4, 4, 4, 4, 4, 4};
    make_values(v, deep, 9);
    gpmc_point pt = {.exp = E, .index = 0, .values = v, .key = 0x77};
    char msg[256];
    assert_int_not_equal(E->check(&pt, msg, sizeof msg), 0);
    exp_close(&r);
}

/* ---- search quality ------------------------------------------------------------------ */

/* The network of trial (seed, trial) of run r: substream 0, as r2_trial samples it. */
static gpmc_net *trial_net(const exp_run *r, const double *widths, size_t d)
{
    size_t width[4];
    width[0] = (size_t)r->v[param("k")].num;
    for (size_t i = 0; i < d; i++)
        width[i + 1] = (size_t)widths[i];
    gpmc_net *net = gpmc_net_alloc(d, width);
    assert_non_null(net);
    gsl_rng *g = gpmc_rng_alloc();
    gpmc_rng_seek(g, r->s.seed, r->s.point_key, r->s.trial, 0);
    gpmc_net_sample(net, g, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_rng_free(g);
    return net;
}

typedef struct {
    gpmc_r2wdc_eval *ev;
    size_t layer;
} r2_obj;

static int r2_obj_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    r2_obj *o = ctx;
    return gpmc_r2wdc_eval_tuples(o->ev, o->layer, t, nb, val, NULL, NULL);
}

/* dense_pieces' runs: all 10 (100x cell_pairs) in the plain build; under AddressSanitizer
 * 2, which checks the same code paths in a fifth of the time. */
#if defined(__SANITIZE_ADDRESS__)
#define PIECES_REPS 2
#else
#define PIECES_REPS 10
#endif

static int pieces_obj_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    return gpmc_r2wdc_pieces_eval(ctx, t[0], t[1], nb, val);
}

/* Layer 2's part of the dense reference: PIECES_REPS runs of the shared search over (x, y)
 * with the all-cell-pairs objective (no crossing moves, unlike the experiment's), each with
 * 10x the cell_pairs phases (substreams 2000 + 4 rep); each run's best tuple is valued by
 * the evaluator, like the experiment's. -1 if W_1 has more than cell_max cells. */
static double dense_pieces(const exp_run *r, const gpmc_net *net, gpmc_r2wdc_eval *ev)
{
    size_t k = (size_t)r->v[param("k")].num, B = (size_t)r->v[param("batch")].num;
    size_t n = 10 * (size_t)r->v[param("cell_pairs")].num;
    gpmc_r2wdc_pieces *p = gpmc_r2wdc_pieces_alloc(net, (size_t)r->v[param("cell_max")].num, B);
    if (!p)
        return -1;
    assert_int_equal(gpmc_r2wdc_pieces_set(p, NULL), GPMC_OK);
    gpmc_search_objective o = {.m = 2, .k = k, .batch = B, .ctx = p, .eval = pieces_obj_eval};
    gpmc_search *srch = gpmc_search_alloc(&o);
    assert_non_null(srch);
    static const size_t tie[2] = {0, 0};
    gpmc_stream s = r->s;
    s.r = gpmc_rng_alloc();
    double best = -1, tup[6 * 8];
    assert_true(k <= 8);
    for (uint32_t rep = 0; rep < PIECES_REPS; rep++) {
        gpmc_search_plan pl = {.random = n / 4, .angles = n / 8, .angle_a = 0, .angle_b = 1,
                               .search = n - n / 4 - n / 8, .tie = tie,
                               .substream = 2000 + 4 * rep};
        assert_int_equal(gpmc_search_run(srch, &s, &pl), GPMC_OK);
        const double *bt, *t[6];
        gpmc_search_best(srch, 0, &bt);
        assert_int_equal(gpmc_r2wdc_pieces_tuple(p, bt, bt + k, tup, NULL), GPMC_OK);
        for (size_t q = 0; q < 6; q++)
            t[q] = tup + q * k;
        double val;
        assert_int_equal(gpmc_r2wdc_eval_tuples(ev, 2, t, 1, &val, NULL, NULL), GPMC_OK);
        best = fmax(best, val);
    }
    gpmc_rng_free(s.r);
    gpmc_search_free(srch);
    gpmc_r2wdc_pieces_free(p);
    return best;
}

/* The dense reference for layer j, 100x the default budget in all: 10 independent runs of
 * the shared search (random restarts, substreams 1000 + 100 j + 4 rep, disjoint from the
 * experiment's 1 + 10 (j-1) + 0..8 and 100..103), each with 10x every phase of the
 * experiment's plan (same objective, tie x = y and batch), on the trial's network; on
 * layer 2 the larger of that and dense_pieces. */
static double dense_layer(const exp_run *r, const gpmc_net *net, gpmc_r2wdc_eval *ev, size_t j)
{
    size_t k = (size_t)r->v[param("k")].num, B = (size_t)r->v[param("batch")].num;
    r2_obj ob = {.ev = ev, .layer = j};
    gpmc_search_objective o = {.m = 6, .k = k, .batch = B, .ctx = &ob, .eval = r2_obj_eval};
    gpmc_search *srch = gpmc_search_alloc(&o);
    assert_non_null(srch);
    static const size_t tie[6] = {0, 0, 2, 3, 4, 5};
    gpmc_stream s = r->s;
    s.r = gpmc_rng_alloc();
    double best = -1;
    for (uint32_t rep = 0; rep < 10; rep++) {
        gpmc_search_plan pl = {.random = 10 * (size_t)r->v[param("tuples")].num,
                               .angles = 10 * (size_t)r->v[param("angles")].num,
                               .angle_a = 0, .angle_b = 1,
                               .search = 10 * (size_t)r->v[param("search")].num, .tie = tie,
                               .substream = (uint32_t)(1000 + 100 * j + 4 * rep)};
        assert_int_equal(gpmc_search_run(srch, &s, &pl), GPMC_OK);
        best = fmax(best, gpmc_search_best(srch, 0, NULL));
    }
    gpmc_rng_free(s.r);
    gpmc_search_free(srch);
    return j == 2 ? fmax(best, dense_pieces(r, net, ev)) : best;
}

/* How far two evaluations of the same tuple (the experiment's search batch vs the batch
 * of 1 that re-evaluates the best tuple beside the span) can differ: the batch changes
 * only the GEMM blocking of the forward pass and of Z. Assumed: no pre-activation of the
 * tuple lies within its rounding of 0, so both see the same masks, the same Lambda and
 * bases; the value then moves only with r, s (through Q's frame), u, v (far) and Z.
 * Each layer's product has error <= gamma_N |W_l|_F |a| (N the widest layer), so the
 * computed G_{j-1} of a unit vector is off by E <= (j-1) gamma_N prod_{l<j} |W_l|_F, u and
 * v by 2E. far and near are 1-Lipschitz in u^, v^ times |D| <= |W_j|_F^2 + 1, Q is
 * 1-Lipschitz in r^, s^ (|dQ/dtheta| <= 3/(2 pi), the frame's rotation adds <= 1/pi), and
 * a unit vector's direction moves by <= 2 |delta| / |vector|. Z's GEMM adds gamma_N
 * |W_j|_F^2 to g; the frame's trig and the norm solver a few k U each (64 k U). Twice all
 * that (two evaluations). */
static double rerun_tol(const gpmc_net *net, size_t j, const double *wit)
{
    size_t k = net->width[0], n = net->width[j - 1], N = 0;
    for (size_t l = 0; l <= net->depth; l++)
        N = net->width[l] > N ? net->width[l] : N;
    double prod = 1;
    for (size_t l = 1; l < j; l++)
        prod *= norm(net->W[l - 1], net->width[l] * net->width[l - 1]);
    double fj2 = frob2(net->W[j - 1], net->width[j] * n);
    double E = (double)(j - 1) * gamma_n(N) * prod;
    gpmc_net sub = *net;
    sub.depth = j - 1;
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 6);
    gpmc_net_forward(&sub, wit, 6, tr);
    const double *a = tr->act[j - 1];
    double uv[2][64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        uv[0][i] = a[2 * n + i] - a[3 * n + i];
        uv[1][i] = a[4 * n + i] - a[5 * n + i];
    }
    double nr = norm(a, n), ns = norm(a + n, n), nu = norm(uv[0], n), nv = norm(uv[1], n);
    gpmc_net_trace_free(tr);
    double dir = E == 0 ? 0 : 2 * E / nr + 2 * E / ns + 2 * 2 * E / nu + 2 * 2 * E / nv;
    return 2 * ((fj2 + 1 + 1) * dir + gamma_n(N) * fj2 + 64 * (double)k * U);
}

/* The check for conditions without a cheap exact sup: eps_layer reaches >= 95% of
 * a dense search with 100x the budget on the same network, layer by layer, at the default
 * budgets. Also: eps_layer <= span_layer up to rerun_tol (the only guarantee between them:
 * span_layer bounds every value evaluated beside it, but the search's own value of the
 * best tuple joins eps_layer too); and where an exact value exists, layer 1 at k = 2 (G_0
 * the identity, u, v free in R^2: eps_1 is the WDC sup of W_1, wdc_exact2's certified
 * `upper`), neither eps_layer[0] nor the dense best exceeds it.
 * Layer 2's reference includes dense_pieces, the search over (x, y) alone valued at all
 * pairs of W_1's cells for x1, x3: without it the reference itself was not converged on
 * the deep layer at k = 3 (single 30x runs of the tuple search found values 8% above the
 * best of ten 10x runs).
 * Measured (seed 21) at the defaults tuples = search = 256, angles = 32, cell_pairs = 256,
 * eps_layer / dense for (k; widths) trial layer: (2; 8,6) 0 1: 98.7%, 0 2: 100.0%,
 * 1 1: 98.8%, 1 2: 98.9%; (3; 10,8) 0 1: 97.4%, 0 2: 98.6%, 1 1: 96.8%, 1 2: 97.2%.
 * Without the cell_pairs search (cell_pairs = 0) layer 2 at k = 3 reaches 74.4% and 58.3%
 * of this reference (1.4814 and 0.6461 against 1.9914 and 1.1077), and the tuple search's
 * own 100x reference only 98.6% and 83.0% of it: the variant without the stage is
 * rejected. Under AddressSanitizer dense_pieces runs PIECES_REPS = 2 of its 10 runs (the
 * plain build asserts against all of them). */
static void test_search_quality(void **state)
{
    (void)state;
    const double inst[2][3] = {{2, 8, 6}, {3, 10, 8}};
    int short_of = 0, short_without = 0;
    for (size_t i = 0; i < 2; i++) {
        gpmc_value v[EXP_MAXP], v0[EXP_MAXP];
        make_values(v, inst[i] + 1, 2);
        v[param("k")].num = inst[i][0];
        memcpy(v0, v, sizeof v0);
        v0[param("cell_pairs")].num = 0; /* the variant: the same networks (not hashed) */
        exp_run r, r0;
        exp_open(&r, E, v, 0x5151 + i);
        exp_open(&r0, E, v0, 0x5151 + i);
        size_t k = (size_t)inst[i][0];
        for (uint64_t t = 0; t < 2; t++) {
            exp_trial(&r, 21, t);
            exp_trial(&r0, 21, t);
            double without = exp_arr(&r0, "eps_layer")[1];
            gpmc_net *net = trial_net(&r, inst[i] + 1, 2);
            gpmc_r2wdc_eval *ev = gpmc_r2wdc_eval_alloc(net, (size_t)v[param("batch")].num);
            assert_non_null(ev);
            const double *el = exp_arr(&r, "eps_layer"), *sl = exp_arr(&r, "span_layer");
            const double *wit = exp_arr(&r, "witness"), *wl = exp_arr(&r, "wdc_layer");
            for (size_t j = 1; j <= 2; j++) {
                const double *w = wit + (j - 1) * 6 * k, *tw[6];
                for (size_t q = 0; q < 6; q++)
                    tw[q] = w + q * k;
                double tol = rerun_tol(net, j, w), val;
                /* the same network: the witness's value is eps_layer */
                assert_int_equal(gpmc_r2wdc_eval_tuples(ev, j, tw, 1, &val, NULL, NULL),
                                 GPMC_OK);
                assert_close(val, el[j - 1], tol);
                double best = dense_layer(&r, net, ev, j);
                /* wdc_layer[0] is the same quantity as eps_1 (G_0 = identity), searched
                 * by the aimed WDC search: printed for comparison, not asserted */
                print_message("k=%zu widths=%g,%g trial %d layer %zu: eps_layer %.6f, dense "
                              "%.6f (%.1f%%), span_layer %.6f, wdc_layer %.6f, rerun tol "
                              "%.2g\n", k, inst[i][1], inst[i][2], (int)t, j, el[j - 1], best,
                              100 * el[j - 1] / best, sl[j - 1], wl[j - 1], tol);
                short_of += !(el[j - 1] >= 0.95 * best); /* asserted once all print */
                if (j == 2) {
                    print_message("  without cell_pairs: %.6f (%.1f%%)\n", without,
                                  100 * without / best);
                    short_without += k == 3 && without < 0.95 * best;
                }
                assert_true(el[j - 1] <= sl[j - 1] + tol);
                if (j == 1 && k == 2) {
                    size_t n = net->width[1];
                    gpmc_wdc_eval *wev = gpmc_wdc_eval_alloc(n, 2, 1);
                    gpmc_wdc_exact2 *ex = gpmc_wdc_exact2_alloc(n);
                    assert_non_null(wev);
                    assert_non_null(ex);
                    gpmc_wdc_eval_set_w(wev, net->W[0], 1);
                    gpmc_wdc_exact2_result res;
                    assert_int_equal(gpmc_wdc_exact2_run(ex, net->W[0], 1, wev, &res), GPMC_OK);
                    /* r2wdc's layer-1 value is ||D|| or |u^T D v|/(|u||v|) <= ||D||, each
                     * computed to 2 gamma_N (|W_1|_F^2 + 1) + 64 k U (the masked Gram's and
                     * Z's sums, the norm solver): upper already includes its own rounding */
                    double t1 = 2 * gamma_n(n) * (frob2(net->W[0], 2 * n) + 1) + 128 * U;
                    print_message("  layer 1 exact WDC sup %.6f (upper %.6f): eps_layer %.1f%%\n",
                                  res.eps, res.upper, 100 * el[0] / res.eps);
                    assert_true(el[0] <= res.upper + t1);
                    assert_true(best <= res.upper + t1);
                    gpmc_wdc_exact2_free(ex);
                    gpmc_wdc_eval_free(wev);
                }
            }
            gpmc_r2wdc_eval_free(ev);
            gpmc_net_free(net);
        }
        exp_close(&r);
        exp_close(&r0);
    }
    assert_int_equal(short_without, 2); /* the variant misses at k = 3, both trials */
    if (short_of)
        fail_msg("%d of 8 (instance, trial, layer) below 95%% of the dense search", short_of);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer1_is_wdc),
        cmocka_unit_test(test_deep_layers),
        cmocka_unit_test(test_contractive_diag),
        cmocka_unit_test(test_shape_len),
        cmocka_unit_test(test_experiment),
        cmocka_unit_test(test_search_quality),
    };
    return cmocka_run_group_tests_name("r2wdc", tests, NULL, NULL);
}
