/* Experiment `rric`: the Range Restricted Isometry Condition (MATH.md, Conditions 2;
 * Hand & Voroninski Def. 3) of a measurement A on the range of a random ReLU network G:
 *
 *     eps_RRIC = sup_{x1..x4} |<Au, Av> - <u, v>| / (|u| |v|),  u = G(x1) - G(x2),
 *                                                              v = G(x3) - G(x4).
 *
 * Two values, of opposite kinds, labelled apart everywhere:
 *   eps_hat   the largest value found over evaluated quadruples: a certified LOWER bound
 *             on eps_RRIC (up to rounding), attained at the stored witness;
 *   eps_span  the span relaxation || B_U^T (A^T A - I) B_V || maximised over the cells of a
 *             few quadruples (the witness's and the best others of distinct cells): an
 *             UPPER bound over those cells only, neither bound on eps_RRIC. eps_hat <=
 *             eps_span by construction (u in U, v in V at the witness).
 *
 * One trial:
 *   1. substream 0: the network (Gaussian W_i, N(0, 1/n_i) entries, net.h), then A
 *      (measure.h, isotropic scaling E[A^T A] = I): the budgets, not hashed, never change
 *      them;
 *   2. the shared search (search.h) over quadruples from substream 1: `quads` random ones
 *      (the distribution: dev_* fields), `angles` stratified in the angle between x1 and
 *      x2 (near pairs down to 1e-9, evaluated through the Jacobian, and near-antipodal
 *      ones), then `search` climbing evaluations, a quarter of them on u = v (the tie
 *      x3 = x1, x4 = x2: eps_hat_same). No aim and no crossings: the flips need a matrix
 *      whose eigenvector says which hyperplane to cross, which the RRIC's objective has
 *      not, and its value is continuous in the four vectors (u, v are differences of G's
 *      outputs), so crossing G's boundaries (search.h `cell`, net_cells.h) buys nothing:
 *      measured on jobs/specs/rric_m.ini, crossings in 1 of 4 children gave a median
 *      0.957 of the random-moves-only eps_hat (better in 18% of 280 trials);
 *   3. the span maximum over the witness and the `span_cells` - 1 best other cells.
 * The objective is src/numerics/rric_eval.c: one batched forward pass for the four vectors
 * of every quadruple, A applied in batch; its latent vectors are lifted (rric_eval.h), so
 * the search's unit vectors reach every ratio |x1| / |x2|. */
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/rric_eval.h"
#include "gpmc/search.h"
#include "gpmc/sizes.h"
#include "gpmc/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper networks and more weights than this are refused by check(): the edge sweep's
 * 64-element width lists would otherwise be networks of 64 layers of thousands. */
#define RRIC_MAX_DEPTH 16
#define RRIC_MAX_WEIGHTS (UINT64_C(1) << 26) /* 512 MiB of doubles */

enum {
    P_K, P_WIDTHS, P_M, P_MEAS, P_QUADS, P_SEARCH, P_ANGLES, P_CELLS, P_EPS,
    P_BATCH, P_SEARCH_SEED, NPARAMS
};

