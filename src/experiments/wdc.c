/* Experiment `wdc`: the Weight Distribution Condition of one random layer (MATH.md,
 * Conditions 1; Hand & Voroninski Def. 2, alpha from Hand & Joshi eq. 5):
 *
 *     eps_WDC(W) = sup_{x,y != 0} || W_{+,x}^T W_{+,y} - alpha Q_{x,y} ||.
 *
 * Every value reported is the deviation of a pair that was actually evaluated, so
 * eps_hat is a certified lower bound on the supremum (up to rounding in forming the
 * k x k matrix, O(n k eps ||W||^2)), and the pair that attains it is stored.
 *
 * One trial:
 *   1. W from substream 0 (so the search budgets, which are not hashed, never change it);
 *   2. `pairs` random pairs, x and y independent uniform directions (substream 1): the
 *      distribution of the deviation (mean, quantiles) and seeds for the search;
 *   3. `angles` angle-stratified pairs (substream 2): theta = 0 exactly (x = y), tiny
 *      angles down to 1e-9, the same distances from pi, pi exactly (y = -x), and a
 *      uniform grid over [0, pi]; x uniform, y = cos(theta) x + sin(theta) u, u a uniform
 *      direction orthogonal to x;
 *   4. a local search on the diagonal x = y with a quarter of `search` (substream 3),
 *      then on pairs with the rest (substream 4), climbing from the best pairs found.
 *      Every budget counts evaluated pairs: pairs_evaluated = pairs + angles + search.
 *
 * The search: batched moves with one adaptive step size per parent. Each batch gives
 * every parent B/P children. Three in four are random steps (x, y, or both moved by a
 * Gaussian step of angle ~sigma, or both moved by the same step, which keeps the angle
 * of near-parallel and near-antipodal pairs); one in four is a targeted flip: with v the
 * top eigenvector of the parent's deviation matrix, x or y is moved just across the
 * hyperplane of a row w_i whose (w_i.v)^2 the flip adds to (or removes from) v^T D v,
 * drawn with weight gain / distance (see flip_weights). The best child replaces its
 * parent if it is better (sigma *= 2, up to 1), else sigma /= 2, and a parent whose sigma
 * falls below 1e-6 restarts at sigma = 0.3. The diagonal search starts from a batch of
 * fresh random x (global coverage), the pair search from the best random/angle pairs
 * and the best diagonal.
 *
 * Why not GSL's Nelder-Mead: the objective is piecewise smooth and jumps wherever a row
 * of W changes sign on x or y (2n hyperplanes), and is flat in G between them, so a
 * simplex stalls on the jumps; and Nelder-Mead proposes one point at a time, while one
 * pair alone costs matrix-vector products over all n rows (memory bound) while a batch
 * of B pairs costs GEMMs running near peak: measured with tests/bench/bench_wdc, one
 * pair per call gives 11k pairs/s at (n, k) = (2000, 20) and 105k at (500, 10), a batch
 * of 128 gives 29k and 221k, so batched moves try 2-3x more candidates in the same
 * time, and the flips jump across cell boundaries by construction.
 *
 * The evaluator of the pairs is gpmc_wdc_eval (include/gpmc/wdc_eval.h,
 * src/numerics/wdc_eval.c). */
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"
#include "gpmc/stats.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_eval.h"

#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ===== the experiment =============================================================== */

enum { P_N, P_K, P_ENSEMBLE, P_PAIRS, P_SEARCH, P_EPS, P_STORE, P_ANGLES, P_BATCH, NPARAMS };

static const gpmc_param_def params[] = {
    {"n", GPMC_PARAM_INT, NULL, 1, 1e7, NULL, 0, "rows of W: the layer's output width"},
    {"k", GPMC_PARAM_INT, NULL, 1, 1e5, NULL, 0, "columns of W: the layer's input width"},
    {"ensemble", GPMC_PARAM_CHOICE, "gaussian", 0, 0, "gaussian|truncated", 0,
     "rows w_i ~ N(0, I_k/n) (alpha = 1), or truncated w_i 1{|w_i| <= 3 sqrt(k/n)} "
     "(Hand-Joshi; alpha = P(chi2_{k+2} <= 9k))"},
    {"pairs", GPMC_PARAM_INT, "2000", 1, 1e7, NULL, GPMC_PARAM_NOHASH,
     "random pairs (x, y independent uniform directions) per trial: the deviation's "
     "distribution and the search's starting points"},
    {"search", GPMC_PARAM_INT, "2000", 0, 1e8, NULL, GPMC_PARAM_NOHASH,
     "local-search evaluations per trial (a quarter, at least 1, on x = y) climbing from the best pairs"},
    /* Only the summary reads eps and only the output reads store_matrices: neither may
     * change the sampled W, so neither is hashed into the stream key. */
    {"eps", GPMC_PARAM_REAL_LIST, "0.05,0.1,0.2,0.5", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "thresholds: the summary reports P(eps_hat <= eps) for each"},
    {"store_matrices", GPMC_PARAM_BOOL, "false", 0, 1, NULL, GPMC_PARAM_NOHASH,
     "store every trial's W (n x k, row-major) to recompute eps_hat offline"},
    {"angles", GPMC_PARAM_INT, "256", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "angle-stratified pairs per trial: theta = 0, pi, 1e-9..1e-1 from either end, and a "
     "uniform grid over [0, pi]"},
    {"batch", GPMC_PARAM_INT, "128", 1, 4096, NULL, GPMC_PARAM_NOHASH,
     "pairs per batched evaluation (GEMM height); changes rounding only"},
};

