/* Experiment `jwdc`: the joint Weight Distribution Condition of the two outer layers of
 * Hand & Joshi's blind demodulation (MATH.md, Conditions 4; Hand-Joshi eqs. 6-7):
 * B in R^{ell x n}, C in R^{ell x p}, alpha = alpha_1 alpha_2,
 *
 *   eps_6 = sup ell || B+h^T diag(C+m m . C+y y) B+x - (alpha/ell)(m^T Q_my y) Q_hx || / (|m||y|)
 *   eps_7 = sup ell || C+m^T diag(B+h h . B+x x) C+y - (alpha/ell)(h^T Q_hx x) Q_my || / (|h||x|)
 *
 * over nonzero h, x in R^n, m, y in R^p; eps_hat = max(eps_6, eps_7). Every value is the
 * evaluator's at a tuple actually evaluated, so all three are certified lower bounds on
 * their suprema (up to rounding), with the tuples that attain them stored.
 *
 * One trial:
 *   1. B then C on substream 0 (the budgets, not hashed, never change them): rows
 *      w 1{|w| <= 3 sqrt(dim/ell)}, w ~ N(0, I_dim/ell) (ensemble = truncated; dim = n for
 *      B, p for C), alpha_j = P(chi2_{dim+2} <= 9 dim); or plain Gaussian rows, alpha = 1.
 *      alpha_mc from the same rows by the trace identity E sum_i |w_i|^2 = alpha_j dim.
 *   2. the shared search (search.h) on substreams 1-4: `tuples` random tuples (the
 *      distribution: dev_*), `angles` tuples stratified in both angles (theta_hx,
 *      theta_my) on a grid (0, pi, near 0 and near pi on each axis, mixed ones included),
 *      then `search` climbing evaluations: a sixteenth each on the block-tied tuples h = x
 *      (m, y free) and m = y (h, x free), where the suprema of small instances sit (one
 *      inequality's weights at a parallel pair, the other pair spread), the rest from the
 *      best of everything; one child in four a flip across a row's hyperplane aimed by the
 *      top eigenvector of blockdiag(D6, D7).
 * The search runs over pairs (u, v) in R^{n+p}, u = (h, m), v = (x, y) (the embedding is
 * exact: jwdc_eval.h), with the blocks n and p declared to it, so it draws, steps and
 * stratifies h, x, m, y each on its own sphere (and moves (h, x) or (m, y) alone, keeping
 * their angle); the value it climbs is max(eps6, eps7), and the evaluator keeps the best
 * tuple of each inequality over everything evaluated (eps_6, eps_7). Evaluator:
 * src/numerics/jwdc_eval.c. */
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/jwdc_eval.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"
#include "gpmc/sizes.h"
#include "gpmc/stats.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sixteenth of `search` per block goes to the block-tied stages (h = x, then m = y):
 * measured at search 8000 against 100x dense (32 matrices per shape, seed 77), below 0.95
 * went from 1, 4, 2, 6 of 32 to 1, 3, 1, 3 at (ell, n, p) = (8, 2, 2), (10, 2, 3),
 * (20, 3, 3), (40, 3, 3). An eighth gave 0, 2, 1, 2 but cost the free climb: eps_hat per
 * trial a median 1.5% lower on jobs/specs/jwdc_ell.ini (search 1500), 0.2% at n = p = 4
 * with the default 8000; a sixteenth: 0.9% and 0.0%. */
#define BLOCK_TIED_SHARE 16

enum {
    P_ELL, P_N, P_P, P_ENSEMBLE, P_TUPLES, P_SEARCH, P_ANGLES, P_EPS, P_STORE,
    P_BATCH, P_SEARCH_SEED, NPARAMS
};