static const gpmc_param_def params[] = {
    {"k", GPMC_PARAM_INT, "5", 1, 1024, NULL, 0, "latent dimension (input width of G)"},
    {"widths", GPMC_PARAM_INT_LIST, "20,100", 1, 4096, NULL, 0,
     "layer widths n_1,...,n_d of G (n = n_d, the signal dimension; at most 16 layers)"},
    {"m", GPMC_PARAM_INT, "50", 1, 1e6, NULL, 0, "measurements: A is m x n"},
    {"measurement", GPMC_PARAM_CHOICE, "gaussian", 0, 0, GPMC_MEASURE_CHOICES, 0,
     "A's ensemble (measure.h, scaled so E[A^T A] = I; subsampled, fourier: m <= n; "
     "identity: m = n)"},
    {"quads", GPMC_PARAM_INT, "2000", 1, 1e7, NULL, GPMC_PARAM_NOHASH,
     "random quadruples (four independent lifted directions) per trial: the deviation's "
     "distribution and the search's starting points"},
    /* Measured on k = 3, widths 8,16, m = 6: one run with search = 8000 beat the best of 100
     * runs with 2000 (long climbs matter more than restarts); see tests/unit/test_rric.c. */
    {"search", GPMC_PARAM_INT, "8000", 0, 1e8, NULL, GPMC_PARAM_NOHASH,
     "local-search evaluations per trial (a quarter, at least 1, on u = v)"},
    {"angles", GPMC_PARAM_INT, "256", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "quadruples stratified in the angle between x1 and x2 (x2 = x1, 1e-9..1e-1 from x1 "
     "and from -x1, and a grid over [0, pi]): near pairs"},
    {"span_cells", GPMC_PARAM_INT, "8", 1, 256, NULL, GPMC_PARAM_NOHASH,
     "cells whose span relaxation is computed: the witness's and the best quadruples of "
     "other cells"},
    {"eps", GPMC_PARAM_REAL_LIST, "0.1,0.2,0.5,1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "thresholds: the summary reports P(eps_hat <= eps) for each"},
    {"batch", GPMC_PARAM_INT, "128", 1, 4096, NULL, GPMC_PARAM_NOHASH,
     "quadruples per batched evaluation (GEMM height); changes rounding only"},
    GPMC_SEARCH_SEED_PARAM,
};

enum {
    F_EPS_HAT, F_EPS_SPAN, F_EPS_SAME, F_EPS_RANDOM, F_DEV_MEAN, F_DEV_Q50, F_DEV_Q90,
    F_DEV_Q99, F_CELLS, F_JAC, F_EVALS, F_WITNESS, NFIELDS
};

static const gpmc_field_def fields[] = {
    {"eps_hat", NULL, NULL, "eps", 0, "1",
     "LOWER bound: largest |<Au,Av> - <u,v>|/(|u||v|) over evaluated quadruples (a value "
     "attained, certified up to rounding), at witness"},
    {"eps_span", NULL, NULL, NULL, 0, "1",
     "UPPER bound over span_cells cells only (not a bound on eps_RRIC): max "
     "||B_U^T (A^T A - I) B_V||, U = span[Lambda_x1 Lambda_x2], V likewise; >= eps_hat"},
    {"eps_hat_same", NULL, NULL, NULL, 0, "1",
     "lower bound over u = v (x3 = x1, x4 = x2): largest | |Au|^2 - |u|^2 | / |u|^2 found "
     "(NaN if search = 0)"},
    {"eps_hat_random", NULL, NULL, NULL, 0, "1",
     "largest deviation over the random quadruples alone (what the search adds: eps_hat - "
     "this)"},
    {"dev_mean", NULL, NULL, NULL, 0, "1", "mean deviation over the random quadruples"},
    {"dev_q50", NULL, NULL, NULL, 0, "1", "median deviation over the random quadruples"},
    {"dev_q90", NULL, NULL, NULL, 0, "1", "0.9 quantile of the deviation over the random quadruples"},
    {"dev_q99", NULL, NULL, NULL, 0, "1", "0.99 quantile of the deviation over the random quadruples"},
    {"span_cells_used", NULL, NULL, NULL, 0, "cells",
     "distinct cells (patterns of x1..x4) eps_span was maximised over, the witness's included"},
    {"jacobian_pairs", NULL, NULL, NULL, 0, "pairs",
     "pairs (x1,x2) or (x3,x4) in one cell, evaluated as u = Lambda_x1 (x1 - x2)"},
    {"quads_evaluated", NULL, NULL, NULL, 0, "quadruples",
     "quadruples whose deviation was computed (quads + angles + search)"},
    {"witness", "4,k", NULL, NULL, 0, "1",
     "rows x1, x2, x3, x4 (|x_j| <= 1) of the quadruple attaining eps_hat"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    size_t k, depth, m, quads, search, angles, batch;
    size_t width[GPMC_LIST_MAX + 1];
    gpmc_net *net;
    gpmc_measure *A;
    gpmc_rric_eval *ev;
    gpmc_search *srch;
    double *devr;  /* quads */
    double *wit;   /* 4 x k */
} rric_ws;

/* The tie u = v: x3 = x1, x4 = x2. */
static const size_t tie_same[4] = {0, 1, 0, 1};

static size_t param_size(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

/* width[0] = k, then the list; the depth. */
static size_t widths_of(const gpmc_point *pt, size_t *width)
{
    const gpmc_value *w = &pt->values[P_WIDTHS];
    width[0] = param_size(pt, P_K);
    for (size_t i = 0; i < w->len && i < GPMC_LIST_MAX; i++)
        width[i + 1] = (size_t)w->list[i];
    return w->len;
}

static int rric_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    return gpmc_rric_eval_quads(ctx, t, nb, val);
}

static gpmc_search_objective rric_objective(size_t k, size_t batch, void *ev)
{
    gpmc_search_objective o = {.m = 4, .k = k + 1, .batch = batch, .nnormals = 0,
                               .ctx = ev, .eval = rric_values, .aim = NULL};
    return o;
}

static uint64_t total_weights(size_t depth, const size_t *width)
{
    uint64_t s = 0;
    for (size_t i = 0; i < depth; i++)
        s += (uint64_t)width[i] * width[i + 1];
    return s;
}

/* The network, A (dense: m n), the evaluator, the search, the random values. */
static size_t rric_workspace_bytes(const gpmc_point *pt)
{
    size_t width[GPMC_LIST_MAX + 1], depth = widths_of(pt, width);
    size_t k = width[0], n = width[depth], m = param_size(pt, P_M), B = param_size(pt, P_BATCH);
    if (depth == 0 || depth > RRIC_MAX_DEPTH)
        return SIZE_MAX;
    gpmc_search_objective o = rric_objective(k, B, NULL);
    size_t bytes = gpmc_size_add(gpmc_search_bytes(&o),
                                 gpmc_rric_eval_bytes(depth, width, m, B, param_size(pt, P_CELLS)));
    bytes = gpmc_size_add(bytes, gpmc_size_mul((size_t)total_weights(depth, width), sizeof(double)));
    bytes = gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_mul(m, n) + 4 * n, sizeof(double)));
    return gpmc_size_add(bytes, gpmc_size_mul(param_size(pt, P_QUADS) + 4 * k, sizeof(double)));
}

