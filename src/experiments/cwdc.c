/* Experiment `cwdc`: the convolutional (block) WDC of one random 1-D transposed
 * convolution (MATH.md, Conditions 5; Ma-Ayaz-Karaman Lemma Sup.2). c0 -> c1 channels,
 * d0 input positions, stride s, kernel q, filters i.i.d. N(0, 1/(c1 q)) (for q = s the
 * paper's N(0, 1/(C1 l))), W the real N x k matrix (N = c1 (s(d0 - 1) + q), k = c0 d0,
 * channel-major: include/gpmc/cwdc_eval.h), and
 *
 *     eps_hat = the largest || W_{+,x}^T W_{+,y} - E[W_{+,x}^T W_{+,y}] || found,
 *
 * E the exact expectation sum_t c1 sigma^2 P_{S_t}^T Q(x_{S_t}, y_{S_t}) P_{S_t} (for
 * q = s: blockdiag(Q_{x_j, y_j}), the paper's block Q). Every value is the evaluator's at
 * an evaluated pair, so eps_hat is a certified lower bound of the supremum (up to
 * rounding), and its pair is stored (witness_x, witness_y, channel-major like W's columns).
 *
 * One trial:
 *   1. the filters from substream 0 (the budgets are not hashed and never change them);
 *   2. the shared search (include/gpmc/search.h) over pairs (x, y) in R^k, substreams 1-4:
 *      `pairs` random pairs (the distribution), `angles` angle-stratified pairs, a quarter
 *      of `search` on x = y (eps_hat_diag, Sup.6) and the rest on pairs;
 *   3. q = s only: the same plan for the plain WDC of the block W~ (c1 s x c0) with the
 *      WDC objective (include/gpmc/wdc_eval.h), substreams 5-8: eps_hat_tilde. By Sup.8
 *      the two suprema are equal (the block sup is the max over blocks, each block's sup
 *      is W~'s); eps_hat_lift is the full evaluator at W~'s witness put in block 0 (the
 *      other blocks 0, which contribute 0): it equals eps_hat_tilde up to rounding, and
 *      eps_hat (searched in c0 d0 dimensions) is below it by what the wider search misses. */
#include "gpmc/cwdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"
#include "gpmc/sizes.h"
#include "gpmc/stats.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_eval.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_C0, P_C1, P_D0, P_STRIDE, P_KERNEL, P_PAIRS, P_SEARCH, P_ANGLES,
       P_BATCH, P_EPS, P_STORE, P_SEARCH_SEED, NPARAMS };

