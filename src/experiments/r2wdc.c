/* Experiment `r2wdc`: the range-restricted WDC of every layer of a d-layer Gaussian ReLU
 * network (MATH.md, Conditions 3; Cocola-Hand-Voroninski App. D eq. (41)), next to the
 * plain WDC of the same weights. Layer j (W = W_j, n_{j-1} -> n_j):
 *
 *   eps_j = sup |<(W_{+,r}^T W_{+,s} - Q_{r,s}) u, v>| / (|u| |v|) over
 *           r = G_{j-1}(x), s = G_{j-1}(y), u = G_{j-1}(x1) - G_{j-1}(x2),
 *           v = G_{j-1}(x3) - G_{j-1}(x4), x, y, x1..x4 in R^k.
 *
 * One trial: the network from substream 0 (so the budgets, not hashed, never change it),
 * then per layer j, on substreams 1 + 10 (j-1) + ...:
 *   +0..+3  the shared search (search.h) over tuples (x, y, x1, x2, x3, x4) (random,
 *           angle-stratified in the angle of x and y, the diagonal x = y, climbing), with
 *           the objective max(far, near) of r2wdc_eval.h: exact values at evaluated
 *           tuples, so the largest is a certified lower bound (eps_layer, witness);
 *   100..103 (absolute; layer 2 only, where W_1's cells can be listed: cell_max) the search
 *           over (x, y) alone whose objective is the near value maximised over every pair
 *           of cells for x1, x3 (r2wdc_pieces.h); its best pair's tuple is evaluated
 *           like the others and joins eps_layer;
 *   +8      span_tuples random tuples: their certified values join eps_layer, and the
 *           span-relaxed value ||B_U^T D B_V|| of each and of the best tuple gives
 *           span_layer (an upper bound over those cells at their (r, s), not on eps_j);
 *   +4..+7  wdc_layer, the plain WDC eps_hat of W_j over x, y in R^{n_{j-1}}: the shared
 *           search with the WDC evaluator (wdc_eval.h) when n_{j-1} <= wdc_full_max, else
 *           the diagonal x = y alone at wdc_diag random x (the stacked outer products
 *           grow as n_j n_{j-1}^2), which is where the rank argument acts: on a layer with
 *           fewer active rows than n_{j-1}, ||W_{+,x}^T W_{+,x} - I/2|| >= 1/2.
 * The search has no aim (no targeted flips); its crossing moves cross the boundaries of
 * layers 1..j in latent space, nu = Lambda_{l-1,x}^T w_{l,i} at the moved vector's piece
 * (net_cells.h), where the value jumps (layer j's masks at r, s) or is constant per piece
 * (near: x1's and x3's pieces). Measured on jobs/specs/r2wdc_width.ini (240 trials):
 * layer 2's eps_layer median +1.0%, mean +2.0% over random moves only, layer 1 unchanged. */
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/net.h"
#include "gpmc/net_cells.h"
#include "gpmc/r2wdc_eval.h"
#include "gpmc/r2wdc_pieces.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"
#include "gpmc/sizes.h"
#include "gpmc/wdc_eval.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_K, P_WIDTHS, P_TUPLES, P_ANGLES, P_SEARCH, P_SPAN, P_WDC_PAIRS,
    P_WDC_ANGLES, P_WDC_SEARCH, P_WDC_FULL_MAX, P_WDC_DIAG, P_CELL_PAIRS, P_CELL_MAX, P_EPS,
    P_BATCH, P_SEARCH_SEED, NPARAMS
};

#define MAX_DEPTH 8
#define MAX_WEIGHTS 4e6  /* sum of n_j n_{j-1}: one network's weights */
#define MAX_COST 2e12    /* trial_cost (flops): beyond, a trial takes many minutes */

