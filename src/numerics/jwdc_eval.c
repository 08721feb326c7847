/* The joint-WDC evaluator (include/gpmc/jwdc_eval.h; MATH.md, Conditions 4). For a batch
 * of nb tuples, with unit h, x, m, y:
 *   ZB = [H; X] B^T, ZC = [M; Y] C^T            two dgemms, 2nb x ell (chunks of rows)
 *   w6_{b,i} = ell 1{b_i.h > 0} 1{b_i.x > 0} relu(c_i.m) relu(c_i.y)
 *   w7_{b,i} = ell 1{c_i.m > 0} 1{c_i.y > 0} relu(b_i.h) relu(b_i.x)
 *   G6 = W6 OB, G7 = W7 OC                      two dgemms, OB_i = packed b_i b_i^T
 *   eps6 = || unpack(G6_b) - alpha kappa(m, y) Q_hx ||, eps7 likewise (gpmc_symeig),
 * kappa(m, y) = m^T Q_my y for unit m, y = ((pi - t) cos t + sin t) / (2 pi). With unit
 * vectors the normalisations ell / (|m||y|) and ell / (|h||x|) of eqs. (6)-(7) are the
 * factor ell in the weights, and (alpha/ell) ell = alpha in the centring term. */
#include "gpmc/jwdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/sizes.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"

/* Rows of B and C per chunk: the pre-activations and weights of a batch stay in L2. */
#define CHUNK 512

struct gpmc_jwdc_eval {
    size_t ell, n, p, K, batch, PB, PC, chunk;
    size_t last_nb;      /* tuples in the last batch (where the x rows start in hx) */
    const double *b, *c;
    double alpha;
    double *ob, *oc;     /* ell x PB, ell x PC: packed outer products */
    double *nrm;         /* 2 ell x K: the search's normals */
    double *hx, *my;     /* 2 batch x n, 2 batch x p: unit h rows then x rows; m then y */
    double *zb, *zc;     /* 2 batch x chunk: pre-activations */
    double *w6, *w7;     /* batch x chunk: weights of the outer products */
    double *g6, *g7;     /* batch x PB, batch x PC: packed weighted Grams */
    double *kmy, *khx;   /* batch: kappa(m, y), kappa(h, x) */
    unsigned char *bad;  /* batch: 1 if a block is zero (value 0), 2 if not finite */
    double *e6, *e7;     /* batch: the search callback's values */
    double *q, *d6, *d7; /* max(n,p)^2, n^2, p^2 */
    gpmc_symeig *eig6, *eig7;
    size_t blocks[2];    /* n, p: the search's coordinate blocks */
    double best[2];      /* the largest eps6, eps7 since set (-1: none) */
    double *bu[2], *bv[2]; /* their tuples, K each */
};

static size_t packed(size_t k)
{
    return k % 2 == 0 ? gpmc_size_mul(k / 2, k + 1) : gpmc_size_mul(k, (k + 1) / 2);
}

size_t gpmc_jwdc_eval_bytes(size_t ell, size_t n, size_t p, size_t batch)
{
    size_t K = gpmc_size_add(n, p), PB = packed(n), PC = packed(p);
    size_t ch = ell < CHUNK ? ell : CHUNK, mx = n > p ? n : p;
    size_t d = gpmc_size_mul(ell, gpmc_size_add(PB, PC));                   /* ob, oc */
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(2, ell), K));          /* nrm */
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(2, batch), K));        /* hx, my */
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(6, batch), ch));       /* z, w */
    d = gpmc_size_add(d, gpmc_size_mul(batch, gpmc_size_add(PB, PC)));      /* g6, g7 */
    d = gpmc_size_add(d, gpmc_size_mul(5, batch));                          /* k, e, bad */
    d = gpmc_size_add(d, gpmc_size_mul(mx, mx));                            /* q */
    d = gpmc_size_add(d, gpmc_size_mul(2, gpmc_size_add(gpmc_size_mul(n, n), gpmc_size_mul(p, p))));
    d = gpmc_size_add(d, gpmc_size_mul(4, K));                              /* best tuples */
    return gpmc_size_mul(d, sizeof(double));                /* d6, d7 and the solvers' */
}

void gpmc_jwdc_eval_free(gpmc_jwdc_eval *ev)
{
    if (!ev)
        return;
    free(ev->ob);
    free(ev->oc);
    free(ev->nrm);
    free(ev->hx);
    free(ev->my);
    free(ev->zb);
    free(ev->zc);
    free(ev->w6);
    free(ev->w7);
    free(ev->g6);
    free(ev->g7);
    free(ev->kmy);
    free(ev->khx);
    free(ev->bad);
    free(ev->e6);
    free(ev->e7);
    free(ev->q);
    free(ev->d6);
    free(ev->d7);
    gpmc_symeig_free(ev->eig6);
    gpmc_symeig_free(ev->eig7);
    for (int w = 0; w < 2; w++) {
        free(ev->bu[w]);
        free(ev->bv[w]);
    }
    free(ev);
}