enum {
    F_EPS_HAT, F_EPS_DIAG, F_EPS_RANDOM, F_DEV_MEAN, F_DEV_Q50, F_DEV_Q90, F_DEV_Q99,
    F_THETA, F_ALPHA, F_EVALS, F_WX, F_WY, F_WDIAG, F_W, NFIELDS
};

static const gpmc_field_def fields[] = {
    {"eps_hat", NULL, NULL, "eps", 0, "1",
     "largest ||W+x^T W+y - alpha Q_xy|| found over all evaluated pairs: a certified lower "
     "bound on eps_WDC(W), attained at (witness_x, witness_y)"},
    {"eps_hat_diag", NULL, NULL, NULL, 0, "1",
     "largest ||W+x^T W+x - alpha I/2|| found over evaluated x = y, attained at witness_diag "
     "(NaN if angles = search = 0)"},
    {"eps_hat_random", NULL, NULL, NULL, 0, "1",
     "largest deviation over the random pairs alone (what the search adds: eps_hat - this)"},
    {"dev_mean", NULL, NULL, NULL, 0, "1", "mean deviation over the random pairs"},
    {"dev_q50", NULL, NULL, NULL, 0, "1", "median deviation over the random pairs"},
    {"dev_q90", NULL, NULL, NULL, 0, "1", "0.9 quantile of the deviation over the random pairs"},
    {"dev_q99", NULL, NULL, NULL, 0, "1", "0.99 quantile of the deviation over the random pairs"},
    {"theta_hat", NULL, NULL, NULL, 0, "rad", "angle between witness_x and witness_y"},
    {"alpha", NULL, NULL, NULL, 0, "1", "scale of Q: E[W+x^T W+y] = alpha Q_xy for the ensemble"},
    {"pairs_evaluated", NULL, NULL, NULL, 0, "pairs",
     "pairs whose deviation was computed (random + angles + search)"},
    {"witness_x", "k", NULL, NULL, 0, "1", "unit x of the pair attaining eps_hat"},
    {"witness_y", "k", NULL, NULL, 0, "1", "unit y of the pair attaining eps_hat"},
    {"witness_diag", "k", NULL, NULL, 0, "1", "unit x attaining eps_hat_diag (y = x)"},
    {"W", "n,k", "store_matrices", NULL, 0, "1",
     "the sampled W (rows w_i): with the witnesses it recomputes eps_hat offline"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

/* The local search (see the top comment). */
#define SIGMA0 0.1
#define SIGMA_MAX 1.0
#define SIGMA_MIN 1e-6
#define SIGMA_RESTART 0.3
/* Parents of the local search: one per CHILDREN_PER_PARENT children in a batch. */
#define POOL_MAX 16
#define CHILDREN_PER_PARENT 16
/* A flip puts the row's hyperplane this far (relative angle) behind the moved vector,
 * far beyond rounding so the mask is unambiguous, and too little to change Q. */
#define FLIP_MARGIN 1e-6
/* Flip candidates are drawn with weight gain / (distance + FLIP_REACH): the gain is
 * discounted by how far x must move (distances are cosines, ~1/sqrt(k)). */
#define FLIP_REACH 0.02
/* Every FLIP_EVERY-th child of a parent is a targeted flip, the others random steps.
 * Measured (mean eps_hat, search = 2000, 3-8 trials): 1 in 4 beat random steps alone by
 * 1-6% at (n, k) = (500, 10), (100, 10), (2000, 20), and matched 1 in 2. */
#define FLIP_EVERY 4

/* The best few pairs seen, best first, with what the climber knows about each: its step
 * size and the unit eigenvector v of its deviation matrix D for the eigenvalue of
 * largest modulus, with that eigenvalue's sign (0: not known yet). */
typedef struct {
    size_t len, cap, k;
    double *x, *y;   /* cap x k */
    double *val;     /* cap */
    double *sigma;   /* cap */
    double *v;       /* cap x k */
    int *sgn;        /* cap */
} pool;

typedef struct {
    size_t n, k, pairs, search, angles, batch;
    int truncated;
    double *w;        /* n x k */
    double *wn2;      /* n: |w_i|^2 */
    gpmc_wdc_eval *ev;
    double *x, *y;    /* batch x k: the pairs being evaluated */
    double *dev;      /* batch */
    double *devr;     /* pairs: the random pairs' deviations */
    double *u;        /* k: scratch direction */
    size_t *parent;   /* batch: parent of each child */
    pool pairs_pool, diag_pool;
    /* a parent's rows: proj (n x 3) = W [x y v], and cumulative flip weights (n) */
    double *proj, *cum, *rhs; /* rhs: 3 x k, the vectors x, y, v as rows */
    /* eigenvectors: D, a copy for LAPACK, eigenvalues, eigenvector, LAPACK workspace */
    double *dmat, *ea, *ew, *ez, *ework;
    lapack_int *eiwork, isuppz[2], lwork, liwork;
    gpmc_symeig *eig;
    /* the record being built */
    double best, best_diag;
    double *bx, *by, *bd; /* k each */
    size_t evaluated;
    const gpmc_stream *stream; /* of the trial being run: polled for a stop between batches */
} wdc_ws;

static int pool_alloc(pool *p, size_t cap, size_t k)
{
    p->len = 0;
    p->cap = cap;
    p->k = k;
    p->x = malloc(cap * k * sizeof(double));
    p->y = malloc(cap * k * sizeof(double));
    p->val = malloc(cap * sizeof(double));
    p->sigma = malloc(cap * sizeof(double));
    p->v = malloc(cap * k * sizeof(double));
    p->sgn = malloc(cap * sizeof(int));
    return p->x && p->y && p->val && p->sigma && p->v && p->sgn ? GPMC_OK : GPMC_ENOMEM;
}

static void pool_free(pool *p)
{
    free(p->x);
    free(p->y);
    free(p->val);
    free(p->sigma);
    free(p->v);
    free(p->sgn);
}

/* Insert (x, y, v) if it is among the cap best; ties keep the earlier pair. */
static void pool_offer(pool *p, const double *x, const double *y, double v)
{
    size_t k = p->k;
    if (!(v >= 0) || (p->len == p->cap && v <= p->val[p->len - 1]))
        return;
    size_t pos = p->len < p->cap ? p->len : p->cap - 1;
    while (pos > 0 && p->val[pos - 1] < v) {
        p->val[pos] = p->val[pos - 1];
        memcpy(p->x + pos * k, p->x + (pos - 1) * k, k * sizeof(double));
        memcpy(p->y + pos * k, p->y + (pos - 1) * k, k * sizeof(double));
        pos--;
    }
    p->val[pos] = v;
    memcpy(p->x + pos * k, x, k * sizeof(double));
    memcpy(p->y + pos * k, y, k * sizeof(double));
    if (p->len < p->cap)
        p->len++;
}

static size_t param_size(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

/* W and the evaluator (the stacked outer products grow as n k^2, the eigensolvers as
 * k^2), pairs and pools: what wdc_alloc takes, saturating at SIZE_MAX. */
static size_t wdc_workspace_bytes(const gpmc_point *pt)
{
    size_t n = param_size(pt, P_N), k = param_size(pt, P_K);
    size_t bytes = gpmc_size_add(gpmc_wdc_eval_bytes(n, k, param_size(pt, P_BATCH)),
                          gpmc_size_mul(gpmc_size_mul(n, k + 5), sizeof(double)));
    bytes = gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_mul(k, k), 3 * sizeof(double)));
    return gpmc_size_add(bytes, gpmc_size_mul(param_size(pt, P_PAIRS), sizeof(double)));
}

/* Relative cost: per evaluated pair the masked stacked products (n k(k+1)/2), the
 * pre-activations (2 n k) and the k x k eigensolver (~k^3); plus sampling W (n k). */
static double wdc_trial_cost(const gpmc_point *pt)
{
    double n = (double)param_size(pt, P_N), k = (double)param_size(pt, P_K);
    double evals = (double)param_size(pt, P_PAIRS) + (double)param_size(pt, P_ANGLES) +
                   (double)param_size(pt, P_SEARCH);
    return evals * (n * k * (k + 1) / 2 + 2 * n * k + k * k * k) + n * k;
}

static int wdc_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    size_t n = param_size(pt, P_N), k = param_size(pt, P_K);
    if (k > n) {
        snprintf(msg, msglen, "k (=%zu) must be <= n (=%zu)", k, n);
        return 1;
    }
    /* Whether it fits is the driver's memory estimate (against this machine's memory);
     * here only what no machine has. */
    if (wdc_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "n (=%zu) and k (=%zu): the workspace size overflows", n, k);
        return 1;
    }
    return 0;
}

