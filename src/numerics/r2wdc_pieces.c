/* Layer 2's near value over every pair of pieces (include/gpmc/r2wdc_pieces.h).
 *
 * set(): the cells of W_1 from gpmc_wdc_cells, deduplicated by their masks; per cell the
 * basis of range(Lambda_{1,c}) (net.h's Lambda rows, linalg.h's range basis, as the R2WDC
 * evaluator's), as consecutive rows of B (R x n_1). eval(): per pair D, then G = (B D) B^T, whose block
 * (c, c') is B_c^T D B_c', and the largest block norm with the Frobenius screen. */
#include "gpmc/r2wdc_pieces.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/sizes.h"
#include "gpmc/wdc_cells.h"
#include "gpmc/wdc_eval.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CELL_BATCH 64

struct gpmc_r2wdc_pieces {
    const gpmc_net *net;
    size_t k, n1, ncells, npieces, rmax; /* rmax = min(k, n1) */
    gpmc_wdc_cells *cells;
    gpmc_wdc_eval *wev;                  /* W_2: D of a pair */
    gpmc_net sub;                        /* the network cut to layer 1: G_1 */
    gpmc_net_trace *tr;                  /* max(batch, CELL_BATCH) rows of G_1 */
    double *rs;                          /* batch x n1: G_1 of a batch's x (its y stay in tr) */
    double *pts;                         /* ncells x k: the pieces' points */
    unsigned char *mask;                 /* ncells x n1 */
    size_t *rank, *off;                  /* per piece: rows of B */
    double *b, *t, *g;                   /* R x n1, R x n1, R x R (R <= rmax ncells) */
    double *fro;                         /* ncells^2: the blocks' |.|_F^2 */
    double *cand;                        /* CELL_BATCH x k */
    double *d;                           /* n1 x n1 */
    double *lam, *lscr, *sv, *work;      /* Lambda_1 (n1 x k), its scratch; its dgesvd */
    double *kk, *nwork;                  /* a block and gpmc_norm2's work */
    size_t lwork, rows;                  /* rows = R of the current W_1 */
    size_t best_c, best_c2;              /* the last pair's maximising pieces */
};

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

size_t gpmc_r2wdc_pieces_count(size_t k, size_t n1) { return gpmc_wdc_cells_count(n1, k); }

/* Doubles of the arrays for k, n1 and c cells; SIZE_MAX on overflow. */
static size_t doubles(size_t k, size_t n1, size_t c)
{
    size_t R = gpmc_size_mul(min_sz(k, n1), c);
    size_t d = gpmc_size_mul(c, k);                                   /* pts */
    d = gpmc_size_add(d, gpmc_size_mul(2, gpmc_size_mul(R, n1)));    /* b, t */
    d = gpmc_size_add(d, gpmc_size_mul(R, R));                       /* g */
    d = gpmc_size_add(d, gpmc_size_mul(c, c));                       /* fro */
    d = gpmc_size_add(d, gpmc_size_mul(CELL_BATCH, k));              /* cand */
    d = gpmc_size_add(d, gpmc_size_mul(n1, n1));
    size_t wk = gpmc_size_mul(k, k > n1 ? k : n1);
    d = gpmc_size_add(d, gpmc_size_add(gpmc_size_mul(2, wk), k));    /* lam, lscr, sv */
    d = gpmc_size_add(d, gpmc_svd_lwork(n1, k));
    d = gpmc_size_add(d, gpmc_size_mul(k, k));                       /* kk */
    return gpmc_size_add(d, gpmc_norm2_worksize(k, k));
}