static const gpmc_param_def params[] = {
    {"ell", GPMC_PARAM_INT, "40", 1, 1e7, NULL, 0,
     "rows of B and C (the signal length of the blind demodulation)"},
    {"n", GPMC_PARAM_INT, "3", 1, 1000, NULL, 0, "columns of B: h, x in R^n"},
    {"p", GPMC_PARAM_INT, "3", 1, 1000, NULL, 0, "columns of C: m, y in R^p"},
    {"ensemble", GPMC_PARAM_CHOICE, "truncated", 0, 0, "truncated|gaussian", 0,
     "rows w 1{|w| <= 3 sqrt(dim/ell)}, w ~ N(0, I_dim/ell) (Hand-Joshi; alpha_j = "
     "P(chi2_{dim+2} <= 9 dim), dim = n for B, p for C), or plain Gaussian rows (alpha = 1)"},
    {"tuples", GPMC_PARAM_INT, "500", 1, 1e7, NULL, GPMC_PARAM_NOHASH,
     "random tuples (h, x, m, y independent uniform directions) per trial: the deviation's "
     "distribution and the search's starting points"},
    {"search", GPMC_PARAM_INT, "8000", 0, 1e8, NULL, GPMC_PARAM_NOHASH,
     "climbing evaluations per trial (random steps and aimed flips across the rows' "
     "hyperplanes): a sixteenth each on block-tied tuples h = x and m = y, the rest from "
     "the best tuples found"},
    {"angles", GPMC_PARAM_INT, "64", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "tuples stratified in the two angles (theta_hx, theta_my) on a G x G grid, G = "
     "ceil(sqrt(angles)), each axis 0, pi, 1e-3 and 1e-1 from either end, then uniform "
     "(x = cos(theta) h + sin(theta) w, w a uniform direction orthogonal to h; m, y alike: "
     "the shared search's angle phase with blocks n, p); they seed the climb"},
    /* Only the summary reads eps and only the output reads store_matrices: not hashed. */
    {"eps", GPMC_PARAM_REAL_LIST, "0.1,0.2,0.5,1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "thresholds: the summary reports P(eps_hat <= eps) for each"},
    {"store_matrices", GPMC_PARAM_BOOL, "false", 0, 1, NULL, GPMC_PARAM_NOHASH,
     "store every trial's B (ell x n) and C (ell x p) to recompute the values offline"},
    {"batch", GPMC_PARAM_INT, "128", 1, 4096, NULL, GPMC_PARAM_NOHASH,
     "tuples per batched evaluation (GEMM height); changes rounding only"},
    GPMC_SEARCH_SEED_PARAM,
};

enum {
    F_EPS_HAT, F_EPS6, F_EPS7, F_EPS_RANDOM, F_DEV_MEAN, F_DEV_Q50, F_DEV_Q90, F_DEV_Q99,
    F_ALPHA, F_ALPHA_MC, F_THETA_HX, F_THETA_MY, F_EVALS,
    F_W, F_W6 = F_W + 4, F_W7 = F_W6 + 4, /* each: h, x, m, y */
    F_B = F_W7 + 4, F_C, NFIELDS
};

static const gpmc_field_def fields[] = {
    {"eps_hat", NULL, NULL, "eps", 0, "1",
     "max(eps_6, eps_7): the largest joint-WDC deviation found over all evaluated tuples, a "
     "certified lower bound on the joint-WDC constant, attained at witness_h, _x, _m, _y"},
    {"eps_6", NULL, NULL, NULL, 0, "1",
     "largest ell||B+h^T diag(C+m m . C+y y) B+x - (alpha/ell)(m^T Q_my y) Q_hx||/(|m||y|) "
     "found (Hand-Joshi eq. 6): a lower bound on its sup, attained at witness6_*"},
    {"eps_7", NULL, NULL, NULL, 0, "1",
     "largest ell||C+m^T diag(B+h h . B+x x) C+y - (alpha/ell)(h^T Q_hx x) Q_my||/(|h||x|) "
     "found (Hand-Joshi eq. 7): a lower bound on its sup, attained at witness7_*"},
    {"eps_hat_random", NULL, NULL, NULL, 0, "1",
     "largest max(eps6, eps7) over the random tuples alone (what the search adds: eps_hat - "
     "this)"},
    {"dev_mean", NULL, NULL, NULL, 0, "1", "mean of max(eps6, eps7) over the random tuples"},
    {"dev_q50", NULL, NULL, NULL, 0, "1", "median of max(eps6, eps7) over the random tuples"},
    {"dev_q90", NULL, NULL, NULL, 0, "1", "0.9 quantile over the random tuples"},
    {"dev_q99", NULL, NULL, NULL, 0, "1", "0.99 quantile over the random tuples"},
    {"alpha", NULL, NULL, NULL, 0, "1",
     "alpha = alpha_1 alpha_2 from the closed form P(chi2_{n+2} <= 9n) P(chi2_{p+2} <= 9p) "
     "(truncated rows; 1 for Gaussian rows): the constant the deviations are centred with"},
    {"alpha_mc", NULL, NULL, NULL, 0, "1",
     "Monte Carlo estimate of alpha from this trial's rows by the trace identity "
     "E sum_i |w_i|^2 = alpha_j dim: (sum_i |b_i|^2 / n)(sum_i |c_i|^2 / p), unbiased (B, C "
     "independent), standard deviation ~ sqrt(2/(n ell) + 2/(p ell))"},
    {"theta_hx", NULL, NULL, NULL, 0, "rad", "angle between witness h and x"},
    {"theta_my", NULL, NULL, NULL, 0, "rad", "angle between witness m and y"},
    {"tuples_evaluated", NULL, NULL, NULL, 0, "tuples",
     "tuples whose deviations were computed (tuples + angles + search)"},
    {"witness_h", "n", NULL, NULL, 0, "1", "unit h of the tuple attaining eps_hat"},
    {"witness_x", "n", NULL, NULL, 0, "1", "unit x of the tuple attaining eps_hat"},
    {"witness_m", "p", NULL, NULL, 0, "1", "unit m of the tuple attaining eps_hat"},
    {"witness_y", "p", NULL, NULL, 0, "1", "unit y of the tuple attaining eps_hat"},
    {"witness6_h", "n", NULL, NULL, 0, "1", "unit h of the tuple attaining eps_6"},
    {"witness6_x", "n", NULL, NULL, 0, "1", "unit x of the tuple attaining eps_6"},
    {"witness6_m", "p", NULL, NULL, 0, "1", "unit m of the tuple attaining eps_6"},
    {"witness6_y", "p", NULL, NULL, 0, "1", "unit y of the tuple attaining eps_6"},
    {"witness7_h", "n", NULL, NULL, 0, "1", "unit h of the tuple attaining eps_7"},
    {"witness7_x", "n", NULL, NULL, 0, "1", "unit x of the tuple attaining eps_7"},
    {"witness7_m", "p", NULL, NULL, 0, "1", "unit m of the tuple attaining eps_7"},
    {"witness7_y", "p", NULL, NULL, 0, "1", "unit y of the tuple attaining eps_7"},
    {"B", "ell,n", "store_matrices", NULL, 0, "1", "the sampled B (rows b_i)"},
    {"C", "ell,p", "store_matrices", NULL, 0, "1", "the sampled C (rows c_i)"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    size_t ell, n, p, tuples, search, angles, batch;
    int truncated;
    double *b, *c;   /* ell x n, ell x p */
    double *devr;    /* tuples: the random tuples' values */
    gpmc_jwdc_eval *ev;
    gpmc_search *srch;
} jwdc_ws;

static size_t param_size(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

/* B, C, the evaluator (packed outer products ell (n^2 + p^2)/2), the search, the values. */
static size_t jwdc_workspace_bytes(const gpmc_point *pt)
{
    size_t ell = param_size(pt, P_ELL), n = param_size(pt, P_N), p = param_size(pt, P_P);
    size_t B = param_size(pt, P_BATCH);
    gpmc_search_objective o = gpmc_jwdc_search_objective(ell, n, p, B, NULL);
    size_t bytes = gpmc_size_add(gpmc_jwdc_eval_bytes(ell, n, p, B), gpmc_search_bytes(&o));
    bytes = gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_mul(ell, n + p), sizeof(double)));
    bytes = gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_mul(2 * param_size(pt, P_ANGLES) + 1,
                                                             n + p), sizeof(double)));
    return gpmc_size_add(bytes, gpmc_size_mul(param_size(pt, P_TUPLES), sizeof(double)));
}

