/* The RRIC evaluator (include/gpmc/rric_eval.h has the mathematics). */
#include "gpmc/rric_eval.h"

#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"

#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gpmc_rric_eval {
    const gpmc_net *net;
    gpmc_measure *A;
    size_t k, n, m, depth, batch, ntop, wmax, rmax; /* rmax = min(2k, n) */
    gpmc_net_trace *tr;  /* 4 batch rows (x1 block, x2, x3, x4), >= 4k for the span */
    double *x;           /* 4 batch x k: the forward pass's inputs */
    double *u, *v;       /* batch x n */
    double *au, *av;     /* batch x m */
    double *d;           /* 2 batch x k: x1 - x2 of the same-cell pairs */
    size_t *drow;        /* 2 batch: their x1's trace row */
    size_t *dpos;        /* 2 batch: where their product goes (u or v, row b) */
    double *jd;          /* 2 batch x n: the products */
    double *s1, *s2;     /* max(2 batch, 4k) x wmax: lambda_batch scratch */
    unsigned char *pat;  /* sum of widths: one vector's pattern, for the hash */
    /* span: the Lambda columns (4k x n; rows 0..2k-1 span U, 2k..4k-1 span V), the bases
     * (rmax x n each, rows orthonormal), their images (rmax x m), the small matrix, SVD */
    double *eye, *lam, *bu, *bv, *cu, *cv, *smat, *sv, *work;
    size_t *lrow;
    lapack_int lwork;
    /* the top list: ntop quadruples (4 x k), values, cell hashes, best first */
    double *topx, *topval;
    uint64_t *topsig;
    size_t ntopped, jacobian;
};

static size_t sum_widths(size_t depth, const size_t *width)
{
    size_t s = 0;
    for (size_t i = 1; i <= depth; i++)
        s = gpmc_size_add(s, width[i]);
    return s;
}

static size_t max_of(size_t depth, const size_t *width)
{
    size_t w = 0;
    for (size_t i = 0; i <= depth; i++)
        w = width[i] > w ? width[i] : w;
    return w;
}

/* Doubles (and size_t's, counted as doubles) of every buffer, in alloc order. */
static size_t doubles(size_t depth, const size_t *width, size_t m, size_t B, size_t ntop)
{
    size_t k = width[0], n = width[depth], wmax = max_of(depth, width);
    size_t rmax = 2 * k < n ? 2 * k : n, sb = 2 * B > 4 * k ? 2 * B : 4 * k;
    size_t tb = 4 * B > 4 * k ? 4 * B : 4 * k;
    size_t d = gpmc_size_mul(gpmc_size_mul(tb, sum_widths(depth, width) + k), 1); /* trace */
    d = gpmc_size_add(d, gpmc_size_mul(tb, wmax));                  /* trace work */
    d = gpmc_size_add(d, gpmc_size_mul(tb, k));                     /* x */
    d = gpmc_size_add(d, gpmc_size_mul(2 * B, n));                  /* u, v */
    d = gpmc_size_add(d, gpmc_size_mul(2 * B, m));                  /* au, av */
    d = gpmc_size_add(d, gpmc_size_mul(2 * B, k + 2));              /* d, drow, dpos */
    d = gpmc_size_add(d, gpmc_size_mul(2 * B, n));                  /* jd */
    d = gpmc_size_add(d, gpmc_size_mul(2 * sb, wmax));              /* s1, s2 */
    d = gpmc_size_add(d, sum_widths(depth, width));                 /* pat (bytes: fewer) */
    d = gpmc_size_add(d, gpmc_size_mul(4 * k, k + n + 1));          /* eye, lam, lrow */
    d = gpmc_size_add(d, gpmc_size_mul(2 * rmax, n + m));           /* bu, bv, cu, cv */
    d = gpmc_size_add(d, gpmc_size_mul(rmax, rmax) + rmax);         /* smat, sv */
    d = gpmc_size_add(d, gpmc_size_add(gpmc_size_mul(5, n + 4 * k), 64 * (n + 4 * k))); /* work */
    d = gpmc_size_add(d, gpmc_size_mul(ntop, 4 * k + 2));           /* the top list */
    return d;
}