size_t gpmc_r2wdc_pieces_bytes(const size_t *width, size_t max_cells, size_t batch)
{
    size_t k = width[0], n1 = width[1], n2 = width[2], c = gpmc_r2wdc_pieces_count(k, n1);
    if (k == 0 || k > GPMC_R2WDC_PIECES_KMAX || c == SIZE_MAX || c > max_cells)
        return SIZE_MAX;
    size_t rows = batch > CELL_BATCH ? batch : CELL_BATCH, wmax = k > n1 ? k : n1;
    size_t dbl = gpmc_size_add(doubles(k, n1, c), gpmc_size_mul(batch, n1)); /* rs */
    dbl = gpmc_size_add(dbl, gpmc_size_mul(rows, gpmc_size_add(k + n1, wmax))); /* tr */
    size_t by = gpmc_size_mul(dbl, sizeof(double));
    by = gpmc_size_add(by, gpmc_size_mul(c, n1));                            /* mask */
    by = gpmc_size_add(by, gpmc_size_mul(gpmc_size_mul(2, c), sizeof(size_t)));
    by = gpmc_size_add(by, gpmc_wdc_cells_bytes(n1, k, CELL_BATCH));
    return gpmc_size_add(by, gpmc_wdc_eval_bytes(n2, n1, 1));
}

void gpmc_r2wdc_pieces_free(gpmc_r2wdc_pieces *p)
{
    if (!p)
        return;
    gpmc_wdc_cells_free(p->cells);
    gpmc_wdc_eval_free(p->wev);
    free(p->pts);
    free(p->mask);
    free(p->rank);
    free(p->off);
    free(p->b);
    free(p->t);
    free(p->g);
    free(p->fro);
    free(p->cand);
    gpmc_net_trace_free(p->tr);
    free(p->rs);
    free(p->d);
    free(p->lam);
    free(p->lscr);
    free(p->sv);
    free(p->work);
    free(p->kk);
    free(p->nwork);
    free(p);
}

gpmc_r2wdc_pieces *gpmc_r2wdc_pieces_alloc(const gpmc_net *net, size_t max_cells, size_t batch)
{
    if (net->depth < 2)
        return NULL;
    size_t k = net->width[0], n1 = net->width[1], n2 = net->width[2];
    size_t c = gpmc_r2wdc_pieces_count(k, n1);
    if (gpmc_r2wdc_pieces_bytes(net->width, max_cells, batch) == SIZE_MAX ||
        gpmc_size_mul(min_sz(k, n1), c) > INT_MAX / (n1 > 0 ? n1 : 1))
        return NULL;
    gpmc_r2wdc_pieces *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->net = net;
    p->k = k;
    p->n1 = n1;
    p->ncells = c;
    p->rmax = min_sz(k, n1);
    p->lwork = gpmc_svd_lwork(n1, k);
    size_t R = p->rmax * c, dsz = sizeof(double);
    p->cells = gpmc_wdc_cells_alloc(n1, k, CELL_BATCH);
    p->wev = gpmc_wdc_eval_alloc(n2, n1, 1);
    p->pts = malloc(c * k * dsz);
    p->mask = malloc(c * n1);
    p->rank = malloc(c * sizeof(size_t));
    p->off = malloc(c * sizeof(size_t));
    p->b = malloc(R * n1 * dsz);
    p->t = malloc(R * n1 * dsz);
    p->g = malloc(R * R * dsz);
    p->fro = malloc(c * c * dsz);
    p->cand = malloc(CELL_BATCH * k * dsz);
    p->sub = *net;
    p->sub.depth = 1;
    p->tr = gpmc_net_trace_alloc(&p->sub, batch > CELL_BATCH ? batch : CELL_BATCH);
    p->rs = malloc(batch * n1 * dsz);
    p->d = malloc(n1 * n1 * dsz);
    size_t wk = k * (k > n1 ? k : n1);
    p->lam = malloc(wk * dsz);
    p->lscr = malloc(wk * dsz);
    p->sv = malloc(k * dsz);
    p->work = malloc(p->lwork * dsz);
    p->kk = malloc(k * k * dsz);
    p->nwork = malloc(gpmc_norm2_worksize(k, k) * dsz);
    if (!p->cells || !p->wev || !p->pts || !p->mask || !p->rank || !p->off || !p->b || !p->t ||
        !p->g || !p->fro || !p->cand || !p->tr || !p->rs || !p->d || !p->lam || !p->lscr || !p->sv ||
        !p->work || !p->kk || !p->nwork) {
        gpmc_r2wdc_pieces_free(p);
        return NULL;
    }
    return p;
}

static int bad(const char *what) { return gpmc_error(GPMC_ENUM, "r2wdc pieces", "%s", what); }