/* Relative cost: per tuple the GEMMs, two eigensolvers (~n^3 + p^3) and the search's
 * share; plus sampling B and C. */
static double jwdc_trial_cost(const gpmc_point *pt)
{
    size_t ell = param_size(pt, P_ELL), n = param_size(pt, P_N), p = param_size(pt, P_P);
    double nn = (double)n, pp = (double)p, K = nn + pp;
    double per = gpmc_jwdc_gemm_flops(ell, n, p) + 10 * (nn * nn * nn + pp * pp * pp) + 20 * K;
    double evals = (double)(param_size(pt, P_TUPLES) + param_size(pt, P_ANGLES) +
                            param_size(pt, P_SEARCH));
    return evals * per + (double)ell * K;
}

static int jwdc_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    if (jwdc_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "ell (=%zu), n (=%zu), p (=%zu): the workspace size overflows",
                 param_size(pt, P_ELL), param_size(pt, P_N), param_size(pt, P_P));
        return 1;
    }
    return 0;
}

static void jwdc_free(void *p)
{
    jwdc_ws *ws = p;
    if (!ws)
        return;
    free(ws->b);
    free(ws->c);
    free(ws->devr);
    gpmc_jwdc_eval_free(ws->ev);
    gpmc_search_free(ws->srch);
    free(ws);
}