static void wdc_free(void *p)
{
    wdc_ws *ws = p;
    if (!ws)
        return;
    free(ws->w);
    free(ws->wn2);
    gpmc_wdc_eval_free(ws->ev);
    free(ws->x);
    free(ws->y);
    free(ws->dev);
    free(ws->devr);
    free(ws->u);
    free(ws->parent);
    pool_free(&ws->pairs_pool);
    pool_free(&ws->diag_pool);
    free(ws->proj);
    free(ws->cum);
    free(ws->rhs);
    free(ws->dmat);
    free(ws->ea);
    free(ws->ew);
    free(ws->ez);
    free(ws->ework);
    free(ws->eiwork);
    gpmc_symeig_free(ws->eig);
    free(ws->bx);
    free(ws->by);
    free(ws->bd);
    free(ws);
}

static void *wdc_alloc(const gpmc_point *pt)
{
    wdc_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->n = param_size(pt, P_N);
    ws->k = param_size(pt, P_K);
    ws->truncated = gpmc_point_int_at(pt, P_ENSEMBLE) == 1;
    ws->pairs = param_size(pt, P_PAIRS);
    ws->search = param_size(pt, P_SEARCH);
    ws->angles = param_size(pt, P_ANGLES);
    ws->batch = param_size(pt, P_BATCH);
    size_t n = ws->n, k = ws->k, B = ws->batch;
    size_t np = B / CHILDREN_PER_PARENT;
    np = np < 1 ? 1 : (np > POOL_MAX ? POOL_MAX : np);
    if (gpmc_size_mul(n, k) == SIZE_MAX || gpmc_size_mul(n, k) > SIZE_MAX / sizeof(double)) {
        free(ws);
        return NULL;
    }
    ws->w = malloc(n * k * sizeof(double));
    ws->wn2 = malloc(n * sizeof(double));
    ws->ev = gpmc_wdc_eval_alloc(n, k, B);
    ws->x = malloc(B * k * sizeof(double));
    ws->y = malloc(B * k * sizeof(double));
    ws->dev = malloc(B * sizeof(double));
    ws->devr = malloc(ws->pairs * sizeof(double));
    ws->u = malloc(k * sizeof(double));
    ws->parent = malloc(B * sizeof(size_t));
    ws->proj = malloc(3 * n * sizeof(double));
    ws->cum = malloc(n * sizeof(double));
    ws->rhs = malloc(3 * k * sizeof(double));
    ws->dmat = malloc(k * k * sizeof(double));
    ws->ea = malloc(k * k * sizeof(double));
    ws->ew = malloc(k * sizeof(double));
    ws->ez = malloc(k * sizeof(double));
    ws->eig = gpmc_symeig_alloc(k);
    ws->bx = malloc(k * sizeof(double));
    ws->by = malloc(k * sizeof(double));
    ws->bd = malloc(k * sizeof(double));
    int ok = pool_alloc(&ws->pairs_pool, np, k) == GPMC_OK &&
             pool_alloc(&ws->diag_pool, np, k) == GPMC_OK;
    if (ok && ws->ea && ws->ew && ws->ez) { /* dsyevr's workspace, from its size query */
        double wq;
        lapack_int iq, m;
        lapack_int info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', (lapack_int)k,
                                              ws->ea, (lapack_int)k, 0, 0, 1, 1, 0, &m, ws->ew,
                                              ws->ez, (lapack_int)k, ws->isuppz, &wq, -1, &iq, -1);
        ws->lwork = info == 0 ? (lapack_int)wq : 26 * (lapack_int)k;
        ws->liwork = info == 0 ? iq : 10 * (lapack_int)k;
        ws->ework = malloc((size_t)ws->lwork * sizeof(double));
        ws->eiwork = malloc((size_t)ws->liwork * sizeof(lapack_int));
        ok = ws->ework && ws->eiwork;
    }
    if (!ok || !ws->w || !ws->wn2 || !ws->ev || !ws->x || !ws->y || !ws->dev || !ws->devr ||
        !ws->u || !ws->parent || !ws->proj || !ws->cum || !ws->rhs || !ws->dmat ||
        !ws->ea || !ws->ew || !ws->ez || !ws->eig || !ws->bx || !ws->by || !ws->bd) {
        wdc_free(ws);
        return NULL;
    }
    return ws;
}