gpmc_jwdc_eval *gpmc_jwdc_eval_alloc(size_t ell, size_t n, size_t p, size_t batch)
{
    if (ell == 0 || n == 0 || p == 0 || batch == 0 ||
        gpmc_jwdc_eval_bytes(ell, n, p, batch) == SIZE_MAX)
        return NULL;
    gpmc_jwdc_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    size_t K = n + p, mx = n > p ? n : p;
    ev->ell = ell, ev->n = n, ev->p = p, ev->K = K, ev->batch = batch;
    ev->PB = packed(n), ev->PC = packed(p);
    ev->chunk = ell < CHUNK ? ell : CHUNK;
    ev->ob = malloc(ell * ev->PB * sizeof(double));
    ev->oc = malloc(ell * ev->PC * sizeof(double));
    ev->nrm = malloc(2 * ell * K * sizeof(double));
    ev->hx = malloc(2 * batch * n * sizeof(double));
    ev->my = malloc(2 * batch * p * sizeof(double));
    ev->zb = malloc(2 * batch * ev->chunk * sizeof(double));
    ev->zc = malloc(2 * batch * ev->chunk * sizeof(double));
    ev->w6 = malloc(batch * ev->chunk * sizeof(double));
    ev->w7 = malloc(batch * ev->chunk * sizeof(double));
    ev->g6 = malloc(batch * ev->PB * sizeof(double));
    ev->g7 = malloc(batch * ev->PC * sizeof(double));
    ev->kmy = malloc(batch * sizeof(double));
    ev->khx = malloc(batch * sizeof(double));
    ev->bad = malloc(batch);
    ev->e6 = malloc(batch * sizeof(double));
    ev->e7 = malloc(batch * sizeof(double));
    ev->q = malloc(mx * mx * sizeof(double));
    ev->d6 = malloc(n * n * sizeof(double));
    ev->d7 = malloc(p * p * sizeof(double));
    ev->eig6 = gpmc_symeig_alloc(n);
    ev->eig7 = gpmc_symeig_alloc(p);
    int ok = ev->ob && ev->oc && ev->nrm && ev->hx && ev->my && ev->zb && ev->zc && ev->w6 &&
             ev->w7 && ev->g6 && ev->g7 && ev->kmy && ev->khx && ev->bad && ev->e6 && ev->e7 &&
             ev->q && ev->d6 && ev->d7 && ev->eig6 && ev->eig7;
    for (int w = 0; w < 2; w++) {
        ev->bu[w] = malloc(K * sizeof(double));
        ev->bv[w] = malloc(K * sizeof(double));
        ok = ok && ev->bu[w] && ev->bv[w];
        ev->best[w] = -1;
    }
    if (!ok) {
        gpmc_jwdc_eval_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_jwdc_eval_set(gpmc_jwdc_eval *ev, const double *b, const double *c, double alpha)
{
    size_t ell = ev->ell, n = ev->n, p = ev->p, K = ev->K;
    ev->b = b, ev->c = c, ev->alpha = alpha;
    gpmc_packed_outer_rows(b, ell, n, ev->ob);
    gpmc_packed_outer_rows(c, ell, p, ev->oc);
    memset(ev->nrm, 0, 2 * ell * K * sizeof(double));
    for (size_t i = 0; i < ell; i++) {
        memcpy(ev->nrm + i * K, b + i * n, n * sizeof(double));
        memcpy(ev->nrm + (ell + i) * K + n, c + i * p, p * sizeof(double));
    }
    ev->best[0] = ev->best[1] = -1;
}

const double *gpmc_jwdc_eval_normals(const gpmc_jwdc_eval *ev) { return ev->nrm; }

/* dst = src / |src| (len); 0 if src is zero, 2 if its norm is not finite, else 1. */
static int unit_block(const double *src, size_t len, double *dst)
{
    double s = cblas_dnrm2((int)len, src, 1);
    if (!isfinite(s))
        return 2;
    if (!(s > 0)) {
        memset(dst, 0, len * sizeof(double));
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] / s;
    return 1;
}

/* m^T Q_my y for unit m, y at angle t. */
static double kappa(double t) { return ((GPMC_PI - t) * cos(t) + sin(t)) / (2 * GPMC_PI); }

/* Normalise the nb tuples into hx, my; kappas and the bad flags. */
static void load(gpmc_jwdc_eval *ev, const double *u, const double *v, size_t nb)
{
    size_t n = ev->n, p = ev->p, K = ev->K;
    for (size_t t = 0; t < nb; t++) {
        double *h = ev->hx + t * n, *x = ev->hx + (nb + t) * n;
        double *m = ev->my + t * p, *y = ev->my + (nb + t) * p;
        int a = unit_block(u + t * K, n, h), bx = unit_block(v + t * K, n, x);
        int cm = unit_block(u + t * K + n, p, m), dy = unit_block(v + t * K + n, p, y);
        int worst = a < bx ? a : bx;
        worst = cm < worst ? cm : worst;
        worst = dy < worst ? dy : worst;
        ev->bad[t] = (a == 2 || bx == 2 || cm == 2 || dy == 2) ? 2 : worst == 0 ? 1 : 0;
        if (ev->bad[t] == 2) { /* keep the GEMMs finite; the status reports it */
            memset(h, 0, n * sizeof(double)), memset(x, 0, n * sizeof(double));
            memset(m, 0, p * sizeof(double)), memset(y, 0, p * sizeof(double));
        }
        ev->kmy[t] = ev->bad[t] ? 0 : kappa(gpmc_angle(m, y, p));
        ev->khx[t] = ev->bad[t] ? 0 : kappa(gpmc_angle(h, x, n));
    }
}

/* g6, g7 of the nb loaded tuples. */
static void weighted_grams(gpmc_jwdc_eval *ev, size_t nb)
{
    size_t ell = ev->ell, n = ev->n, p = ev->p;
    double L = (double)ell;
    for (size_t c0 = 0; c0 < ell; c0 += ev->chunk) {
        size_t cn = ell - c0 < ev->chunk ? ell - c0 : ev->chunk;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(2 * nb), (int)cn, (int)n, 1.0,
                    ev->hx, (int)n, ev->b + c0 * n, (int)n, 0.0, ev->zb, (int)cn);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(2 * nb), (int)cn, (int)p, 1.0,
                    ev->my, (int)p, ev->c + c0 * p, (int)p, 0.0, ev->zc, (int)cn);
        for (size_t t = 0; t < nb; t++) {
            const double *zh = ev->zb + t * cn, *zx = ev->zb + (nb + t) * cn;
            const double *zm = ev->zc + t * cn, *zy = ev->zc + (nb + t) * cn;
            double *w6 = ev->w6 + t * cn, *w7 = ev->w7 + t * cn;
            for (size_t i = 0; i < cn; i++) {
                int gb = zh[i] > 0 && zx[i] > 0, gc = zm[i] > 0 && zy[i] > 0;
                w6[i] = gb && gc ? L * zm[i] * zy[i] : 0.0;
                w7[i] = gb && gc ? L * zh[i] * zx[i] : 0.0;
            }
        }
        double beta = c0 == 0 ? 0.0 : 1.0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)ev->PB, (int)cn, 1.0,
                    ev->w6, (int)cn, ev->ob + c0 * ev->PB, (int)ev->PB, beta, ev->g6, (int)ev->PB);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)ev->PC, (int)cn, 1.0,
                    ev->w7, (int)cn, ev->oc + c0 * ev->PC, (int)ev->PC, beta, ev->g7, (int)ev->PC);
    }
}