static void *jwdc_alloc(const gpmc_point *pt)
{
    jwdc_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->ell = param_size(pt, P_ELL);
    ws->n = param_size(pt, P_N);
    ws->p = param_size(pt, P_P);
    ws->truncated = gpmc_point_int_at(pt, P_ENSEMBLE) == 0;
    ws->tuples = param_size(pt, P_TUPLES);
    ws->search = param_size(pt, P_SEARCH);
    ws->angles = param_size(pt, P_ANGLES);
    ws->batch = param_size(pt, P_BATCH);
    ws->b = malloc(ws->ell * ws->n * sizeof(double));
    ws->c = malloc(ws->ell * ws->p * sizeof(double));
    ws->devr = malloc(ws->tuples * sizeof(double));
    ws->ev = gpmc_jwdc_eval_alloc(ws->ell, ws->n, ws->p, ws->batch);
    if (ws->ev) {
        gpmc_search_objective o = gpmc_jwdc_search_objective(ws->ell, ws->n, ws->p, ws->batch,
                                                             ws->ev);
        ws->srch = gpmc_search_alloc(&o);
    }
    if (!ws->b || !ws->c || !ws->devr || !ws->ev || !ws->srch) {
        jwdc_free(ws);
        return NULL;
    }
    return ws;
}

/* Rows of `dim` columns: sigma 1/sqrt(ell), truncated at 3 sqrt(dim/ell) or not; returns
 * alpha_j, and *trace = sum_i |w_i|^2 / dim (its Monte Carlo estimate). */
static double sample_rows(gsl_rng *r, int truncated, size_t ell, size_t dim, double *a,
                          double *trace)
{
    double sigma = 1 / sqrt((double)ell), alpha = 1, ss = 0;
    if (truncated) {
        gpmc_rng_truncated_rows(r, sigma, 3 * sqrt((double)dim / (double)ell), ell, dim, a);
        alpha = gpmc_theory_alpha_truncated(dim);
    } else {
        gpmc_rng_gaussian(r, sigma, a, ell * dim);
    }
    for (size_t i = 0; i < ell * dim; i++)
        ss += a[i] * a[i];
    *trace = ss / (double)dim;
    return alpha;
}

/* The witness fields f0..f0+3 = h, x, m, y: the blocks of u = (h, m), v = (x, y),
 * normalised. */
static void witness_out(gpmc_record *rec, size_t f0, const double *u, const double *v,
                        size_t n, size_t p)
{
    const double *src[4] = {u, v, u + n, v + n};
    for (int j = 0; j < 4; j++) {
        size_t len = j < 2 ? n : p;
        double *out = gpmc_record_field(rec, f0 + (size_t)j), nr = gpmc_nrm2(src[j], len);
        for (size_t i = 0; i < len; i++)
            out[i] = nr > 0 ? src[j][i] / nr : 0;
    }
}