/* x <- x / |x|; a zero vector (probability 0) becomes e_1. */
static void normalize(double *x, size_t k)
{
    double s = gpmc_nrm2(x, k);
    if (!(s > 0)) {
        memset(x, 0, k * sizeof *x);
        x[0] = 1;
        return;
    }
    for (size_t i = 0; i < k; i++)
        x[i] /= s;
}

/* Fold one evaluated pair into the maxima: eps_hat always, eps_hat_diag when y = x. */
static void note_pair(wdc_ws *ws, const double *x, const double *y, double v, int diag)
{
    size_t k = ws->k;
    if (v > ws->best) {
        ws->best = v;
        memcpy(ws->bx, x, k * sizeof(double));
        memcpy(ws->by, y, k * sizeof(double));
    }
    if (diag && v > ws->best_diag) {
        ws->best_diag = v;
        memcpy(ws->bd, x, k * sizeof(double));
    }
}

/* Evaluate the nb pairs in ws->x, ws->y; fold every result into the record's maxima
 * (the diagonal ones into eps_hat_diag too) and offer it to `offer` (may be NULL). */
static int evaluate(wdc_ws *ws, size_t nb, int diag, pool *offer)
{
    size_t k = ws->k;
    int st = gpmc_stream_poll(ws->stream); /* every batch: a stop costs at most one */
    if (st != GPMC_OK)
        return st;
    st = gpmc_wdc_eval_pairs(ws->ev, ws->x, diag ? ws->x : ws->y, nb, ws->dev);
    if (st != GPMC_OK)
        return st;
    ws->evaluated += nb;
    for (size_t b = 0; b < nb; b++) {
        const double *x = ws->x + b * k, *y = diag ? x : ws->y + b * k;
        double v = ws->dev[b];
        note_pair(ws, x, y, v, diag);
        if (offer)
            pool_offer(offer, x, y, v);
    }
    return GPMC_OK;
}