static const gpmc_param_def params[] = {
    {"k", GPMC_PARAM_INT, "4", 1, 200, NULL, 0, "latent dimension (input width of W_1)"},
    {"widths", GPMC_PARAM_INT_LIST, "12,10", 1, 2000, NULL, 0,
     "layer widths n_1,...,n_d (at most 8 layers; d = their number): one network per spec"},
    {"tuples", GPMC_PARAM_INT, "256", 1, 1e6, NULL, GPMC_PARAM_NOHASH,
     "random tuples (x, y, x1..x4 uniform directions) per layer: the search's start"},
    {"angles", GPMC_PARAM_INT, "32", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "tuples per layer stratified in the angle of x and y (0, pi, near both, a grid)"},
    {"search", GPMC_PARAM_INT, "256", 0, 1e7, NULL, GPMC_PARAM_NOHASH,
     "climbing evaluations per layer (a quarter, at least 1, on x = y)"},
    {"span_tuples", GPMC_PARAM_INT, "8", 0, 1e5, NULL, GPMC_PARAM_NOHASH,
     "random tuples per layer whose span-relaxed value is computed besides the best one's"},
    {"wdc_pairs", GPMC_PARAM_INT, "64", 1, 1e6, NULL, GPMC_PARAM_NOHASH,
     "wdc_layer: random pairs (x, y) in R^{n_{j-1}} of the plain WDC search (full layers)"},
    {"wdc_angles", GPMC_PARAM_INT, "16", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "wdc_layer: angle-stratified pairs of the plain WDC search (full layers)"},
    {"wdc_search", GPMC_PARAM_INT, "64", 0, 1e7, NULL, GPMC_PARAM_NOHASH,
     "wdc_layer: climbing evaluations of the plain WDC search (full layers)"},
    {"wdc_full_max", GPMC_PARAM_INT, "200", 1, 400, NULL, GPMC_PARAM_NOHASH,
     "wdc_layer: layers with input width n_{j-1} above this evaluate only x = y, at "
     "wdc_diag random x (the full search's memory grows as n_j n_{j-1}^2)"},
    {"wdc_diag", GPMC_PARAM_INT, "4", 1, 1e4, NULL, GPMC_PARAM_NOHASH,
     "wdc_layer of wide layers: random x of ||W+x^T W+x - I/2|| (dsyrk + eigensolver)"},
    {"cell_pairs", GPMC_PARAM_INT, "256", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "layer 2, where layer 1's cells can be listed (cell_max): pairs (x, y) of a second "
     "search, each valued at its best pair of cells for x1 and x3 (all of them); its best "
     "tuple's certified value joins eps_layer. 0: none"},
    {"cell_max", GPMC_PARAM_INT, "256", 0, 4096, NULL, GPMC_PARAM_NOHASH,
     "layer 2 runs the cell_pairs search if W_1's arrangement is listed by at most this "
     "many points (2 sum_{i<k} C(n_1, i), for 2 sum_{i<k} C(n_1 - 1, i) cells); its cost "
     "per pair grows as the square of their number"},
    {"eps", GPMC_PARAM_REAL_LIST, "0.1,0.2,0.5", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "thresholds: the summary reports P(eps_hat <= eps) for each"},
    {"batch", GPMC_PARAM_INT, "16", 1, 256, NULL, GPMC_PARAM_NOHASH,
     "tuples per batched evaluation; changes rounding only"},
    GPMC_SEARCH_SEED_PARAM,
};

enum {
    F_EPS_HAT, F_EPS_SPAN, F_EPS_WDC, F_EVALS, F_EPS_LAYER, F_SPAN_LAYER, F_WDC_LAYER,
    F_WDC_DIAG_ONLY, F_CELLS_LISTED, F_WITNESS, NFIELDS
};