/* d (k x k; upper triangle, both if `full`) = unpack(g) - scale Q_{a,b}. */
static void deviation(gpmc_jwdc_eval *ev, const double *g, const double *a, const double *b,
                      size_t k, double scale, int full, double *d)
{
    gpmc_theory_Q(a, b, k, scale, ev->q);
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++)
            d[i * k + j] = *g++ - ev->q[i * k + j];
    if (full)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < i; j++)
                d[i * k + j] = d[j * k + i];
}

/* The nb tuples' values; fold: into the best tuples. */
static int evaluate(gpmc_jwdc_eval *ev, const double *u, const double *v, size_t nb,
                    double *eps6, double *eps7, int fold)
{
    size_t n = ev->n, p = ev->p, K = ev->K;
    if (nb == 0)
        return GPMC_OK;
    load(ev, u, v, nb);
    weighted_grams(ev, nb);
    ev->last_nb = nb;
    int status = GPMC_OK;
    for (size_t t = 0; t < nb; t++) {
        double e6 = 0, e7 = 0;
        if (ev->bad[t] == 2) {
            e6 = e7 = NAN;
        } else if (ev->bad[t] == 0) {
            const double *h = ev->hx + t * n, *x = ev->hx + (nb + t) * n;
            const double *m = ev->my + t * p, *y = ev->my + (nb + t) * p;
            deviation(ev, ev->g6 + t * ev->PB, h, x, n, ev->alpha * ev->kmy[t], 0, ev->d6);
            deviation(ev, ev->g7 + t * ev->PC, m, y, p, ev->alpha * ev->khx[t], 0, ev->d7);
            e6 = gpmc_symeig_norm(ev->eig6, ev->d6);
            e7 = gpmc_symeig_norm(ev->eig7, ev->d7);
        }
        if (isnan(e6) || isnan(e7))
            status = GPMC_ENUM;
        eps6[t] = e6;
        if (eps7)
            eps7[t] = e7;
        for (int w = 0; fold && w < 2; w++) {
            double e = w == 0 ? e6 : e7;
            if (e > ev->best[w]) {
                ev->best[w] = e;
                memcpy(ev->bu[w], u + t * K, K * sizeof(double));
                memcpy(ev->bv[w], v + t * K, K * sizeof(double));
            }
        }
    }
    return status == GPMC_OK
               ? GPMC_OK
               : gpmc_error(GPMC_ENUM, "jwdc", "non-finite deviation (ell = %zu, n = %zu, p = %zu)",
                            ev->ell, n, p);
}