static int phase_random(wdc_ws *ws, gsl_rng *r)
{
    size_t k = ws->k;
    for (size_t done = 0; done < ws->pairs;) {
        size_t nb = ws->pairs - done < ws->batch ? ws->pairs - done : ws->batch;
        for (size_t b = 0; b < nb; b++) {
            gpmc_rng_unit_vector(r, ws->x + b * k, k);
            gpmc_rng_unit_vector(r, ws->y + b * k, k);
        }
        int st = evaluate(ws, nb, 0, &ws->pairs_pool);
        if (st != GPMC_OK)
            return st;
        memcpy(ws->devr + done, ws->dev, nb * sizeof(double));
        done += nb;
    }
    return GPMC_OK;
}

/* The j-th stratified angle, as its distance delta from 0 (far = 0) or from pi (far = 1):
 * specials first (the most telling if the budget is small), then a uniform grid of the
 * remaining m angles over [0, pi], endpoints included. */
static void angle_at(size_t j, size_t total, double *delta, int *far)
{
    static const double special[] = {0, 1e-6, 1e-3, 1e-2, 1e-9, 1e-4, 1e-1};
    const size_t ns = 2 * (sizeof special / sizeof special[0]);
    if (j < ns) {
        *delta = special[j / 2];
        *far = (int)(j % 2);
        return;
    }
    size_t m = total - ns, i = j - ns;
    double t = m > 1 ? PI * (double)i / (double)(m - 1) : PI / 2;
    *far = t > PI / 2;
    *delta = *far ? (i == m - 1 ? 0 : PI - t) : t;
}

static int phase_angles(wdc_ws *ws, gsl_rng *r)
{
    size_t k = ws->k;
    for (size_t done = 0; done < ws->angles;) {
        size_t nb = ws->angles - done < ws->batch ? ws->angles - done : ws->batch;
        for (size_t b = 0; b < nb; b++) {
            double delta, *x = ws->x + b * k, *y = ws->y + b * k;
            int far;
            angle_at(done + b, ws->angles, &delta, &far);
            gpmc_rng_unit_vector(r, x, k);
            /* y = c x + s u, u a unit vector orthogonal to x; exact at theta = 0, pi. */
            double c = far ? -cos(delta) : cos(delta), s = sin(delta);
            if (delta == 0 || k == 1) {
                double sign = far ? -1.0 : 1.0;
                for (size_t i = 0; i < k; i++)
                    y[i] = sign * x[i];
                continue;
            }
            double proj;
            do {
                gpmc_rng_unit_vector(r, ws->u, k);
                proj = gpmc_dot(ws->u, x, k);
            } while (fabs(proj) > 0.99); /* keep the projected vector well conditioned */
            for (size_t i = 0; i < k; i++)
                ws->u[i] -= proj * x[i];
            normalize(ws->u, k);
            for (size_t i = 0; i < k; i++)
                y[i] = c * x[i] + s * ws->u[i];
        }
        int st = gpmc_wdc_eval_pairs(ws->ev, ws->x, ws->y, nb, ws->dev);
        if (st != GPMC_OK)
            return st;
        ws->evaluated += nb;
        for (size_t b = 0; b < nb; b++) {
            const double *x = ws->x + b * k, *y = ws->y + b * k;
            double v = ws->dev[b], delta;
            int far;
            angle_at(done + b, ws->angles, &delta, &far);
            int diag = delta == 0 && !far;
            note_pair(ws, x, y, v, diag);
            if (diag)
                pool_offer(&ws->diag_pool, x, x, v);
            pool_offer(&ws->pairs_pool, x, y, v);
        }
        done += nb;
    }
    return GPMC_OK;
}