static const gpmc_param_def params[] = {
    {"c0", GPMC_PARAM_INT, "2", 1, 1e4, NULL, 0, "input channels C0"},
    {"c1", GPMC_PARAM_INT, "4", 1, 1e5, NULL, 0, "output channels C1"},
    {"d0", GPMC_PARAM_INT, "3", 1, 1e5, NULL, 0, "input positions D0"},
    {"stride", GPMC_PARAM_INT, "2", 1, 1e4, NULL, 0, "stride s"},
    {"kernel", GPMC_PARAM_INT, "2", 1, 1e4, NULL, 0,
     "kernel size q >= stride (q = s: the paper's block case; q > s: overlapping windows)"},
    {"pairs", GPMC_PARAM_INT, "100", 1, 1e7, NULL, GPMC_PARAM_NOHASH,
     "random pairs per trial (each search): the deviation's distribution and starting points"},
    {"search", GPMC_PARAM_INT, "300", 0, 1e8, NULL, GPMC_PARAM_NOHASH,
     "climb evaluations per trial (each search; a quarter, at least 1, on x = y)"},
    {"angles", GPMC_PARAM_INT, "32", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "angle-stratified pairs per trial (each search)"},
    {"batch", GPMC_PARAM_INT, "32", 1, 4096, NULL, GPMC_PARAM_NOHASH,
     "pairs per batched evaluation (GEMM height); changes rounding only"},
    {"eps", GPMC_PARAM_REAL_LIST, "0.1,0.2,0.5,1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "thresholds: the summary reports P(eps_hat <= eps) for each"},
    {"store_matrices", GPMC_PARAM_BOOL, "false", 0, 1, NULL, GPMC_PARAM_NOHASH,
     "store every trial's filters (c1 x c0 x q) to rebuild W and recompute eps_hat offline"},
    GPMC_SEARCH_SEED_PARAM,
};

enum { F_EPS_HAT, F_EPS_DIAG, F_EPS_RANDOM, F_DEV_MEAN, F_DEV_Q50, F_DEV_Q90, F_DEV_Q99,
       F_EPS_TILDE, F_EPS_LIFT, F_THETA, F_EVALS, F_WX, F_WY, F_TX, F_TY, F_FILTERS, NFIELDS };

static const gpmc_field_def fields[] = {
    {"eps_hat", NULL, NULL, "eps", 0, "1",
     "largest ||W+x^T W+y - E[W+x^T W+y]|| found over evaluated pairs of the full c1 L x c0 d0 "
     "matrix (E exact: block Q for q = s, per-window Q for q > s): a certified lower bound, "
     "attained at (witness_x, witness_y)"},
    {"eps_hat_diag", NULL, NULL, NULL, 0, "1",
     "largest deviation over evaluated x = y (Sup.6; NaN if angles = search = 0)"},
    {"eps_hat_random", NULL, NULL, NULL, 0, "1", "largest deviation over the random pairs alone"},
    {"dev_mean", NULL, NULL, NULL, 0, "1", "mean deviation over the random pairs"},
    {"dev_q50", NULL, NULL, NULL, 0, "1", "median deviation over the random pairs"},
    {"dev_q90", NULL, NULL, NULL, 0, "1", "0.9 quantile over the random pairs"},
    {"dev_q99", NULL, NULL, NULL, 0, "1", "0.99 quantile over the random pairs"},
    {"eps_hat_tilde", NULL, NULL, NULL, 0, "1",
     "q = s: eps_hat of the block W~ (c1 s x c0) alone, the plain WDC search in R^c0, at "
     "(witness_tx, witness_ty); the block sup equals W~'s sup (Sup.8). NaN for q > s"},
    {"eps_hat_lift", NULL, NULL, NULL, 0, "1",
     "q = s: the full matrix's deviation at W~'s witness in block 0 (other blocks 0): "
     "eps_hat_tilde again up to rounding, a certified lower bound of the full sup. NaN for q > s"},
    {"theta_hat", NULL, NULL, NULL, 0, "rad", "angle between witness_x and witness_y"},
    {"pairs_evaluated", NULL, NULL, NULL, 0, "pairs",
     "pairs whose deviation was computed (both searches)"},
    {"witness_x", "c0,d0", NULL, NULL, 0, "1", "unit x attaining eps_hat (index c' d0 + j)"},
    {"witness_y", "c0,d0", NULL, NULL, 0, "1", "unit y attaining eps_hat"},
    {"witness_tx", "c0", NULL, NULL, 0, "1", "q = s: unit x attaining eps_hat_tilde (NaN else)"},
    {"witness_ty", "c0", NULL, NULL, 0, "1", "q = s: unit y attaining eps_hat_tilde (NaN else)"},
    {"filters", "c1,c0,kernel", "store_matrices", NULL, 0, "1",
     "the filters K[c][c'][u] at (c c0 + c') q + u: gpmc_cwdc_build gives W"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    gpmc_cwdc_shape sh;
    size_t N, k, nf, pairs, search, angles, batch;
    int block; /* q = s */
    double *filt, *w, *wt, *devr, *lift; /* lift: 2 k */
    gpmc_cwdc_eval *ev;
    gpmc_search *srch;
    gpmc_wdc_eval *tev; /* block only */
    gpmc_search *tsrch;
} cwdc_ws;

static const size_t tie_diag[2] = {0, 0};

static size_t psz(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

static gpmc_cwdc_shape shape_of(const gpmc_point *pt)
{
    return (gpmc_cwdc_shape){psz(pt, P_C0), psz(pt, P_C1), psz(pt, P_D0), psz(pt, P_STRIDE),
                             psz(pt, P_KERNEL)};
}

static size_t cwdc_workspace_bytes(const gpmc_point *pt)
{
    gpmc_cwdc_shape sh = shape_of(pt);
    size_t B = psz(pt, P_BATCH), N = gpmc_cwdc_rows(&sh), k = gpmc_cwdc_cols(&sh);
    gpmc_search_objective o = gpmc_cwdc_search_objective(&sh, B, NULL);
    size_t bytes = gpmc_size_add(gpmc_cwdc_eval_bytes(&sh, B), gpmc_search_bytes(&o));
    size_t d = gpmc_size_add(gpmc_size_mul(N, k), gpmc_size_mul(gpmc_size_mul(sh.c1, sh.c0), sh.q));
    d = gpmc_size_add(d, gpmc_size_add(psz(pt, P_PAIRS), gpmc_size_mul(2, k)));
    if (sh.q == sh.s) {
        size_t n = gpmc_size_mul(sh.c1, sh.s);
        gpmc_search_objective t = gpmc_wdc_search_objective(n, sh.c0, B, NULL);
        bytes = gpmc_size_add(bytes, gpmc_size_add(gpmc_wdc_eval_bytes(n, sh.c0, B),
                                                   gpmc_search_bytes(&t)));
        d = gpmc_size_add(d, gpmc_size_mul(n, sh.c0));
    }
    return gpmc_size_add(bytes, gpmc_size_mul(d, sizeof(double)));
}

/* Per evaluated pair: the pre-activations 2 N k, the windows' masked Grams N kw(kw+1)/2
 * (kw = c0 ceil(q/s)), E and the deviation matrix k^2 per window, and the eigensolver: k^3,
 * or d0 c0^3 for q = s (the blocks); W~'s search (q = s) is small beside it. */
static double cwdc_trial_cost(const gpmc_point *pt)
{
    gpmc_cwdc_shape sh = shape_of(pt);
    double N = (double)gpmc_cwdc_rows(&sh), k = (double)gpmc_cwdc_cols(&sh);
    double c0 = (double)sh.c0, kw = c0 * (double)((sh.q + sh.s - 1) / sh.s);
    double eig = sh.q == sh.s ? (double)sh.d0 * c0 * c0 * c0 : k * k * k;
    double per = N * kw * (kw + 1) / 2 + 2 * N * k + 2 * (double)sh.d0 * k * k + eig;
    double evals = (double)psz(pt, P_PAIRS) + (double)psz(pt, P_ANGLES) + (double)psz(pt, P_SEARCH);
    return (sh.q == sh.s ? 1.1 : 1.0) * evals * per + N * k;
}

static int cwdc_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    gpmc_cwdc_shape sh = shape_of(pt);
    if (sh.q < sh.s) {
        snprintf(msg, msglen, "kernel (=%zu) must be >= stride (=%zu)", sh.q, sh.s);
        return 1;
    }
    size_t N = gpmc_cwdc_rows(&sh), k = gpmc_cwdc_cols(&sh);
    if (N == SIZE_MAX || k == SIZE_MAX || k > INT32_MAX || N > INT32_MAX ||
        cwdc_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "c0 d0 (=%zu) and c1 L: the workspace size overflows", k);
        return 1;
    }
    return 0;
}

static void cwdc_free(void *p)
{
    cwdc_ws *ws = p;
    if (!ws)
        return;
    free(ws->filt);
    free(ws->w);
    free(ws->wt);
    free(ws->devr);
    free(ws->lift);
    gpmc_cwdc_eval_free(ws->ev);
    gpmc_search_free(ws->srch);
    gpmc_wdc_eval_free(ws->tev);
    gpmc_search_free(ws->tsrch);
    free(ws);
}

static void *cwdc_alloc(const gpmc_point *pt)
{
    cwdc_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->sh = shape_of(pt);
    ws->N = gpmc_cwdc_rows(&ws->sh);
    ws->k = gpmc_cwdc_cols(&ws->sh);
    ws->nf = ws->sh.c1 * ws->sh.c0 * ws->sh.q;
    ws->pairs = psz(pt, P_PAIRS);
    ws->search = psz(pt, P_SEARCH);
    ws->angles = psz(pt, P_ANGLES);
    ws->batch = psz(pt, P_BATCH);
    ws->block = ws->sh.q == ws->sh.s;
    ws->filt = malloc(ws->nf * sizeof(double));
    ws->w = malloc(ws->N * ws->k * sizeof(double));
    ws->devr = malloc(ws->pairs * sizeof(double));
    ws->lift = malloc(2 * ws->k * sizeof(double));
    ws->ev = gpmc_cwdc_eval_alloc(&ws->sh, ws->batch);
    if (ws->ev) {
        gpmc_search_objective o = gpmc_cwdc_search_objective(&ws->sh, ws->batch, ws->ev);
        ws->srch = gpmc_search_alloc(&o);
    }
    int ok = ws->filt && ws->w && ws->devr && ws->lift && ws->ev && ws->srch;
    if (ok && ws->block) {
        size_t n = ws->sh.c1 * ws->sh.s;
        ws->wt = malloc(n * ws->sh.c0 * sizeof(double));
        ws->tev = gpmc_wdc_eval_alloc(n, ws->sh.c0, ws->batch);
        if (ws->tev) {
            gpmc_search_objective o = gpmc_wdc_search_objective(n, ws->sh.c0, ws->batch, ws->tev);
            ws->tsrch = gpmc_search_alloc(&o);
        }
        ok = ws->wt && ws->tev && ws->tsrch;
    }
    if (!ok) {
        cwdc_free(ws);
        return NULL;
    }
    return ws;
}

static int cwdc_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    cwdc_ws *ws = wsp;
    size_t k = ws->k, c0 = ws->sh.c0;
    double sigma2 = 1 / ((double)ws->sh.c1 * (double)ws->sh.q);
    (void)pt;

    /* 1. The filters, first and alone on substream 0, then the real matrix. */
    gpmc_rng_gaussian(s->r, sqrt(sigma2), ws->filt, ws->nf);
    gpmc_cwdc_build(&ws->sh, ws->filt, ws->w);
    gpmc_cwdc_eval_set_w(ws->ev, ws->w, sigma2);
    gpmc_search_set_normals(ws->srch, ws->w, ws->N);

    /* 2. The full matrix's search. */
    gpmc_search_plan plan = {.random = ws->pairs, .random_vals = ws->devr, .angles = ws->angles,
                             .angle_a = 0, .angle_b = 1, .search = ws->search,
                             .tie = tie_diag, .substream = 1,
                             .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
    int st = gpmc_search_run(ws->srch, s, &plan);
    if (st != GPMC_OK)
        return st;
    const double *bt;
    double best = gpmc_search_best(ws->srch, 0, &bt);
    double best_diag = gpmc_search_best(ws->srch, 1, NULL);
    size_t evaluated = gpmc_search_evaluated(ws->srch);
    gpmc_record_set(rec, F_EPS_HAT, best >= 0 ? best : NAN);
    gpmc_record_set(rec, F_EPS_DIAG, best_diag >= 0 ? best_diag : NAN);
    gpmc_record_set(rec, F_THETA, gpmc_angle(bt, bt + k, k));
    memcpy(gpmc_record_field(rec, F_WX), bt, k * sizeof(double));
    memcpy(gpmc_record_field(rec, F_WY), bt + k, k * sizeof(double));

    double sum = 0;
    for (size_t i = 0; i < ws->pairs; i++)
        sum += ws->devr[i];
    gpmc_sort(ws->devr, ws->pairs);
    gpmc_record_set(rec, F_EPS_RANDOM, ws->devr[ws->pairs - 1]);
    gpmc_record_set(rec, F_DEV_MEAN, sum / (double)ws->pairs);
    gpmc_record_set(rec, F_DEV_Q50, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.50));
    gpmc_record_set(rec, F_DEV_Q90, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.90));
    gpmc_record_set(rec, F_DEV_Q99, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.99));

    /* 3. q = s: W~'s plain WDC (the same budgets, substreams 5-8), and its witness lifted. */
    if (ws->block) {
        gpmc_cwdc_block(&ws->sh, ws->filt, ws->wt);
        gpmc_wdc_eval_set_w(ws->tev, ws->wt, 1.0); /* rows N(0, 1/(c1 s)): alpha = 1 */
        gpmc_search_set_normals(ws->tsrch, ws->wt, ws->sh.c1 * ws->sh.s);
        gpmc_search_plan tp = plan;
        tp.random_vals = NULL;
        tp.substream = 5;
        if ((st = gpmc_search_run(ws->tsrch, s, &tp)) != GPMC_OK)
            return st;
        const double *tt;
        double tbest = gpmc_search_best(ws->tsrch, 0, &tt);
        evaluated += gpmc_search_evaluated(ws->tsrch);
        memset(ws->lift, 0, 2 * k * sizeof(double));
        for (size_t c = 0; c < c0; c++) /* block 0 = position j = 0 of every channel */
            ws->lift[c * ws->sh.d0] = tt[c], ws->lift[k + c * ws->sh.d0] = tt[c0 + c];
        double lv;
        if ((st = gpmc_cwdc_eval_pairs(ws->ev, ws->lift, ws->lift + k, 1, &lv)) != GPMC_OK)
            return st;
        evaluated += 1;
        gpmc_record_set(rec, F_EPS_TILDE, tbest >= 0 ? tbest : NAN);
        gpmc_record_set(rec, F_EPS_LIFT, lv);
        memcpy(gpmc_record_field(rec, F_TX), tt, c0 * sizeof(double));
        memcpy(gpmc_record_field(rec, F_TY), tt + c0, c0 * sizeof(double));
    } else {
        gpmc_record_set(rec, F_EPS_TILDE, NAN);
        gpmc_record_set(rec, F_EPS_LIFT, NAN);
        for (size_t c = 0; c < c0; c++)
            gpmc_record_field(rec, F_TX)[c] = NAN, gpmc_record_field(rec, F_TY)[c] = NAN;
    }
    gpmc_record_set(rec, F_EVALS, (double)evaluated);
    if (rec->layout->len[F_FILTERS] > 0)
        memcpy(gpmc_record_field(rec, F_FILTERS), ws->filt, ws->nf * sizeof(double));
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_cwdc = {
    .name = "cwdc",
    .summary = "Convolutional (block) WDC of one Gaussian 1-D transposed convolution: eps_hat "
               "= sup found of ||W+x^T W+y - E|| with the exact expectation (block Q for "
               "kernel = stride, per-window Q for kernel > stride), beside the block W~'s WDC",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = cwdc_check,
    .workspace_alloc = cwdc_alloc,
    .workspace_bytes = cwdc_workspace_bytes,
    .trial_cost = cwdc_trial_cost,
    .workspace_free = cwdc_free,
    .trial = cwdc_trial,
};