static const gpmc_field_def fields[] = {
    {"eps_hat", NULL, NULL, "eps", 0, "1",
     "max over layers of eps_layer: a certified lower bound on eps_R2WDC"},
    {"eps_span", NULL, NULL, NULL, 0, "1",
     "max over layers of span_layer (span-relaxed: NOT a lower bound on eps_R2WDC)"},
    {"eps_wdc", NULL, NULL, NULL, 0, "1", "max over layers of wdc_layer (plain WDC)"},
    {"tuples_evaluated", NULL, NULL, NULL, 0, "tuples",
     "R2WDC tuples whose certified value was computed, all layers"},
    {"eps_layer", "#widths", NULL, NULL, 0, "1",
     "per layer j: largest max(far, near) deviation over evaluated tuples, a certified "
     "lower bound on eps_j (far: u, v output differences; near: u, v in range(Lambda_{j-1}) "
     "at x1, x3), attained at witness[j]"},
    {"span_layer", "#widths", NULL, NULL, 0, "1",
     "per layer j: max of ||B_U^T (W+r^T W+s - Q_rs) B_V||, U = span(Lambda_x1, Lambda_x2), "
     "V = span(Lambda_x3, Lambda_x4), over the best and span_tuples random tuples: an upper "
     "bound over their cells, >= eps_layer; not a bound on eps_j"},
    {"wdc_layer", "#widths", NULL, NULL, 0, "1",
     "per layer j: plain WDC eps_hat of W_j over x, y in R^{n_{j-1}} (x = y only when "
     "wdc_diag_only = 1): a certified lower bound on eps_WDC(W_j)"},
    {"wdc_diag_only", "#widths", NULL, NULL, 0, "1",
     "per layer j: 1 if wdc_layer evaluated x = y only (n_{j-1} > wdc_full_max), 0 if the "
     "full WDC search"},
    {"cells_listed", "#widths", NULL, NULL, 0, "cells",
     "per layer j: the cells of G_{j-1} over all pairs of which the cell_pairs search "
     "maximised the near value (layer 2 only, when W_1's arrangement is listed by <= "
     "cell_max points); 0 if not run"},
    {"witness", "#widths,6,k", NULL, NULL, 0, "1",
     "per layer j: the tuple (x, y, x1, x2, x3, x4) attaining eps_layer, each row of norm 1"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    size_t depth, k, batch, ntup, nspan;
    size_t width[MAX_DEPTH + 1];
    gpmc_net *net;
    gpmc_r2wdc_eval *ev;
    gpmc_search *srch;
    size_t layer;                       /* the layer the search's objective evaluates */
    gpmc_wdc_eval *wev[MAX_DEPTH];      /* full plain-WDC layers */
    gpmc_search *wsrch[MAX_DEPTH];
    gpmc_wdc_diag *wdiag[MAX_DEPTH];    /* diagonal-only layers */
    double *tup;                        /* 6 x batch x k: span tuples, vector-major */
    double *val, *span;                 /* batch */
    double *xd;                         /* max width: a diagonal x */
    gpmc_net_cells *cells;              /* the pieces' boundaries: the crossing moves */
    gpmc_r2wdc_pieces *pieces;          /* layer 2 over all cell pairs (NULL: not run) */
    size_t npieces;                     /* the cells listed for this trial */
    gpmc_search *psrch;                 /* its search over (x, y) */
    double *ptup;                       /* 6 x k: its tuple */
} r2_ws;

static const size_t tie6[6] = {0, 0, 2, 3, 4, 5}; /* x = y */
static const size_t tie2[2] = {0, 0};

static size_t psz(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

/* width[0..depth] of the point; depth 0 if the list is longer than MAX_DEPTH. */
static size_t point_widths(const gpmc_point *pt, size_t *width)
{
    const gpmc_value *w = &pt->values[P_WIDTHS];
    if (w->len > MAX_DEPTH)
        return 0;
    width[0] = psz(pt, P_K);
    for (size_t i = 0; i < w->len; i++)
        width[i + 1] = (size_t)w->list[i];
    return w->len;
}

static int full_wdc(const gpmc_point *pt, size_t n_in) { return n_in <= psz(pt, P_WDC_FULL_MAX); }

/* Layer 2's cell-pairs search runs: two layers or more, a budget, few enough cells (and
 * k <= GPMC_R2WDC_PIECES_KMAX). */
static int pieces_on(const gpmc_point *pt, const size_t *width, size_t d)
{
    return d >= 2 && psz(pt, P_CELL_PAIRS) > 0 &&
           gpmc_r2wdc_pieces_bytes(width, psz(pt, P_CELL_MAX), psz(pt, P_BATCH)) != SIZE_MAX;
}

static int pieces_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    r2_ws *ws = ctx;
    return gpmc_r2wdc_pieces_eval(ws->pieces, t[0], t[1], nb, val);
}

static int r2_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    r2_ws *ws = ctx;
    return gpmc_r2wdc_eval_tuples(ws->ev, ws->layer, t, nb, val, NULL, NULL);
}