/* Relative cost: per quadruple four forward passes (2 sum n_i n_{i-1} each) and A on u, v
 * (2 m n each, dense); per span cell 4k Lambda columns and two n x 2k SVDs (~ 4 n (2k)^2). */
static double rric_trial_cost(const gpmc_point *pt)
{
    size_t width[GPMC_LIST_MAX + 1], depth = widths_of(pt, width);
    double k = (double)width[0], n = (double)width[depth], m = (double)param_size(pt, P_M);
    double fw = 2 * (double)total_weights(depth, width);
    double evals = (double)(param_size(pt, P_QUADS) + param_size(pt, P_ANGLES) +
                            param_size(pt, P_SEARCH));
    double cells = (double)param_size(pt, P_CELLS);
    return evals * (4 * fw + 4 * m * n) + cells * (4 * k * fw + 32 * n * k * k + 8 * k * m * n) +
           m * n + fw / 2;
}

static int rric_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    size_t width[GPMC_LIST_MAX + 1], depth = widths_of(pt, width);
    size_t n = width[depth], m = param_size(pt, P_M);
    gpmc_measure_kind kind = (gpmc_measure_kind)gpmc_point_int_at(pt, P_MEAS);
    if (depth == 0 || depth > RRIC_MAX_DEPTH) {
        snprintf(msg, msglen, "widths: %zu layers, at most %d allowed", depth, RRIC_MAX_DEPTH);
        return 1;
    }
    uint64_t tw = total_weights(depth, width);
    if (tw > RRIC_MAX_WEIGHTS) {
        snprintf(msg, msglen, "widths (with k = %zu): %llu weights, more than the limit %llu",
                 width[0], (unsigned long long)tw, (unsigned long long)RRIC_MAX_WEIGHTS);
        return 1;
    }
    if (gpmc_measure_shape_error(kind, m, n, msg, msglen))
        return 1; /* n: the last width */
    if ((kind == GPMC_MEASURE_GAUSSIAN || kind == GPMC_MEASURE_BERNOULLI) &&
        (uint64_t)m * n > RRIC_MAX_WEIGHTS) {
        snprintf(msg, msglen, "m x n = %zu x %zu: a dense A larger than the limit %llu entries",
                 m, n, (unsigned long long)RRIC_MAX_WEIGHTS);
        return 1;
    }
    if (rric_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "the workspace size overflows");
        return 1;
    }
    return 0;
}

static void rric_free(void *p)
{
    rric_ws *ws = p;
    if (!ws)
        return;
    gpmc_search_free(ws->srch);
    gpmc_rric_eval_free(ws->ev);
    gpmc_measure_free(ws->A);
    gpmc_net_free(ws->net);
    free(ws->devr);
    free(ws->wit);
    free(ws);
}