/* x + sigma g / sqrt(k), normalized: a step of angle ~sigma (for small sigma). */
static void perturb(gsl_rng *r, const double *from, double sigma, size_t k, double *to)
{
    double sc = sigma / sqrt((double)k);
    for (size_t i = 0; i < k; i++)
        to[i] = from[i] + sc * gsl_ran_gaussian_ziggurat(r, 1.0);
    normalize(to, k);
}

/* For the deviation matrix d (k x k, both triangles): the unit eigenvector v of its
 * eigenvalue of largest modulus and that eigenvalue's sign (0 if LAPACK fails: the
 * parent then gets random moves only). */
static int direction(wdc_ws *ws, const double *d, double *v, int *sgn)
{
    size_t k = ws->k;
    double lmin, lmax;
    int st = gpmc_symeig_extreme(ws->eig, d, &lmin, &lmax);
    if (st != GPMC_OK)
        return st;
    int s = fabs(lmax) >= fabs(lmin) ? 1 : -1;
    lapack_int il = s > 0 ? (lapack_int)k : 1, m = 0;
    memcpy(ws->ea, d, k * k * sizeof(double));
    lapack_int info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', (lapack_int)k, ws->ea,
                                          (lapack_int)k, 0, 0, il, il, 0, &m, ws->ew, ws->ez,
                                          (lapack_int)k, ws->isuppz, ws->ework, ws->lwork,
                                          ws->eiwork, ws->liwork);
    *sgn = info == 0 && m == 1 ? s : 0;
    if (*sgn)
        memcpy(v, ws->ez, k * sizeof(double));
    return GPMC_OK;
}

/* Targeted moves. At a parent (x, y) with D v = lambda v, |lambda| = ||D||, the masked
 * Gram contributes (w_i.v)^2 to v^T D v for every row active on both x and y. If
 * lambda > 0, activating a row that is off on x or y (moving x or y just across its
 * hyperplane) adds (w_i.v)^2; if lambda < 0, deactivating a row on both subtracts it.
 * The objective is flat between hyperplanes (only Q varies there), so these jumps are
 * what random steps find only by luck. Candidates are weighted by gain over distance:
 * (w_i.v)^2 / (|w_i.x|/|w_i| + FLIP_REACH). Fills ws->proj and ws->cum; returns the
 * total weight (0: no candidate). */
static double flip_weights(wdc_ws *ws, const pool *p, size_t q, int diag)
{
    size_t n = ws->n, k = ws->k;
    double *pr = ws->proj, total = 0;
    int sgn = p->sgn[q];
    for (size_t c = 0; c < 3; c++) /* the columns x, y, v of the right-hand side */
        memcpy(ws->rhs + c * k, (c == 0 ? p->x : c == 1 ? p->y : p->v) + q * k,
               k * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, 3, (int)k, 1.0, ws->w, (int)k,
                ws->rhs, (int)k, 0.0, pr, 3);
    for (size_t i = 0; i < n; i++) {
        double wn = ws->wn2[i], g = 0;
        if (wn > 0) {
            double a = pr[3 * i], b = diag ? a : pr[3 * i + 1], c = pr[3 * i + 2];
            double inv = 1 / sqrt(wn), dist = -1;
            if (sgn > 0 && !(a > 0 && b > 0))
                dist = (a > 0 ? 0 : -a) + (diag || b > 0 ? 0 : -b);
            else if (sgn < 0 && a > 0 && b > 0)
                dist = diag || a <= b ? a : b;
            if (dist >= 0)
                g = c * c / (dist * inv + FLIP_REACH);
        }
        total += g;
        ws->cum[i] = total;
    }
    return total;
}