/* The tuples' objective at the current layer; crossings of the boundaries of layers
 * 1..j in latent space (gpmc_net_cells; cells NULL: for sizing only). */
static gpmc_search_objective r2_objective(const size_t *width, size_t depth, size_t batch,
                                          r2_ws *ws)
{
    gpmc_search_objective o = {.m = 6, .k = width[0], .batch = batch,
                               .nnormals = gpmc_net_cells_max(width, depth), .ctx = ws,
                               .eval = r2_values, .aim = NULL,
                               .cell = gpmc_net_cells_normals,
                               .cell_ctx = ws ? ws->cells : NULL};
    return o;
}

/* The cell-pairs search's objective: pairs (x, y), crossings of layers 1..2. */
static gpmc_search_objective pieces_objective(const size_t *width, size_t depth, size_t batch,
                                              r2_ws *ws)
{
    gpmc_search_objective o = r2_objective(width, depth, batch, ws);
    o.m = 2;
    o.eval = pieces_values;
    return o;
}

static size_t r2_workspace_bytes(const gpmc_point *pt)
{
    size_t width[MAX_DEPTH + 1], d = point_widths(pt, width), B = psz(pt, P_BATCH);
    if (d == 0)
        return SIZE_MAX;
    size_t k = width[0], wmax = 0, bytes = 0;
    for (size_t j = 0; j <= d; j++)
        wmax = width[j] > wmax ? width[j] : wmax;
    for (size_t j = 1; j <= d; j++) {
        bytes = gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_mul(width[j], width[j - 1]), 8));
        if (full_wdc(pt, width[j - 1])) {
            gpmc_search_objective o = gpmc_wdc_search_objective(width[j], width[j - 1], B, NULL);
            bytes = gpmc_size_add(bytes, gpmc_wdc_eval_bytes(width[j], width[j - 1], B));
            bytes = gpmc_size_add(bytes, gpmc_search_bytes(&o));
        } else {
            bytes = gpmc_size_add(bytes, gpmc_wdc_diag_bytes(width[j], width[j - 1]));
        }
    }
    gpmc_search_objective o = r2_objective(width, d, B, NULL);
    bytes = gpmc_size_add(bytes, gpmc_search_bytes(&o));
    bytes = gpmc_size_add(bytes, gpmc_net_cells_bytes(width, d));
    bytes = gpmc_size_add(bytes, gpmc_r2wdc_eval_bytes(width, d, B));
    if (pieces_on(pt, width, d)) {
        gpmc_search_objective po = pieces_objective(width, d, B, NULL);
        bytes = gpmc_size_add(bytes, gpmc_search_bytes(&po));
        bytes = gpmc_size_add(bytes, gpmc_r2wdc_pieces_bytes(width, psz(pt, P_CELL_MAX), B));
        bytes = gpmc_size_add(bytes, gpmc_size_mul(6 * sizeof(double), k));
    }
    size_t dbl = gpmc_size_add(gpmc_size_mul(gpmc_size_mul(6, B), k), gpmc_size_mul(2, B));
    return gpmc_size_add(bytes, gpmc_size_mul(gpmc_size_add(dbl, wmax), 8));
}

/* Flops: per R2WDC tuple the forward pass of 6 vectors, Z (4 rows), and for near (2
 * bases) and span (2 bases of 2k) the Lambda products, SVDs (~6 n c^2), C = B W^T and
 * B^T B; per WDC pair the stacked products and eigensolver, per diagonal x dsyrk + dsyev. */