/* Piece q's basis rows at B + off[q]: range(Lambda_{1,x}) at trace row `row` (its point). */
static int piece_basis(gpmc_r2wdc_pieces *p, size_t q, size_t row)
{
    size_t n1 = p->n1;
    gpmc_net_lambda_rows(&p->sub, p->tr, row, 1, p->lam, p->lscr);
    size_t rank = gpmc_range_basis(p->lam, n1, p->k, p->sv, p->work, p->lwork);
    if (rank == (size_t)-1)
        return bad("LAPACK dgesvd failed on a cell's Lambda");
    p->rank[q] = rank;
    p->off[q] = p->rows;
    memcpy(p->b + p->rows * n1, p->lam, rank * n1 * sizeof(double));
    p->rows += rank;
    return GPMC_OK;
}

int gpmc_r2wdc_pieces_set(gpmc_r2wdc_pieces *p, size_t *pieces)
{
    size_t k = p->k, n1 = p->n1, got;
    p->npieces = 0;
    p->rows = 0;
    gpmc_wdc_eval_set_w(p->wev, p->net->W[1], 1);
    gpmc_wdc_cells_begin(p->cells, p->net->W[0]);
    while ((got = gpmc_wdc_cells_next(p->cells, p->cand, CELL_BATCH)) > 0) {
        gpmc_net_forward(&p->sub, p->cand, got, p->tr);
        for (size_t c = 0; c < got && p->npieces < p->ncells; c++) {
            unsigned char *m = p->mask + p->npieces * n1;
            for (size_t i = 0; i < n1; i++)
                m[i] = p->tr->act[1][c * n1 + i] > 0;
            size_t q = 0;
            while (q < p->npieces && memcmp(p->mask + q * n1, m, n1) != 0)
                q++;
            if (q < p->npieces)
                continue; /* another point of a listed cell */
            memcpy(p->pts + q * k, p->cand + c * k, k * sizeof(double));
            int st = piece_basis(p, q, c);
            if (st != GPMC_OK)
                return st;
            p->npieces++;
        }
    }
    if (pieces)
        *pieces = p->npieces;
    return p->npieces > 0 && p->rows > 0 ? GPMC_OK : bad("no cell of W_1 with an active row");
}

const double *gpmc_r2wdc_pieces_points(const gpmc_r2wdc_pieces *p) { return p->pts; }

/* r = G_1(x) of nb pairs into rs, s = G_1(y) into the trace's act[1] (the shared forward
 * pass of net.h). */
static void forward_pairs(gpmc_r2wdc_pieces *p, const double *x, const double *y, size_t nb)
{
    gpmc_net_forward(&p->sub, x, nb, p->tr);
    memcpy(p->rs, p->tr->act[1], nb * p->n1 * sizeof(double));
    gpmc_net_forward(&p->sub, y, nb, p->tr);
}