int gpmc_jwdc_eval_tuples(gpmc_jwdc_eval *ev, const double *u, const double *v, size_t nb,
                          double *eps6, double *eps7)
{
    return evaluate(ev, u, v, nb, eps6, eps7, 1);
}

int gpmc_jwdc_eval_batch_matrix(gpmc_jwdc_eval *ev, size_t b, const double *u, const double *v,
                                double *out)
{
    size_t n = ev->n, p = ev->p, K = ev->K;
    (void)u, (void)v; /* the batch's loaded unit rows are tuple b's, normalised */
    memset(out, 0, K * K * sizeof(double));
    if (ev->bad[b] == 1)
        return GPMC_OK; /* a zero block: value 0, no direction */
    const double *hh = ev->hx + b * n, *xx = ev->hx + (ev->last_nb + b) * n;
    const double *mm = ev->my + b * p, *yy = ev->my + (ev->last_nb + b) * p;
    deviation(ev, ev->g6 + b * ev->PB, hh, xx, n, ev->alpha * ev->kmy[b], 1, ev->d6);
    deviation(ev, ev->g7 + b * ev->PC, mm, yy, p, ev->alpha * ev->khx[b], 1, ev->d7);
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * K, ev->d6 + i * n, n * sizeof(double));
    for (size_t i = 0; i < p; i++)
        memcpy(out + (n + i) * K + n, ev->d7 + i * p, p * sizeof(double));
    for (size_t i = 0; i < K * K; i++)
        if (!isfinite(out[i]))
            return gpmc_error(GPMC_ENUM, "jwdc", "non-finite deviation matrix");
    return GPMC_OK;
}

int gpmc_jwdc_eval_matrix(gpmc_jwdc_eval *ev, const double *u, const double *v, double *out)
{
    int st = evaluate(ev, u, v, 1, ev->e6, ev->e7, 0);
    return st != GPMC_OK ? st : gpmc_jwdc_eval_batch_matrix(ev, 0, u, v, out);
}

double gpmc_jwdc_eval_best(const gpmc_jwdc_eval *ev, int which, const double **u,
                           const double **v)
{
    int w = which == 7;
    if (u)
        *u = ev->bu[w];
    if (v)
        *v = ev->bv[w];
    return ev->best[w];
}

/* The search's value: max(eps6, eps7) of the pair (u, v) = (t[0], t[1]). */
static int jwdc_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    gpmc_jwdc_eval *ev = ctx;
    int st = evaluate(ev, t[0], t[1], nb, ev->e6, ev->e7, 1);
    for (size_t b = 0; b < nb; b++)
        val[b] = ev->e6[b] > ev->e7[b] ? ev->e6[b] : ev->e7[b];
    return st;
}

/* The flips' aim: blockdiag(D6, D7), from the last batch when the pair is in it. */
static int jwdc_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    return slot == GPMC_SEARCH_FRESH ? gpmc_jwdc_eval_matrix(ctx, t[0], t[1], d)
                                     : gpmc_jwdc_eval_batch_matrix(ctx, slot, t[0], t[1], d);
}

gpmc_search_objective gpmc_jwdc_search_objective(size_t ell, size_t n, size_t p, size_t batch,
                                                 gpmc_jwdc_eval *ev)
{
    gpmc_search_objective o = {.m = 2, .k = n + p, .batch = batch, .nnormals = 2 * ell,
                               .ctx = ev, .eval = jwdc_values, .aim = jwdc_aim};
    if (ev) { /* (h, m) and (x, y): each block is seen only through its direction */
        ev->blocks[0] = n;
        ev->blocks[1] = p;
        o.nblocks = 2;
        o.block = ev->blocks;
    }
    return o;
}

double gpmc_jwdc_gemm_flops(size_t ell, size_t n, size_t p)
{
    double L = (double)ell, nn = (double)n, pp = (double)p;
    return 2.0 * L * (2 * nn + 2 * pp) + 2.0 * L * (nn * (nn + 1) / 2 + pp * (pp + 1) / 2);
}