static double r2_trial_cost(const gpmc_point *pt)
{
    size_t width[MAX_DEPTH + 1], d = point_widths(pt, width);
    if (d == 0)
        return INFINITY;
    double k = (double)width[0], cost = 0, pre = 0;
    double ntup = (double)(psz(pt, P_TUPLES) + psz(pt, P_ANGLES) + psz(pt, P_SEARCH));
    double nspan = (double)psz(pt, P_SPAN) + 1;
    for (size_t j = 1; j <= d; j++) {
        double n = (double)width[j - 1], nj = (double)width[j];
        double basis = 2 * k * pre + 6 * n * k * k + 2 * k * n * nj + 2 * k * k * (n + nj);
        cost += ntup * (12 * pre + 8 * n * nj + 2 * basis) + nspan * (20 * pre + 8 * basis);
        if (full_wdc(pt, width[j - 1])) {
            double np = (double)(psz(pt, P_WDC_PAIRS) + psz(pt, P_WDC_ANGLES) +
                                 psz(pt, P_WDC_SEARCH));
            cost += np * (nj * n * (n + 1) + 4 * nj * n + 4 * n * n * n);
        } else {
            cost += (double)psz(pt, P_WDC_DIAG) * (nj * n * n + 4 * n * n * n);
        }
        pre += 2 * n * nj; /* the forward pass of one vector to layer j */
    }
    if (pieces_on(pt, width, d)) {
        /* per pair D (the stacked products of W_2), G = (B D) B^T, the blocks' screen and
         * a few block norms; per cell one SVD of Lambda */
        double n1 = (double)width[1], n2 = (double)width[2];
        double c = (double)gpmc_r2wdc_pieces_count(width[0], width[1]);
        double R = fmin(k, n1) * c;
        double pair = 4 * n1 * k + n2 * n1 * (n1 + 1) + 2 * R * n1 * (R + n1) + 2 * R * R +
                      64 * k * k * k;
        cost += (double)psz(pt, P_CELL_PAIRS) * pair + c * (2 * n1 * k + 6 * n1 * k * k);
    }
    return cost;
}

static int r2_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    size_t width[MAX_DEPTH + 1], d = point_widths(pt, width);
    if (d == 0) {
        snprintf(msg, msglen, "widths: at most %d layers (got %zu)", MAX_DEPTH,
                 pt->values[P_WIDTHS].len);
        return 1;
    }
    double weights = 0;
    for (size_t j = 1; j <= d; j++)
        weights += (double)width[j] * (double)width[j - 1];
    if (weights > MAX_WEIGHTS) {
        snprintf(msg, msglen, "k and widths: %.3g weights, more than %.0e", weights, MAX_WEIGHTS);
        return 1;
    }
    double cost = r2_trial_cost(pt);
    if (cost > MAX_COST) {
        snprintf(msg, msglen,
                 "k, widths and the budgets (tuples, angles, search, span_tuples, wdc_*, "
                 "cell_pairs, cell_max): "
                 "%.3g flops per trial, more than %.0e", cost, MAX_COST);
        return 1;
    }
    if (r2_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "k and widths: the workspace size overflows");
        return 1;
    }
    return 0;
}

static void r2_free(void *p)
{
    r2_ws *ws = p;
    if (!ws)
        return;
    for (size_t j = 0; j < MAX_DEPTH; j++) {
        gpmc_wdc_eval_free(ws->wev[j]);
        gpmc_search_free(ws->wsrch[j]);
        gpmc_wdc_diag_free(ws->wdiag[j]);
    }
    gpmc_search_free(ws->srch);
    gpmc_search_free(ws->psrch);
    gpmc_r2wdc_pieces_free(ws->pieces);
    free(ws->ptup);
    gpmc_net_cells_free(ws->cells);
    gpmc_r2wdc_eval_free(ws->ev);
    gpmc_net_free(ws->net);
    free(ws->tup);
    free(ws->val);
    free(ws->span);
    free(ws->xd);
    free(ws);
}