size_t gpmc_rric_eval_bytes(size_t depth, const size_t *width, size_t m, size_t batch,
                            size_t ntop)
{
    return gpmc_size_mul(doubles(depth, width, m, batch, ntop), sizeof(double));
}

void gpmc_rric_eval_free(gpmc_rric_eval *ev)
{
    if (!ev)
        return;
    gpmc_net_trace_free(ev->tr);
    void *p[] = {ev->x,   ev->u,    ev->v,   ev->au,  ev->av,  ev->d,    ev->drow,
                 ev->dpos, ev->jd,  ev->s1,  ev->s2,  ev->pat, ev->eye,  ev->lam,
                 ev->bu,  ev->bv,   ev->cu,  ev->cv,  ev->smat, ev->sv,  ev->work,
                 ev->lrow, ev->topx, ev->topval, ev->topsig};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
    free(ev);
}

/* LAPACK's workspace for the two SVDs (n x 2k with U, then rmax x rmax without). */
static lapack_int svd_lwork(gpmc_rric_eval *ev)
{
    double q1 = 0, q2 = 0;
    lapack_int r = (lapack_int)ev->rmax, c2 = (lapack_int)(2 * ev->k), n = (lapack_int)ev->n;
    lapack_int i1 = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'N', n, c2, ev->lam, n, ev->sv,
                                        ev->bu, n, NULL, 1, &q1, -1);
    lapack_int i2 = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', r, r, ev->smat, r, ev->sv,
                                        NULL, 1, NULL, 1, &q2, -1);
    double q = fmax(q1, q2), lo = 5.0 * (double)(ev->n + 4 * ev->k);
    if (i1 != 0 || i2 != 0 || !(q >= lo))
        q = lo;
    return (lapack_int)q;
}