static void *rric_alloc(const gpmc_point *pt)
{
    rric_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->depth = widths_of(pt, ws->width);
    ws->k = ws->width[0];
    ws->m = param_size(pt, P_M);
    ws->quads = param_size(pt, P_QUADS);
    ws->search = param_size(pt, P_SEARCH);
    ws->angles = param_size(pt, P_ANGLES);
    ws->batch = param_size(pt, P_BATCH);
    ws->net = gpmc_net_alloc(ws->depth, ws->width);
    ws->A = gpmc_measure_alloc((gpmc_measure_kind)gpmc_point_int_at(pt, P_MEAS), ws->m,
                               ws->width[ws->depth]);
    ws->devr = malloc(ws->quads * sizeof(double));
    ws->wit = malloc(4 * ws->k * sizeof(double));
    if (ws->net && ws->A)
        ws->ev = gpmc_rric_eval_alloc(ws->net, ws->A, ws->batch, param_size(pt, P_CELLS));
    if (ws->ev) {
        gpmc_search_objective o = rric_objective(ws->k, ws->batch, ws->ev);
        ws->srch = gpmc_search_alloc(&o);
    }
    if (!ws->srch || !ws->devr || !ws->wit) {
        rric_free(ws);
        return NULL;
    }
    return ws;
}

static int rric_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    rric_ws *ws = wsp;
    size_t k = ws->k;
    (void)pt;

    /* 1. G, then A, on substream 0. */
    gpmc_net_sample(ws->net, s->r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_measure_sample(ws->A, s->r);
    gpmc_rric_eval_reset(ws->ev);

    /* 2. random quadruples (substream 1), angles (2), u = v (3), all (4). */
    gpmc_search_plan plan = {.random = ws->quads, .random_vals = ws->devr,
                             .angles = ws->angles, .angle_a = 0, .angle_b = 1,
                             .search = ws->search, .tie = tie_same, .substream = 1,
                             .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
    int st = gpmc_search_run(ws->srch, s, &plan);
    if (st != GPMC_OK)
        return st;
    const double *bt, *bs;
    double best = gpmc_search_best(ws->srch, 0, &bt);
    double best_same = gpmc_search_best(ws->srch, 1, &bs);
    for (size_t q = 0; q < 4; q++) /* the latent x_q: the first k coordinates */
        memcpy(ws->wit + q * k, bt + q * (k + 1), k * sizeof(double));
    size_t jac = gpmc_rric_eval_jacobian_pairs(ws->ev);

    /* 3. the span maximum. */
    double span;
    size_t cells;
    if ((st = gpmc_rric_eval_span_max(ws->ev, ws->wit, &span, &cells)) != GPMC_OK)
        return st;

    double sum = 0;
    for (size_t i = 0; i < ws->quads; i++)
        sum += ws->devr[i];
    gpmc_sort(ws->devr, ws->quads);
    gpmc_record_set(rec, F_EPS_HAT, best >= 0 ? best : NAN);
    gpmc_record_set(rec, F_EPS_SPAN, span);
    gpmc_record_set(rec, F_EPS_SAME, best_same >= 0 ? best_same : NAN);
    gpmc_record_set(rec, F_EPS_RANDOM, ws->devr[ws->quads - 1]);
    gpmc_record_set(rec, F_DEV_MEAN, sum / (double)ws->quads);
    gpmc_record_set(rec, F_DEV_Q50, gpmc_quantile_sorted(ws->devr, ws->quads, 0.50));
    gpmc_record_set(rec, F_DEV_Q90, gpmc_quantile_sorted(ws->devr, ws->quads, 0.90));
    gpmc_record_set(rec, F_DEV_Q99, gpmc_quantile_sorted(ws->devr, ws->quads, 0.99));
    gpmc_record_set(rec, F_CELLS, (double)cells);
    gpmc_record_set(rec, F_JAC, (double)jac);
    gpmc_record_set(rec, F_EVALS, (double)gpmc_search_evaluated(ws->srch));
    memcpy(gpmc_record_field(rec, F_WITNESS), ws->wit, 4 * k * sizeof(double));
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_rric = {
    .name = "rric",
    .summary = "Range Restricted Isometry Condition of A on a random ReLU network's range: "
               "eps_hat (lower bound, searched quadruples) and eps_span (span relaxation over "
               "the best cells: an upper bound over those cells)",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = rric_check,
    .workspace_alloc = rric_alloc,
    .workspace_bytes = rric_workspace_bytes,
    .trial_cost = rric_trial_cost,
    .workspace_free = rric_free,
    .trial = rric_trial,
};