static void *r2_alloc(const gpmc_point *pt)
{
    r2_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->depth = point_widths(pt, ws->width);
    ws->k = ws->width[0];
    ws->batch = psz(pt, P_BATCH);
    ws->nspan = psz(pt, P_SPAN);
    size_t d = ws->depth, k = ws->k, B = ws->batch, wmax = 0;
    if (d == 0) {
        free(ws);
        return NULL;
    }
    for (size_t j = 0; j <= d; j++)
        wmax = ws->width[j] > wmax ? ws->width[j] : wmax;
    ws->net = gpmc_net_alloc(d, ws->width);
    if (ws->net) {
        ws->ev = gpmc_r2wdc_eval_alloc(ws->net, B);
        ws->cells = gpmc_net_cells_alloc(ws->net);
        gpmc_search_objective o = r2_objective(ws->width, d, B, ws);
        ws->srch = ws->cells ? gpmc_search_alloc(&o) : NULL;
    }
    int ok = ws->net && ws->ev && ws->cells && ws->srch;
    if (ok && pieces_on(pt, ws->width, d)) {
        ws->pieces = gpmc_r2wdc_pieces_alloc(ws->net, psz(pt, P_CELL_MAX), B);
        gpmc_search_objective o = pieces_objective(ws->width, d, B, ws);
        ws->psrch = ws->pieces ? gpmc_search_alloc(&o) : NULL;
        ws->ptup = malloc(6 * k * sizeof(double));
        ok = ws->psrch && ws->ptup;
    }
    for (size_t j = 1; ok && j <= d; j++) {
        size_t n = ws->width[j], in = ws->width[j - 1];
        if (full_wdc(pt, in)) {
            ws->wev[j - 1] = gpmc_wdc_eval_alloc(n, in, B);
            if (ws->wev[j - 1]) {
                gpmc_search_objective o = gpmc_wdc_search_objective(n, in, B, ws->wev[j - 1]);
                ws->wsrch[j - 1] = gpmc_search_alloc(&o);
            }
            ok = ws->wsrch[j - 1] != NULL;
        } else {
            ws->wdiag[j - 1] = gpmc_wdc_diag_alloc(n, in);
            ok = ws->wdiag[j - 1] != NULL;
        }
    }
    ws->tup = malloc(6 * B * k * sizeof(double));
    ws->val = malloc(B * sizeof(double));
    ws->span = malloc(B * sizeof(double));
    ws->xd = malloc(wmax * sizeof(double));
    if (!ok || !ws->tup || !ws->val || !ws->span || !ws->xd) {
        r2_free(ws);
        return NULL;
    }
    return ws;
}

/* Certified and span-relaxed values of nb tuples in ws->tup (vector-major): eps and the
 * witness follow a larger certified value; *span gets max(span-relaxed, certified). */
static int span_batch(r2_ws *ws, size_t j, size_t nb, double *eps, double *wit, double *span)
{
    size_t k = ws->k;
    const double *t[6];
    for (size_t v = 0; v < 6; v++)
        t[v] = ws->tup + v * nb * k;
    int st = gpmc_r2wdc_eval_tuples(ws->ev, j, t, nb, ws->val, NULL, NULL);
    if (st == GPMC_OK)
        st = gpmc_r2wdc_eval_span(ws->ev, j, t, nb, ws->span);
    if (st != GPMC_OK)
        return st;
    for (size_t b = 0; b < nb; b++) {
        /* exact arithmetic has span >= value; the max only absorbs rounding */
        *span = fmax(*span, fmax(ws->span[b], ws->val[b]));
        if (ws->val[b] > *eps) {
            *eps = ws->val[b];
            for (size_t v = 0; v < 6; v++)
                memcpy(wit + v * k, t[v] + b * k, k * sizeof(double));
        }
    }
    return GPMC_OK;
}

/* Layer 2 over all cell pairs of x1, x3: a search over (x, y) on substreams 100..103 whose
 * objective is gpmc_r2wdc_pieces_eval; its best pair's tuple is evaluated like every other
 * and replaces the witness if its certified value is larger. */