/* pieces of the pair r = G_1(x), s = G_1(y); records the maximising pieces. */
static int pair_value(gpmc_r2wdc_pieces *p, const double *r, const double *s, double *val)
{
    size_t n1 = p->n1, R = p->rows, P = p->npieces;
    int any_r = 0, any_s = 0;
    for (size_t i = 0; i < n1; i++) {
        any_r |= r[i] > 0;
        any_s |= s[i] > 0;
    }
    p->best_c = p->best_c2 = 0;
    *val = 0;
    if (!any_r || !any_s)
        return GPMC_OK; /* a dead G_1(x) or G_1(y): no Q, value 0 as in r2wdc_eval */
    int st = gpmc_wdc_eval_matrix(p->wev, r, s, p->d);
    if (st != GPMC_OK)
        return st;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)n1, (int)n1, 1.0, p->b,
                (int)n1, p->d, (int)n1, 0.0, p->t, (int)n1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)R, (int)n1, 1.0, p->t,
                (int)n1, p->b, (int)n1, 0.0, p->g, (int)R);
    /* Pass 1, per block K (ra x rb): |K|_F^2 >= sigma_1^2 >= its largest row norm^2, the
     * largest of which is `lower`. */
    double lower = 0, total = 0;
    for (size_t c = 0; c < P; c++)
        for (size_t c2 = 0; c2 < P; c2++) {
            size_t ra = p->rank[c], rb = p->rank[c2];
            const double *k0 = p->g + p->off[c] * R + p->off[c2];
            double f = 0;
            for (size_t a = 0; a < ra; a++) {
                double rn = 0;
                for (size_t b = 0; b < rb; b++)
                    rn += k0[a * R + b] * k0[a * R + b];
                f += rn;
                lower = rn > lower ? rn : lower;
            }
            p->fro[c * P + c2] = f;
            total += f;
        }
    if (!isfinite(total))
        return bad("a block of B D B^T is not finite");
    /* Pass 2: a block can hold the maximum only if |K|_F^2 beats `lower` and the best
     * sigma_1^2 so far, and then only if the Gershgorin bound on K^T K (its largest
     * absolute row sum, >= sigma_1^2) does too; those get LAPACK's norm. */
    double best = 0, best2 = 0, kt[GPMC_R2WDC_PIECES_KMAX * GPMC_R2WDC_PIECES_KMAX];
    for (size_t c = 0; c < P; c++)
        for (size_t c2 = 0; c2 < P; c2++) {
            double f = p->fro[c * P + c2], floor2 = lower > best2 ? lower : best2;
            if (!(f >= floor2))
                continue;
            size_t ra = p->rank[c], rb = p->rank[c2];
            const double *k0 = p->g + p->off[c] * R + p->off[c2];
            for (size_t b = 0; b < rb; b++)
                for (size_t b2 = b; b2 < rb; b2++) {
                    double acc = 0;
                    for (size_t a = 0; a < ra; a++)
                        acc += k0[a * R + b] * k0[a * R + b2];
                    kt[b * rb + b2] = kt[b2 * rb + b] = acc;
                }
            double up = 0;
            for (size_t b = 0; b < rb; b++) {
                double row = 0;
                for (size_t b2 = 0; b2 < rb; b2++)
                    row += fabs(kt[b * rb + b2]);
                up = row > up ? row : up;
            }
            if (!(up >= floor2))
                continue;
            for (size_t a = 0; a < ra; a++)
                memcpy(p->kk + a * rb, k0 + a * R, rb * sizeof(double));
            double v = gpmc_norm2(p->kk, ra, rb, p->nwork);
            if (!isfinite(v))
                return bad("LAPACK dgesvd failed on a block of B D B^T");
            if (v > best) {
                best = v;
                best2 = v * v;
                p->best_c = c;
                p->best_c2 = c2;
            }
        }
    *val = best;
    return GPMC_OK;
}

int gpmc_r2wdc_pieces_eval(gpmc_r2wdc_pieces *p, const double *x, const double *y, size_t nb,
                           double *val)
{
    forward_pairs(p, x, y, nb);
    for (size_t b = 0; b < nb; b++) {
        int st = pair_value(p, p->rs + b * p->n1, p->tr->act[1] + b * p->n1, val + b);
        if (st != GPMC_OK)
            return st;
    }
    return GPMC_OK;
}

static void unit_copy(double *dst, const double *src, size_t k, double sign)
{
    double nr = gpmc_nrm2(src, k);
    for (size_t a = 0; a < k; a++)
        dst[a] = sign * src[a] / nr;
}

int gpmc_r2wdc_pieces_tuple(gpmc_r2wdc_pieces *p, const double *x, const double *y,
                            double *tuple, double *val)
{
    size_t k = p->k;
    double v;
    forward_pairs(p, x, y, 1);
    int st = pair_value(p, p->rs, p->tr->act[1], &v);
    if (st != GPMC_OK)
        return st;
    unit_copy(tuple, x, k, 1);
    unit_copy(tuple + k, y, k, 1);
    unit_copy(tuple + 2 * k, p->pts + p->best_c * k, k, 1);
    unit_copy(tuple + 3 * k, p->pts + p->best_c * k, k, -1);
    unit_copy(tuple + 4 * k, p->pts + p->best_c2 * k, k, 1);
    unit_copy(tuple + 5 * k, p->pts + p->best_c2 * k, k, -1);
    if (val)
        *val = v;
    return GPMC_OK;
}