/* Child of parent q by the flip of a row drawn by weight (ws->proj, ws->cum current). */
static void flip_child(wdc_ws *ws, const pool *p, size_t q, int diag, double total, gsl_rng *r,
                       double *x, double *y)
{
    size_t n = ws->n, k = ws->k, lo = 0, hi = n - 1;
    double u = gsl_rng_uniform(r) * total;
    while (lo < hi) { /* first i with cum[i] > u */
        size_t mid = lo + (hi - lo) / 2;
        if (ws->cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    size_t i = lo;
    const double *wi = ws->w + i * k, *pr = ws->proj + 3 * i;
    double wn = ws->wn2[i], target = FLIP_MARGIN * sqrt(wn);
    double a = pr[0], b = diag ? a : pr[1];
    memcpy(x, p->x + q * k, k * sizeof(double));
    if (!diag)
        memcpy(y, p->y + q * k, k * sizeof(double));
    double tx = 0, ty = 0; /* steps along w_i */
    if (p->sgn[q] > 0) {
        tx = a > 0 ? 0 : (target - a) / wn;
        ty = diag || b > 0 ? 0 : (target - b) / wn;
    } else if (diag || a <= b) {
        tx = (-target - a) / wn;
    } else {
        ty = (-target - b) / wn;
    }
    for (size_t j = 0; j < k; j++) {
        x[j] += tx * wi[j];
        if (!diag)
            y[j] += ty * wi[j];
    }
    normalize(x, k);
    if (!diag)
        normalize(y, k);
}

/* Child of parent q by a random step: x, y, or both moved independently, or both by the
 * same step (which keeps the angle of near-parallel and near-antipodal pairs). */
static void random_child(const pool *p, size_t q, size_t move, int diag, gsl_rng *r, double *x,
                         double *y)
{
    size_t k = p->k;
    const double *px = p->x + q * k, *py = p->y + q * k;
    double sg = p->sigma[q];
    if (diag)
        move = 0;
    if (move == 3) {
        double sc = sg / sqrt((double)k);
        for (size_t i = 0; i < k; i++) {
            double g = sc * gsl_ran_gaussian_ziggurat(r, 1.0);
            x[i] = px[i] + g;
            y[i] = py[i] + g;
        }
        normalize(x, k);
        normalize(y, k);
        return;
    }
    if (move == 0 || move == 2)
        perturb(r, px, sg, k, x);
    else
        memcpy(x, px, k * sizeof(double));
    if (move == 1 || move == 2)
        perturb(r, py, sg, k, y);
    else if (!diag)
        memcpy(y, py, k * sizeof(double));
}

/* Local search from the pool's pairs with `budget` evaluations (see the top comment).
 * diag: x = y throughout. Children alternate between targeted flips and random steps;
 * the best child of each parent replaces it if better. The parents' eigenvectors at the
 * start come from one unbatched evaluation each (not counted: known pairs), later ones
 * from the batch that produced them. */
static int climb(wdc_ws *ws, pool *p, size_t budget, int diag, gsl_rng *r)
{
    size_t k = ws->k, np = p->len;
    if (np == 0 || budget == 0)
        return GPMC_OK;
    int st;
    for (size_t q = 0; q < np; q++) {
        p->sigma[q] = SIGMA0;
        const double *x = p->x + q * k;
        if ((st = gpmc_wdc_eval_matrix(ws->ev, x, diag ? x : p->y + q * k, ws->dmat)) != GPMC_OK ||
            (st = direction(ws, ws->dmat, p->v + q * k, &p->sgn[q])) != GPMC_OK)
            return st;
    }
    double bestc[POOL_MAX];
    size_t bestb[POOL_MAX] = {0};
    while (budget > 0) {
        size_t nb = budget < ws->batch ? budget : ws->batch;
        for (size_t q = 0; q < np && q < nb; q++) {
            double total = p->sgn[q] != 0 ? flip_weights(ws, p, q, diag) : 0;
            for (size_t b = q, j = 0; b < nb; b += np, j++) {
                double *x = ws->x + b * k, *y = ws->y + b * k;
                ws->parent[b] = q;
                if (FLIP_EVERY > 0 && j % FLIP_EVERY == FLIP_EVERY - 1 && total > 0)
                    flip_child(ws, p, q, diag, total, r, x, y);
                else
                    random_child(p, q, j % 4, diag, r, x, y);
            }
        }
        if ((st = evaluate(ws, nb, diag, NULL)) != GPMC_OK)
            return st;
        for (size_t q = 0; q < np; q++)
            bestc[q] = -1;
        for (size_t b = 0; b < nb; b++) {
            size_t q = ws->parent[b];
            if (ws->dev[b] > bestc[q]) {
                bestc[q] = ws->dev[b];
                bestb[q] = b;
            }
        }
        for (size_t q = 0; q < np; q++) {
            if (bestc[q] > p->val[q]) {
                size_t b = bestb[q];
                const double *x = ws->x + b * k, *y = (diag ? ws->x : ws->y) + b * k;
                p->val[q] = bestc[q];
                memcpy(p->x + q * k, x, k * sizeof(double));
                memcpy(p->y + q * k, y, k * sizeof(double));
                p->sigma[q] = fmin(2 * p->sigma[q], SIGMA_MAX);
                if ((st = gpmc_wdc_eval_batch_matrix(ws->ev, b, x, y, ws->dmat)) != GPMC_OK ||
                    (st = direction(ws, ws->dmat, p->v + q * k, &p->sgn[q])) != GPMC_OK)
                    return st;
            } else {
                p->sigma[q] *= 0.5;
                if (p->sigma[q] < SIGMA_MIN)
                    p->sigma[q] = SIGMA_RESTART;
            }
        }
        budget -= nb;
    }
    return GPMC_OK;
}

static int wdc_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    wdc_ws *ws = wsp;
    size_t n = ws->n, k = ws->k;
    double sigma = 1 / sqrt((double)n), alpha = 1;
    (void)pt;

    /* 1. W, first and alone on substream 0. */
    if (ws->truncated) {
        gpmc_rng_truncated_rows(s->r, sigma, 3 * sqrt((double)k / (double)n), n, k, ws->w);
        alpha = gpmc_theory_alpha_truncated(k);
    } else {
        gpmc_rng_gaussian(s->r, sigma, ws->w, n * k);
    }
    gpmc_wdc_eval_set_w(ws->ev, ws->w, alpha);
    for (size_t i = 0; i < n; i++)
        ws->wn2[i] = gpmc_dot(ws->w + i * k, ws->w + i * k, k);

    /* Everything below starts afresh: no state from an earlier trial is read. */
    ws->stream = s;
    ws->best = ws->best_diag = -1;
    ws->evaluated = 0;
    ws->pairs_pool.len = ws->diag_pool.len = 0;
    int st;

    /* 2., 3. random and angle-stratified pairs. */
    gpmc_stream_substream(s, 1);
    if ((st = phase_random(ws, s->r)) != GPMC_OK)
        return st;
    gpmc_stream_substream(s, 2);
    if ((st = phase_angles(ws, s->r)) != GPMC_OK)
        return st;

    /* 4. local search: the diagonal (a first batch of fresh random x to seed it beside
     * the theta = 0 pairs), then pairs, seeded by the best pairs and the best diagonal. */
    /* At least one x = y evaluation whenever there is a search budget, so eps_hat_diag is
     * NaN only when angles = search = 0, as documented (search < 4 rounded to none). */
    size_t sdiag = ws->search / 4, spairs;
    if (sdiag == 0 && ws->search > 0)
        sdiag = 1;
    spairs = ws->search - sdiag;
    gpmc_stream_substream(s, 3);
    if (sdiag > 0) {
        /* Seed batch: up to half the diagonal budget (at most one batch, at least the
         * pool's size) of fresh random x. */
        size_t nb = sdiag / 2 < ws->batch ? sdiag / 2 : ws->batch;
        if (nb < ws->diag_pool.cap)
            nb = ws->diag_pool.cap < sdiag ? ws->diag_pool.cap : sdiag;
        for (size_t b = 0; b < nb; b++)
            gpmc_rng_unit_vector(s->r, ws->x + b * k, k);
        if ((st = evaluate(ws, nb, 1, &ws->diag_pool)) != GPMC_OK)
            return st;
        if ((st = climb(ws, &ws->diag_pool, sdiag - nb, 1, s->r)) != GPMC_OK)
            return st;
    }
    gpmc_stream_substream(s, 4);
    if (ws->best_diag >= 0)
        pool_offer(&ws->pairs_pool, ws->bd, ws->bd, ws->best_diag);
    if ((st = climb(ws, &ws->pairs_pool, spairs, 0, s->r)) != GPMC_OK)
        return st;

    /* The record. */
    double sum = 0;
    for (size_t i = 0; i < ws->pairs; i++)
        sum += ws->devr[i];
    gpmc_sort(ws->devr, ws->pairs);
    gpmc_record_set(rec, F_EPS_HAT, ws->best >= 0 ? ws->best : NAN);
    gpmc_record_set(rec, F_EPS_DIAG, ws->best_diag >= 0 ? ws->best_diag : NAN);
    gpmc_record_set(rec, F_EPS_RANDOM, ws->devr[ws->pairs - 1]);
    gpmc_record_set(rec, F_DEV_MEAN, sum / (double)ws->pairs);
    gpmc_record_set(rec, F_DEV_Q50, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.50));
    gpmc_record_set(rec, F_DEV_Q90, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.90));
    gpmc_record_set(rec, F_DEV_Q99, gpmc_quantile_sorted(ws->devr, ws->pairs, 0.99));
    gpmc_record_set(rec, F_THETA, gpmc_angle(ws->bx, ws->by, k));
    gpmc_record_set(rec, F_ALPHA, alpha);
    gpmc_record_set(rec, F_EVALS, (double)ws->evaluated);
    memcpy(gpmc_record_field(rec, F_WX), ws->bx, k * sizeof(double));
    memcpy(gpmc_record_field(rec, F_WY), ws->by, k * sizeof(double));
    if (ws->best_diag >= 0)
        memcpy(gpmc_record_field(rec, F_WDIAG), ws->bd, k * sizeof(double));
    if (rec->layout->len[F_W] > 0)
        memcpy(gpmc_record_field(rec, F_W), ws->w, n * k * sizeof(double));
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_wdc = {
    .name = "wdc",
    .summary = "Weight Distribution Condition of one Gaussian (or truncated) layer: "
               "eps_hat = sup found of ||W+x^T W+y - alpha Q_xy|| (random, angle-stratified "
               "and locally searched pairs)",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = wdc_check,
    .workspace_alloc = wdc_alloc,
    .workspace_bytes = wdc_workspace_bytes,
    .trial_cost = wdc_trial_cost,
    .workspace_free = wdc_free,
    .trial = wdc_trial,
};