static int pieces_stage(r2_ws *ws, gpmc_stream *s, const gpmc_point *pt, double *eps,
                        double *wit, size_t *evals)
{
    int st = gpmc_r2wdc_pieces_set(ws->pieces, &ws->npieces);
    if (st != GPMC_OK)
        return st;
    size_t n = psz(pt, P_CELL_PAIRS), random = (n + 3) / 4, angles = n / 8;
    gpmc_search_plan plan = {.random = random, .angles = angles, .angle_a = 0, .angle_b = 1,
                             .search = n - random - angles, .tie = tie2, .substream = 100,
                             .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
    if ((st = gpmc_search_run(ws->psrch, s, &plan)) != GPMC_OK)
        return st;
    const double *bt;
    gpmc_search_best(ws->psrch, 0, &bt);
    size_t k = ws->k;
    if ((st = gpmc_r2wdc_pieces_tuple(ws->pieces, bt, bt + k, ws->ptup, NULL)) != GPMC_OK)
        return st;
    const double *t[6];
    for (size_t v = 0; v < 6; v++)
        t[v] = ws->ptup + v * k;
    double val;
    if ((st = gpmc_r2wdc_eval_tuples(ws->ev, 2, t, 1, &val, NULL, NULL)) != GPMC_OK)
        return st;
    *evals += 1;
    if (val > *eps) {
        *eps = val;
        memcpy(wit, ws->ptup, 6 * k * sizeof(double));
    }
    return GPMC_OK;
}

/* Layer j's R2WDC: the search, then the span tuples. */
static int r2_layer(r2_ws *ws, gpmc_stream *s, const gpmc_point *pt, size_t j, uint32_t sub,
                    double *eps, double *span, double *wit, size_t *evals)
{
    size_t k = ws->k;
    ws->layer = j;
    gpmc_net_cells_set_layers(ws->cells, j);
    gpmc_search_plan plan = {.random = psz(pt, P_TUPLES), .angles = psz(pt, P_ANGLES),
                             .angle_a = 0, .angle_b = 1, .search = psz(pt, P_SEARCH),
                             .tie = tie6, .substream = sub,
                             .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
    int st = gpmc_search_run(ws->srch, s, &plan);
    if (st != GPMC_OK)
        return st;
    const double *bt;
    *eps = gpmc_search_best(ws->srch, 0, &bt);
    *evals += gpmc_search_evaluated(ws->srch);
    memcpy(wit, bt, 6 * k * sizeof(double));
    if (j == 2 && ws->pieces && (st = pieces_stage(ws, s, pt, eps, wit, evals)) != GPMC_OK)
        return st;
    *span = -1;
    /* The best tuple first, alone: its span value keeps span_layer >= eps_layer. */
    for (size_t v = 0; v < 6; v++)
        memcpy(ws->tup + v * k, wit + v * k, k * sizeof(double));
    double e0 = *eps;
    if ((st = span_batch(ws, j, 1, eps, wit, span)) != GPMC_OK)
        return st;
    *eps = fmax(*eps, e0);
    /* the random span tuples move with the search's draws (search_seed) */
    gpmc_stream_substream(s, gpmc_search_substream(sub + 8, gpmc_search_draws(pt, P_SEARCH_SEED)));
    for (size_t done = 0; done < ws->nspan;) {
        size_t nb = ws->nspan - done < ws->batch ? ws->nspan - done : ws->batch;
        for (size_t v = 0; v < 6; v++)
            for (size_t b = 0; b < nb; b++)
                gpmc_rng_unit_vector(s->r, ws->tup + (v * nb + b) * k, k);
        if ((st = span_batch(ws, j, nb, eps, wit, span)) != GPMC_OK)
            return st;
        done += nb;
        *evals += nb;
        if ((st = gpmc_stream_poll(s)) != GPMC_OK)
            return st;
    }
    return GPMC_OK;
}

/* Layer j's plain WDC eps_hat over R^{n_{j-1}}. */
static int wdc_layer(r2_ws *ws, gpmc_stream *s, const gpmc_point *pt, size_t j, uint32_t sub,
                     double *out)
{
    size_t n = ws->width[j], in = ws->width[j - 1];
    const double *W = ws->net->W[j - 1];
    if (ws->wev[j - 1]) {
        gpmc_wdc_eval_set_w(ws->wev[j - 1], W, 1);
        gpmc_search_set_normals(ws->wsrch[j - 1], W, n);
        gpmc_search_plan plan = {.random = psz(pt, P_WDC_PAIRS), .angles = psz(pt, P_WDC_ANGLES),
                                 .angle_a = 0, .angle_b = 1, .search = psz(pt, P_WDC_SEARCH),
                                 .tie = tie2, .substream = sub,
                                 .draws = gpmc_search_draws(pt, P_SEARCH_SEED)};
        int st = gpmc_search_run(ws->wsrch[j - 1], s, &plan);
        if (st != GPMC_OK)
            return st;
        *out = gpmc_search_best(ws->wsrch[j - 1], 0, NULL);
        return GPMC_OK;
    }
    gpmc_stream_substream(s, gpmc_search_substream(sub, gpmc_search_draws(pt, P_SEARCH_SEED)));
    double best = -1;
    for (size_t i = 0; i < psz(pt, P_WDC_DIAG); i++) {
        double dev;
        gpmc_rng_unit_vector(s->r, ws->xd, in);
        int st = gpmc_wdc_diag_eval(ws->wdiag[j - 1], W, 1, ws->xd, &dev, NULL, NULL);
        if (st == GPMC_OK)
            st = gpmc_stream_poll(s);
        if (st != GPMC_OK)
            return st;
        best = fmax(best, dev);
    }
    *out = best;
    return GPMC_OK;
}

static int r2_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    r2_ws *ws = wsp;
    size_t d = ws->depth, k = ws->k, evals = 0;
    gpmc_net_sample(ws->net, s->r, GPMC_WEIGHTS_GAUSSIAN);
    double *el = gpmc_record_field(rec, F_EPS_LAYER), *sl = gpmc_record_field(rec, F_SPAN_LAYER);
    double *wl = gpmc_record_field(rec, F_WDC_LAYER), *dl = gpmc_record_field(rec, F_WDC_DIAG_ONLY);
    double *wit = gpmc_record_field(rec, F_WITNESS), *pl = gpmc_record_field(rec, F_CELLS_LISTED);
    double eh = 0, es = 0, ew = 0;
    for (size_t j = 1; j <= d; j++) {
        uint32_t sub = (uint32_t)(1 + 10 * (j - 1));
        int st = r2_layer(ws, s, pt, j, sub, &el[j - 1], &sl[j - 1], wit + (j - 1) * 6 * k,
                          &evals);
        if (st == GPMC_OK)
            st = wdc_layer(ws, s, pt, j, sub + 4, &wl[j - 1]);
        if (st != GPMC_OK)
            return st;
        dl[j - 1] = ws->wev[j - 1] ? 0 : 1;
        pl[j - 1] = j == 2 && ws->pieces ? (double)ws->npieces : 0;
        eh = fmax(eh, el[j - 1]);
        es = fmax(es, sl[j - 1]);
        ew = fmax(ew, wl[j - 1]);
    }
    gpmc_record_set(rec, F_EPS_HAT, eh);
    gpmc_record_set(rec, F_EPS_SPAN, es);
    gpmc_record_set(rec, F_EPS_WDC, ew);
    gpmc_record_set(rec, F_EVALS, (double)evals);
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_r2wdc = {
    .name = "r2wdc",
    .summary = "Range-restricted WDC (R2WDC) of each layer of a d-layer Gaussian ReLU network: "
               "certified eps_hat per layer (searched tuples x, y, x1..x4), its span-relaxed "
               "value, and the plain WDC of the same W_j",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = r2_check,
    .workspace_alloc = r2_alloc,
    .workspace_bytes = r2_workspace_bytes,
    .trial_cost = r2_trial_cost,
    .workspace_free = r2_free,
    .trial = r2_trial,
};