static int jwdc_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    jwdc_ws *ws = wsp;
    size_t ell = ws->ell, n = ws->n, p = ws->p;
    (void)pt;

    /* 1. B, then C, on substream 0. */
    double tb, tc;
    double alpha = sample_rows(s->r, ws->truncated, ell, n, ws->b, &tb);
    alpha *= sample_rows(s->r, ws->truncated, ell, p, ws->c, &tc);
    gpmc_jwdc_eval_set(ws->ev, ws->b, ws->c, alpha);
    gpmc_search_set_normals(ws->srch, gpmc_jwdc_eval_normals(ws->ev), 2 * ell);

    /* 2. the search on substreams 1-4: random tuples, angles, the climb. */
    gpmc_search_plan plan = {.random = ws->tuples, .random_vals = ws->devr,
                             .angles = ws->angles, .angle_a = 0, .angle_b = 1,
                             .search = ws->search, .tie = NULL,
                             .block_tied = ws->search / BLOCK_TIED_SHARE, .substream = 1,
                             .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
    int st = gpmc_search_run(ws->srch, s, &plan);
    if (st != GPMC_OK)
        return st;

    const double *bt, *u6, *v6, *u7, *v7;
    double best = gpmc_search_best(ws->srch, 0, &bt);
    double e6 = gpmc_jwdc_eval_best(ws->ev, 6, &u6, &v6);
    double e7 = gpmc_jwdc_eval_best(ws->ev, 7, &u7, &v7);
    const double *bu = bt, *bv = bt + (n + p);
    double sum = 0;
    for (size_t i = 0; i < ws->tuples; i++)
        sum += ws->devr[i];
    gpmc_sort(ws->devr, ws->tuples);
    gpmc_record_set(rec, F_EPS_HAT, best >= 0 ? best : NAN);
    gpmc_record_set(rec, F_EPS6, e6 >= 0 ? e6 : NAN);
    gpmc_record_set(rec, F_EPS7, e7 >= 0 ? e7 : NAN);
    gpmc_record_set(rec, F_EPS_RANDOM, ws->devr[ws->tuples - 1]);
    gpmc_record_set(rec, F_DEV_MEAN, sum / (double)ws->tuples);
    gpmc_record_set(rec, F_DEV_Q50, gpmc_quantile_sorted(ws->devr, ws->tuples, 0.50));
    gpmc_record_set(rec, F_DEV_Q90, gpmc_quantile_sorted(ws->devr, ws->tuples, 0.90));
    gpmc_record_set(rec, F_DEV_Q99, gpmc_quantile_sorted(ws->devr, ws->tuples, 0.99));
    gpmc_record_set(rec, F_ALPHA, alpha);
    gpmc_record_set(rec, F_ALPHA_MC, tb * tc);
    gpmc_record_set(rec, F_EVALS, (double)gpmc_search_evaluated(ws->srch));
    witness_out(rec, F_W, bu, bv, n, p);
    gpmc_record_set(rec, F_THETA_HX, gpmc_angle(gpmc_record_field(rec, F_W),
                                                gpmc_record_field(rec, F_W + 1), n));
    gpmc_record_set(rec, F_THETA_MY, gpmc_angle(gpmc_record_field(rec, F_W + 2),
                                                gpmc_record_field(rec, F_W + 3), p));
    if (e6 >= 0)
        witness_out(rec, F_W6, u6, v6, n, p);
    if (e7 >= 0)
        witness_out(rec, F_W7, u7, v7, n, p);
    if (rec->layout->len[F_B] > 0)
        memcpy(gpmc_record_field(rec, F_B), ws->b, ell * n * sizeof(double));
    if (rec->layout->len[F_C] > 0)
        memcpy(gpmc_record_field(rec, F_C), ws->c, ell * p * sizeof(double));
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_jwdc = {
    .name = "jwdc",
    .summary = "joint Weight Distribution Condition (Hand-Joshi eqs. 6-7) of B (ell x n) and "
               "C (ell x p) with truncated-Gaussian rows: eps_6, eps_7 and eps_hat = their max "
               "(lower bounds: random, angle-stratified and locally searched tuples "
               "(h, x, m, y)); alpha from the closed form and alpha_mc from the trial's rows "
               "(trace identity E sum_i |w_i|^2 = alpha_j dim)",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = jwdc_check,
    .workspace_alloc = jwdc_alloc,
    .workspace_bytes = jwdc_workspace_bytes,
    .trial_cost = jwdc_trial_cost,
    .workspace_free = jwdc_free,
    .trial = jwdc_trial,
};