gpmc_rric_eval *gpmc_rric_eval_alloc(const gpmc_net *net, gpmc_measure *A, size_t batch,
                                     size_t ntop)
{
    size_t n = net->width[net->depth];
    if (batch == 0 || ntop == 0 || gpmc_measure_cols(A) != n ||
        gpmc_rric_eval_bytes(net->depth, net->width, gpmc_measure_rows(A), batch, ntop) ==
            SIZE_MAX)
        return NULL;
    gpmc_rric_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->net = net;
    ev->A = A;
    ev->k = net->width[0];
    ev->n = n;
    ev->m = gpmc_measure_rows(A);
    ev->depth = net->depth;
    ev->batch = batch;
    ev->ntop = ntop;
    ev->wmax = max_of(net->depth, net->width);
    size_t k = ev->k, m = ev->m, B = batch, wmax = ev->wmax;
    ev->rmax = 2 * k < n ? 2 * k : n;
    size_t sb = 2 * B > 4 * k ? 2 * B : 4 * k, tb = 4 * B > 4 * k ? 4 * B : 4 * k;
    size_t rmax = ev->rmax;
    ev->tr = gpmc_net_trace_alloc(net, tb);
    ev->x = malloc(tb * k * sizeof(double));
    ev->u = malloc(B * n * sizeof(double));
    ev->v = malloc(B * n * sizeof(double));
    ev->au = malloc(B * m * sizeof(double));
    ev->av = malloc(B * m * sizeof(double));
    ev->d = malloc(2 * B * k * sizeof(double));
    ev->drow = malloc(2 * B * sizeof(size_t));
    ev->dpos = malloc(2 * B * sizeof(size_t));
    ev->jd = malloc(2 * B * n * sizeof(double));
    ev->s1 = malloc(sb * wmax * sizeof(double));
    ev->s2 = malloc(sb * wmax * sizeof(double));
    ev->pat = malloc(sum_widths(net->depth, net->width));
    ev->eye = calloc(4 * k * k, sizeof(double));
    ev->lam = malloc(4 * k * n * sizeof(double));
    ev->lrow = malloc(4 * k * sizeof(size_t));
    ev->bu = malloc(rmax * n * sizeof(double));
    ev->bv = malloc(rmax * n * sizeof(double));
    ev->cu = malloc(rmax * m * sizeof(double));
    ev->cv = malloc(rmax * m * sizeof(double));
    ev->smat = malloc(rmax * rmax * sizeof(double));
    ev->sv = malloc((2 * k > rmax ? 2 * k : rmax) * sizeof(double));
    ev->topx = malloc(ntop * 4 * k * sizeof(double));
    ev->topval = malloc(ntop * sizeof(double));
    ev->topsig = malloc(ntop * sizeof(uint64_t));
    if (!ev->tr || !ev->x || !ev->u || !ev->v || !ev->au || !ev->av || !ev->d || !ev->drow ||
        !ev->dpos || !ev->jd || !ev->s1 || !ev->s2 || !ev->pat || !ev->eye || !ev->lam ||
        !ev->lrow || !ev->bu || !ev->bv || !ev->cu || !ev->cv || !ev->smat || !ev->sv ||
        !ev->topx || !ev->topval || !ev->topsig) {
        gpmc_rric_eval_free(ev);
        return NULL;
    }
    /* [I; I; I; I] and the trace rows 0, 1, 2, 3 (k each): the Lambda columns at once. */
    for (size_t q = 0; q < 4; q++)
        for (size_t c = 0; c < k; c++) {
            ev->eye[(q * k + c) * k + c] = 1;
            ev->lrow[q * k + c] = q;
        }
    ev->lwork = svd_lwork(ev);
    if (!(ev->work = malloc((size_t)ev->lwork * sizeof(double)))) {
        gpmc_rric_eval_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_rric_eval_reset(gpmc_rric_eval *ev)
{
    ev->ntopped = 0;
    ev->jacobian = 0;
}

size_t gpmc_rric_eval_jacobian_pairs(const gpmc_rric_eval *ev) { return ev->jacobian; }

/* Trace rows a and b have the same activation pattern in every layer. */
static int same_cell(const gpmc_rric_eval *ev, size_t a, size_t b)
{
    for (size_t i = 1; i <= ev->depth; i++) {
        size_t w = ev->net->width[i];
        const double *pa = ev->tr->act[i] + a * w, *pb = ev->tr->act[i] + b * w;
        for (size_t r = 0; r < w; r++)
            if ((pa[r] > 0) != (pb[r] > 0))
                return 0;
    }
    return 1;
}

/* Hash of the patterns of trace rows r[0..3]: the cells of a quadruple. */
static uint64_t cell_hash(gpmc_rric_eval *ev, const size_t *r)
{
    uint64_t h = GPMC_HASH_INIT;
    for (size_t q = 0; q < 4; q++) {
        size_t o = 0;
        for (size_t i = 1; i <= ev->depth; i++) {
            size_t w = ev->net->width[i];
            const double *a = ev->tr->act[i] + r[q] * w;
            for (size_t c = 0; c < w; c++)
                ev->pat[o++] = a[c] > 0;
        }
        h = gpmc_hash_bytes(h, ev->pat, o);
    }
    return h;
}

/* dev of the nb quadruples in ev->x (block j = rows j nb .. j nb + nb - 1), into val. */
static void eval_x(gpmc_rric_eval *ev, size_t nb, double *val)
{
    size_t k = ev->k, n = ev->n, m = ev->m, nd = 0;
    const double *G = ev->tr->act[ev->depth];
    gpmc_net_forward(ev->net, ev->x, 4 * nb, ev->tr);
    for (size_t h = 0; h < 2; h++) { /* h = 0: u from (x1, x2); 1: v from (x3, x4) */
        double *out = h ? ev->v : ev->u;
        for (size_t b = 0; b < nb; b++) {
            size_t r1 = (2 * h) * nb + b, r2 = (2 * h + 1) * nb + b;
            if (same_cell(ev, r1, r2)) {
                const double *x1 = ev->x + r1 * k, *x2 = ev->x + r2 * k;
                for (size_t c = 0; c < k; c++)
                    ev->d[nd * k + c] = x1[c] - x2[c];
                ev->drow[nd] = r1;
                ev->dpos[nd++] = h * nb + b;
            } else {
                for (size_t c = 0; c < n; c++)
                    out[b * n + c] = G[r1 * n + c] - G[r2 * n + c];
            }
        }
    }
    if (nd > 0) {
        gpmc_net_lambda_batch(ev->net, ev->tr, ev->drow, nd, ev->depth, ev->d, ev->jd, ev->s1,
                              ev->s2);
        for (size_t i = 0; i < nd; i++) {
            size_t p = ev->dpos[i];
            double *dst = p < nb ? ev->u + p * n : ev->v + (p - nb) * n;
            memcpy(dst, ev->jd + i * n, n * sizeof(double));
        }
        ev->jacobian += nd;
    }
    gpmc_measure_apply_batch(ev->A, ev->u, nb, ev->au);
    gpmc_measure_apply_batch(ev->A, ev->v, nb, ev->av);
    for (size_t b = 0; b < nb; b++) {
        const double *u = ev->u + b * n, *v = ev->v + b * n;
        double nu = gpmc_nrm2(u, n), nv = gpmc_nrm2(v, n);
        if (!(nu > 0) || !(nv > 0)) {
            val[b] = 0;
            continue;
        }
        double g = gpmc_dot(ev->au + b * m, ev->av + b * m, m) - gpmc_dot(u, v, n);
        val[b] = fabs(g) / nu / nv;
    }
}

/* Offer quadruple b of the last batch (value v) to the top list: one entry per cell,
 * best first; an equal value keeps the earlier entry. */
static void top_offer(gpmc_rric_eval *ev, size_t nb, size_t b, double v)
{
    size_t k = ev->k, cap = ev->ntop, len = ev->ntopped;
    if (!(v >= 0) || (len == cap && v <= ev->topval[len - 1]))
        return;
    size_t r[4] = {b, nb + b, 2 * nb + b, 3 * nb + b};
    uint64_t sig = cell_hash(ev, r);
    size_t pos = len; /* an entry of the same cell: replace it if v is better */
    for (size_t i = 0; i < len; i++)
        if (ev->topsig[i] == sig) {
            if (v <= ev->topval[i])
                return;
            pos = i;
            break;
        }
    if (pos == len && len < cap)
        ev->ntopped = ++len;
    else if (pos == len)
        pos = cap - 1;
    while (pos > 0 && ev->topval[pos - 1] < v) {
        ev->topval[pos] = ev->topval[pos - 1];
        ev->topsig[pos] = ev->topsig[pos - 1];
        memcpy(ev->topx + pos * 4 * k, ev->topx + (pos - 1) * 4 * k, 4 * k * sizeof(double));
        pos--;
    }
    ev->topval[pos] = v;
    ev->topsig[pos] = sig;
    for (size_t q = 0; q < 4; q++)
        memcpy(ev->topx + (pos * 4 + q) * k, ev->x + r[q] * k, k * sizeof(double));
}

int gpmc_rric_eval_quads(gpmc_rric_eval *ev, const double *const *t, size_t nb, double *val)
{
    size_t k = ev->k;
    for (size_t q = 0; q < 4; q++)
        for (size_t b = 0; b < nb; b++)
            memcpy(ev->x + (q * nb + b) * k, t[q] + b * (k + 1), k * sizeof(double));
    eval_x(ev, nb, val);
    for (size_t b = 0; b < nb; b++)
        top_offer(ev, nb, b, val[b]);
    return GPMC_OK;
}

double gpmc_rric_eval_one(gpmc_rric_eval *ev, const double *x)
{
    double v;
    memcpy(ev->x, x, 4 * ev->k * sizeof(double));
    eval_x(ev, 1, &v);
    return v;
}

/* Orthonormal basis (rows of out, rank of them) of the row space of the 2k x n matrix l
 * (destroyed), dropping singular values below GPMC_RRIC_RANK_TOL sigma_1. Row-major 2k x n
 * is column-major n x 2k, so LAPACK's U (column-major, jobu 'S') is the basis as rows. */
static int basis(gpmc_rric_eval *ev, double *l, double *out, size_t *rank)
{
    size_t n = ev->n, c = 2 * ev->k;
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'N', (lapack_int)n,
                                          (lapack_int)c, l, (lapack_int)n, ev->sv, out,
                                          (lapack_int)n, NULL, 1, ev->work, ev->lwork);
    if (info != 0)
        return gpmc_error(GPMC_ENUM, "rric span", "dgesvd failed (info %d)", (int)info);
    size_t r = 0;
    while (r < ev->rmax && ev->sv[r] > GPMC_RRIC_RANK_TOL * ev->sv[0])
        r++;
    *rank = r;
    return GPMC_OK;
}

/* The span of the cells of x (4 x k), and the cells' hash. */
static int span_at(gpmc_rric_eval *ev, const double *x, double *val, uint64_t *sig)
{
    size_t k = ev->k, n = ev->n, m = ev->m, ru, rv;
    int st;
    memcpy(ev->x, x, 4 * k * sizeof(double));
    gpmc_net_forward(ev->net, ev->x, 4, ev->tr);
    size_t r[4] = {0, 1, 2, 3};
    *sig = cell_hash(ev, r);
    /* lam row q k + c = (Lambda_{x_q} e_c)^T */
    gpmc_net_lambda_batch(ev->net, ev->tr, ev->lrow, 4 * k, ev->depth, ev->eye, ev->lam,
                          ev->s1, ev->s2);
    if ((st = basis(ev, ev->lam, ev->bu, &ru)) != GPMC_OK ||
        (st = basis(ev, ev->lam + 2 * k * n, ev->bv, &rv)) != GPMC_OK)
        return st;
    if (ru == 0 || rv == 0) {
        *val = 0;
        return GPMC_OK;
    }
    /* S = (B_U A^T)(B_V A^T)^T - B_U B_V^T (ru x rv, row-major) */
    gpmc_measure_apply_batch(ev->A, ev->bu, ru, ev->cu);
    gpmc_measure_apply_batch(ev->A, ev->bv, rv, ev->cv);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, (int)rv, (int)n, 1.0, ev->bu,
                (int)n, ev->bv, (int)n, 0.0, ev->smat, (int)rv);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, (int)rv, (int)m, 1.0, ev->cu,
                (int)m, ev->cv, (int)m, -1.0, ev->smat, (int)rv);
    /* Its norm: the row-major ru x rv matrix is column-major rv x ru (same norm). */
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)rv,
                                          (lapack_int)ru, ev->smat, (lapack_int)rv, ev->sv,
                                          NULL, 1, NULL, 1, ev->work, ev->lwork);
    if (info != 0)
        return gpmc_error(GPMC_ENUM, "rric span", "dgesvd failed (info %d)", (int)info);
    *val = ev->sv[0];
    return GPMC_OK;
}

int gpmc_rric_eval_span(gpmc_rric_eval *ev, const double *x, double *val)
{
    uint64_t sig;
    return span_at(ev, x, val, &sig);
}

int gpmc_rric_eval_span_max(gpmc_rric_eval *ev, const double *x, double *val, size_t *cells)
{
    uint64_t sig, s2;
    double best, v;
    int st = span_at(ev, x, &best, &sig);
    if (st != GPMC_OK)
        return st;
    *cells = 1;
    for (size_t i = 0; i < ev->ntopped; i++) {
        if (ev->topsig[i] == sig)
            continue;
        if ((st = span_at(ev, ev->topx + i * 4 * ev->k, &v, &s2)) != GPMC_OK)
            return st;
        best = fmax(best, v);
        (*cells)++;
    }
    *val = best;
    return GPMC_OK;
}
