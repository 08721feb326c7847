/* The batched adaptive supremum search (include/gpmc/search.h has the algorithm).
 *
 * Why not GSL's Nelder-Mead: the objectives are piecewise smooth and jump wherever a
 * hyperplane changes sign on a gated vector (for the WDC, a row of W on x or y: 2n
 * hyperplanes), and are flat in the Gram between them, so a simplex stalls on the
 * jumps; and Nelder-Mead proposes one point at a time, while one tuple alone costs
 * matrix-vector products over all n rows (memory bound) and a batch of B tuples costs
 * GEMMs running near peak: measured with tests/bench/bench_wdc, one pair per call gives
 * 11k pairs/s at (n, k) = (2000, 20) and 105k at (500, 10), a batch of 128 gives 29k and
 * 221k, so batched moves try 2-3x more candidates in the same time, and the flips jump
 * across cell boundaries by construction.
 *
 * Reproducibility: the draws, their order and the batches are part of the results (a
 * trial's record is bitwise reproducible), so the order of every loop below matters. */
#include "gpmc/search.h"
#include "search_internal.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"

#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"


static size_t pool_cap(size_t batch)
{
    size_t np = batch / CHILDREN_PER_PARENT;
    return np < 1 ? 1 : (np > POOL_MAX ? POOL_MAX : np);
}

static int pool_alloc(pool *p, size_t cap, size_t m, size_t k)
{
    p->len = 0;
    p->cap = cap;
    p->t = malloc(cap * m * k * sizeof(double));
    p->val = malloc(cap * sizeof(double));
    p->sigma = malloc(cap * sizeof(double));
    p->dirs = malloc(cap * 2 * k * sizeof(double));
    p->sgn = malloc(cap * sizeof(int));
    return p->t && p->val && p->sigma && p->dirs && p->sgn ? GPMC_OK : GPMC_ENOMEM;
}

static void pool_free(pool *p)
{
    free(p->t);
    free(p->val);
    free(p->sigma);
    free(p->dirs);
    free(p->sgn);
}

/* Insert the tuple t (t[j]: vector j) with value v if it is among the cap best; ties keep
 * the earlier tuple. */
static void pool_offer(const gpmc_search *s, pool *p, const double *const *t, double v)
{
    size_t mk = s->m * s->k;
    if (!(v >= 0) || (p->len == p->cap && v <= p->val[p->len - 1]))
        return;
    size_t pos = p->len < p->cap ? p->len : p->cap - 1;
    while (pos > 0 && p->val[pos - 1] < v) {
        p->val[pos] = p->val[pos - 1];
        memcpy(p->t + pos * mk, p->t + (pos - 1) * mk, mk * sizeof(double));
        pos--;
    }
    p->val[pos] = v;
    for (size_t j = 0; j < s->m; j++)
        memcpy(p->t + pos * mk + j * s->k, t[j], s->k * sizeof(double));
    if (p->len < p->cap)
        p->len++;
}

static int objective_ok(const gpmc_search_objective *o)
{
    if (o->m == 0 || o->m > GPMC_SEARCH_MAX_TUPLE || o->k == 0 || o->batch == 0 || !o->eval)
        return 0;
    if (o->nblocks > GPMC_SEARCH_MAX_BLOCKS || (o->nblocks > 1 && !o->block))
        return 0;
    size_t sum = 0;
    for (size_t i = 0; o->nblocks > 1 && i < o->nblocks; i++) {
        if (o->block[i] == 0 || o->block[i] > o->k)
            return 0;
        sum += o->block[i];
    }
    if (o->nblocks > 1 && sum != o->k)
        return 0;
    return gpmc_search_bytes(o) != SIZE_MAX;
}

size_t gpmc_search_bytes(const gpmc_search_objective *o)
{
    size_t m = o->m, k = o->k, B = o->batch, nn = o->nnormals, cap = pool_cap(B);
    size_t kk = gpmc_size_mul(k, k);
    size_t d = gpmc_size_mul(gpmc_size_mul(m, B), k);                  /* buf */
    d = gpmc_size_add(d, gpmc_size_mul(3, B));                  /* val, bound, parent */
    d = gpmc_size_add(d, gpmc_size_mul(nn, m + 3));                    /* nsq, proj, cum */
    d = gpmc_size_add(d, gpmc_size_mul(m + 4, k));                     /* u, rhs, ew, ez */
    d = gpmc_size_add(d, gpmc_size_mul(2, kk));                        /* dmat, ea */
    d = gpmc_size_add(d, gpmc_size_mul(2, gpmc_size_mul(m, k)));       /* the bests */
    size_t entry = gpmc_size_add(gpmc_size_mul(m + 2, k), 4); /* tuple, dirs, val, sigma, sgn */
    d = gpmc_size_add(d, gpmc_size_mul(2 * cap, entry));               /* the pools */
    d = gpmc_size_add(d, gpmc_size_mul(36, k));                        /* dsyevr's work */
    if (o->cell)
        d = gpmc_size_add(d, gpmc_size_mul(nn, k));                    /* cnorm */
    if (o->smooth)
        d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(m, B), k));   /* grad */
    return gpmc_size_mul(d, sizeof(double));
}

void gpmc_search_free(gpmc_search *s)
{
    if (!s)
        return;
    free(s->nsq);
    free(s->cnorm);
    free(s->buf);
    free(s->val);
    free(s->bound);
    free(s->parent);
    free(s->u);
    pool_free(&s->main_pool);
    pool_free(&s->tied_pool);
    free(s->proj);
    free(s->cum);
    free(s->rhs);
    free(s->dmat);
    free(s->ea);
    free(s->ew);
    free(s->ez);
    free(s->ework);
    free(s->eiwork);
    free(s->all.t);
    free(s->tied.t);
    free(s->grad);
    free(s);
}

/* dsyevr's workspace, from its size query. */
static int alloc_dsyevr(gpmc_search *s)
{
    size_t k = s->k;
    double wq;
    lapack_int iq, m;
    lapack_int info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', (lapack_int)k, s->ea,
                                          (lapack_int)k, 0, 0, 1, 1, 0, &m, s->ew, s->ez,
                                          (lapack_int)k, s->isuppz, &wq, -1, &iq, -1);
    s->lwork = info == 0 ? (lapack_int)wq : 26 * (lapack_int)k;
    s->liwork = info == 0 ? iq : 10 * (lapack_int)k;
    s->ework = malloc((size_t)s->lwork * sizeof(double));
    s->eiwork = malloc((size_t)s->liwork * sizeof(lapack_int));
    return s->ework && s->eiwork ? GPMC_OK : GPMC_ENOMEM;
}

gpmc_search *gpmc_search_alloc(const gpmc_search_objective *obj)
{
    if (!objective_ok(obj))
        return NULL;
    gpmc_search *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->obj = *obj;
    s->obj.gated = NULL; /* the caller's arrays need not outlive this call */
    s->obj.block = NULL;
    s->m = obj->m;
    s->k = obj->k;
    s->batch = obj->batch;
    s->nbl = obj->nblocks > 1 ? obj->nblocks : 1;
    for (size_t i = 0, off = 0; i < s->nbl; i++) {
        s->bl_off[i] = off;
        off += s->bl_len[i] = obj->nblocks > 1 ? obj->block[i] : obj->k;
    }
    for (size_t j = 0; j < s->m; j++)
        s->id[j] = j;
    for (size_t j = 0; j < s->m; j++)
        if (!obj->gated || obj->gated[j]) {
            s->isg[j] = 1;
            s->col[j] = s->ng;
            s->gated[s->ng++] = j;
        }
    size_t m = s->m, k = s->k, B = s->batch, nn = obj->nnormals, cap = pool_cap(B);
    s->nsq = malloc((nn ? nn : 1) * sizeof(double));
    if (obj->cell)
        s->cnorm = malloc((nn ? nn : 1) * k * sizeof(double));
    s->buf = malloc(m * B * k * sizeof(double));
    s->val = malloc(B * sizeof(double));
    s->bound = malloc(B * sizeof(double));
    s->parent = malloc(B * sizeof(size_t));
    s->u = malloc(k * sizeof(double));
    s->proj = malloc((nn ? nn : 1) * (s->ng + 1) * sizeof(double));
    s->cum = malloc((nn ? nn : 1) * sizeof(double));
    s->rhs = malloc((s->ng + 1) * k * sizeof(double));
    s->dmat = malloc(k * k * sizeof(double));
    s->ea = malloc(k * k * sizeof(double));
    s->ew = malloc(k * sizeof(double));
    s->ez = malloc(k * sizeof(double));
    s->all.t = malloc(m * k * sizeof(double));
    s->tied.t = malloc(m * k * sizeof(double));
    if (obj->smooth)
        s->grad = malloc(m * B * k * sizeof(double));
    int ok = pool_alloc(&s->main_pool, cap, m, k) == GPMC_OK &&
             pool_alloc(&s->tied_pool, cap, m, k) == GPMC_OK && s->ea && s->ew && s->ez &&
             alloc_dsyevr(s) == GPMC_OK;
    if (!ok || !s->nsq || (obj->cell && !s->cnorm) || (obj->smooth && !s->grad) || !s->buf ||
        !s->val || !s->bound || !s->parent || !s->u || !s->proj || !s->cum || !s->rhs || !s->dmat || !s->all.t || !s->tied.t) {
        gpmc_search_free(s);
        return NULL;
    }
    return s;
}

void gpmc_search_set_normals(gpmc_search *s, const double *normals, size_t count)
{
    size_t k = s->k;
    s->normals = normals;
    s->nn = count < s->obj.nnormals ? count : s->obj.nnormals;
    for (size_t i = 0; i < s->nn; i++)
        s->nsq[i] = gpmc_dot(normals + i * k, normals + i * k, k);
}

double gpmc_search_best(const gpmc_search *s, int tied, const double **t)
{
    const best *b = tied ? &s->tied : &s->all;
    if (t)
        *t = b->t;
    return b->val;
}

size_t gpmc_search_evaluated(const gpmc_search *s) { return s->evaluated; }

/* t[j] = vector j of tuple b of the batch, tied vectors pointing at their source. */
static void batch_tuple(const gpmc_search *s, const size_t *tie, size_t b, const double **t)
{
    for (size_t j = 0; j < s->m; j++)
        t[j] = s->buf + (tie[j] * s->batch + b) * s->k;
}

/* The same for tuple q of a pool. */
static void pool_tuple(const gpmc_search *s, const pool *p, const size_t *tie, size_t q,
                       const double **t)
{
    for (size_t j = 0; j < s->m; j++)
        t[j] = p->t + (q * s->m + tie[j]) * s->k;
}

/* Fold one evaluated tuple into a maximum. */
static void note(const gpmc_search *s, best *bs, const double *const *t, double v)
{
    if (v > bs->val) {
        bs->val = v;
        for (size_t j = 0; j < s->m; j++)
            memcpy(bs->t + j * s->k, t[j], s->k * sizeof(double));
    }
}

static int is_tied(const gpmc_search *s, const size_t *tie)
{
    for (size_t j = 0; j < s->m; j++)
        if (tie[j] != j)
            return 1;
    return 0;
}

/* The objective at the nb tuples of the batch; every result folded into the maxima and
 * offered to `offer` (may be NULL). `poll`: check for a stop first. */
static int evaluate(gpmc_search *s, size_t nb, const size_t *tie, pool *offer, int poll)
{
    int st = poll ? gpmc_stream_poll(s->stream) : GPMC_OK; /* a stop costs one batch */
    if (st != GPMC_OK)
        return st;
    const double *blocks[GPMC_SEARCH_MAX_TUPLE];
    batch_tuple(s, tie, 0, blocks);
    if ((st = s->obj.eval(s->obj.ctx, blocks, nb, s->val)) != GPMC_OK)
        return st;
    s->evaluated += nb;
    int tied = is_tied(s, tie);
    for (size_t b = 0; b < nb; b++) {
        const double *t[GPMC_SEARCH_MAX_TUPLE];
        batch_tuple(s, tie, b, t);
        note(s, &s->all, t, s->val[b]);
        if (tied)
            note(s, &s->tied, t, s->val[b]);
        if (offer)
            pool_offer(s, offer, t, s->val[b]);
    }
    return GPMC_OK;
}

/* In a block-tied stage, the batch's first nb tuples put back on it. */
static void block_copy(gpmc_search *s, size_t nb)
{
    if (s->btie == 0)
        return;
    size_t k = s->k, off = s->bl_off[s->btie - 1], len = s->bl_len[s->btie - 1];
    for (size_t b = 0; b < nb; b++)
        memcpy(s->buf + (s->btb * s->batch + b) * k + off,
               s->buf + (s->bta * s->batch + b) * k + off, len * sizeof(double));
}

/* `count` tuples with every free vector uniform (drawn per tuple, in vector order), in
 * batches; values to vals (may be NULL), tuples offered to `offer`. */
static int phase_random(gpmc_search *s, gsl_rng *r, size_t count, const size_t *tie,
                        pool *offer, double *vals)
{
    size_t k = s->k;
    for (size_t done = 0; done < count;) {
        size_t nb = count - done < s->batch ? count - done : s->batch;
        for (size_t b = 0; b < nb; b++)
            for (size_t j = 0; j < s->m; j++)
                if (tie[j] == j)
                    gpmc_search_draw_unit(s, r, s->buf + (j * s->batch + b) * k);
        block_copy(s, nb);
        int st = evaluate(s, nb, tie, offer, 1);
        if (st != GPMC_OK)
            return st;
        if (vals)
            memcpy(vals + done, s->val, nb * sizeof(double));
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
    double t = m > 1 ? GPMC_PI * (double)i / (double)(m - 1) : GPMC_PI / 2;
    *far = t > GPMC_PI / 2;
    *delta = *far ? (i == m - 1 ? 0 : GPMC_PI - t) : t;
}

/* s->u = a uniform unit direction orthogonal to the unit vector x (len). */
static void orthogonal_direction(gpmc_search *s, gsl_rng *r, const double *x, size_t len)
{
    double proj;
    do {
        gpmc_rng_unit_vector(r, s->u, len);
        proj = gpmc_dot(s->u, x, len);
    } while (fabs(proj) > 0.99); /* keep the projected vector well conditioned */
    for (size_t i = 0; i < len; i++)
        s->u[i] -= proj * x[i];
    gpmc_search_normalize(s->u, len);
}

/* Vector b = cos(theta) x + sin(theta) u of the angle tuple j, x = vector a. */
static void angle_pair(gpmc_search *s, gsl_rng *r, size_t j, size_t total, double *x,
                       double *y)
{
    size_t k = s->k;
    double delta;
    int far;
    angle_at(j, total, &delta, &far);
    gpmc_rng_unit_vector(r, x, k);
    /* y = c x + s u, u a unit vector orthogonal to x; exact at theta = 0, pi. */
    double c = far ? -cos(delta) : cos(delta), sn = sin(delta);
    if (delta == 0 || k == 1) {
        double sign = far ? -1.0 : 1.0;
        for (size_t i = 0; i < k; i++)
            y[i] = sign * x[i];
        return;
    }
    orthogonal_direction(s, r, x, k);
    for (size_t i = 0; i < k; i++)
        y[i] = c * x[i] + sn * s->u[i];
}

/* Angle i of a block's axis of G stratified values: 0, pi, 1e-3, pi - 1e-3, 1e-1,
 * pi - 1e-1 first, then a uniform grid strictly inside (0, pi). */
static double block_axis_angle(size_t i, size_t G)
{
    static const double special[] = {0, 1e-3, 1e-1};
    const size_t ns = 2 * (sizeof special / sizeof special[0]);
    if (i < ns)
        return i % 2 == 0 ? special[i / 2] : GPMC_PI - special[i / 2];
    return GPMC_PI * (double)(i - ns + 1) / (double)(G - ns + 1);
}

/* The side of the blocks' angle grid: the smallest G with G^L >= total. */
static size_t block_grid(const gpmc_search *s, size_t total)
{
    size_t G = 1;
    for (;; G++) {
        size_t c = 1;
        for (size_t i = 0; i < s->nbl && c < total; i++)
            c *= G;
        if (c >= total)
            return G;
    }
}

/* With blocks, angle tuple j: block i of b at angle t_i from block i of a, (t_0, ...,
 * t_{L-1}) the j-th point of the G^L grid (block 0 slowest), each block drawn as in
 * angle_pair and scaled to norm 1/sqrt(L). Only grid point 0 has every t_i = 0 (b = a). */
static void angle_pair_blocks(gpmc_search *s, gsl_rng *r, size_t j, size_t total, double *x,
                              double *y)
{
    size_t G = block_grid(s, total), L = s->nbl, digit[GPMC_SEARCH_MAX_BLOCKS];
    for (size_t i = L, rest = j; i-- > 0; rest /= G)
        digit[i] = rest % G;
    for (size_t i = 0; i < L; i++) {
        size_t len = s->bl_len[i];
        double t = block_axis_angle(digit[i], G), c = cos(t), sn = sin(t);
        double *a = x + s->bl_off[i], *bb = y + s->bl_off[i], sc = 1 / sqrt((double)L);
        gpmc_rng_unit_vector(r, a, len);
        if (len == 1) {
            bb[0] = c >= 0 ? a[0] : -a[0];
        } else {
            orthogonal_direction(s, r, a, len);
            for (size_t c2 = 0; c2 < len; c2++)
                bb[c2] = t == 0 ? a[c2] : t == GPMC_PI ? -a[c2] : c * a[c2] + sn * s->u[c2];
        }
        for (size_t c2 = 0; c2 < len; c2++)
            a[c2] *= sc, bb[c2] *= sc;
    }
}

/* The angle phase (search.h). Not polled: it is short. The theta = 0 tuples are tied
 * (b = a) when `tied_ok`: noted as such and offered to the tied pool. */
static int phase_angles(gpmc_search *s, gsl_rng *r, const gpmc_search_plan *pl, int tied_ok)
{
    size_t k = s->k, ia = pl->angle_a, ib = pl->angle_b;
    const size_t *id = s->id;
    size_t tab[GPMC_SEARCH_MAX_TUPLE];
    memcpy(tab, id, s->m * sizeof *tab);
    tab[ib] = ia;
    for (size_t done = 0; done < pl->angles;) {
        size_t nb = pl->angles - done < s->batch ? pl->angles - done : s->batch;
        for (size_t b = 0; b < nb; b++) {
            double *xa = s->buf + (ia * s->batch + b) * k, *xb = s->buf + (ib * s->batch + b) * k;
            if (s->nbl > 1)
                angle_pair_blocks(s, r, done + b, pl->angles, xa, xb);
            else
                angle_pair(s, r, done + b, pl->angles, xa, xb);
            for (size_t j = 0; j < s->m; j++)
                if (j != ia && j != ib)
                    gpmc_search_draw_unit(s, r, s->buf + (j * s->batch + b) * k);
        }
        int st = evaluate(s, nb, id, NULL, 0);
        if (st != GPMC_OK)
            return st;
        for (size_t b = 0; b < nb; b++) {
            const double *t[GPMC_SEARCH_MAX_TUPLE], *tt[GPMC_SEARCH_MAX_TUPLE];
            double v = s->val[b], delta;
            int far, diag;
            if (s->nbl > 1) {
                diag = done + b == 0; /* grid point 0: every block at angle 0 */
            } else {
                angle_at(done + b, pl->angles, &delta, &far);
                diag = delta == 0 && !far;
            }
            batch_tuple(s, id, b, t);
            batch_tuple(s, tab, b, tt);
            if (tied_ok && diag) { /* evaluate() noted it as evaluated; tied, it is (a, a) */
                note(s, &s->tied, tt, v);
                pool_offer(s, &s->tied_pool, tt, v);
            }
            pool_offer(s, &s->main_pool, t, v);
        }
        done += nb;
    }
    return GPMC_OK;
}

/* One eigenpair of d (il: 1 the smallest, k the largest) by dsyevr; 0 if it fails. */
static int eigenpair(gpmc_search *s, const double *d, lapack_int il, double *lambda, double *v)
{
    size_t k = s->k;
    lapack_int m = 0;
    memcpy(s->ea, d, k * k * sizeof(double));
    lapack_int info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', (lapack_int)k, s->ea,
                                          (lapack_int)k, 0, 0, il, il, 0, &m, s->ew, v,
                                          (lapack_int)k, s->isuppz, s->ework, s->lwork,
                                          s->eiwork, s->liwork);
    *lambda = s->ew[0];
    return info == 0 && m == 1 && isfinite(*lambda);
}

/* For the matrix d (k x k, both triangles): the unit eigenvectors of its largest and its
 * smallest eigenvalue (dirs, 2 x k), and the sign of the one of largest modulus (0 if
 * LAPACK fails: the parent then gets random moves only). */
static int direction(gpmc_search *s, const double *d, double *dirs, int *sgn)
{
    size_t k = s->k;
    double lmax, lmin;
    int ok = eigenpair(s, d, (lapack_int)k, &lmax, dirs) && eigenpair(s, d, 1, &lmin, dirs + k);
    *sgn = !ok ? 0 : fabs(lmax) >= fabs(lmin) ? 1 : -1;
    if (!ok)
        memset(dirs, 0, 2 * k * sizeof(double)); /* screening bounds 0: no preference */
    return GPMC_OK;
}

/* Parent q's aim: v and its sign from the objective's matrix at tuple t (slot as for the
 * aim callback); sign 0 without an aim. */
static int aim_parent(gpmc_search *s, pool *p, size_t q, size_t slot, const double *const *t)
{
    if (!s->obj.aim) {
        p->sgn[q] = 0;
        return GPMC_OK;
    }
    int st = s->obj.aim(s->obj.ctx, slot, t, s->dmat);
    return st != GPMC_OK ? st : direction(s, s->dmat, p->dirs + 2 * q * s->k, &p->sgn[q]);
}

/* Parent q after its generation: replaced by child `b` of the last eval batch (value v) if
 * better (sigma doubles), else kept (sigma halves, restarting when tiny). */
static int settle(gpmc_search *s, pool *p, size_t q, size_t b, double v, const size_t *tie)
{
    if (!(v > p->val[q])) {
        p->sigma[q] *= 0.5;
        if (p->sigma[q] < SIGMA_MIN)
            p->sigma[q] = SIGMA_RESTART;
        return GPMC_OK;
    }
    const double *t[GPMC_SEARCH_MAX_TUPLE];
    batch_tuple(s, tie, b, t);
    p->val[q] = v;
    for (size_t j = 0; j < s->m; j++)
        memcpy(p->t + (q * s->m + j) * s->k, t[j], s->k * sizeof(double));
    p->sigma[q] = fmin(2 * p->sigma[q], SIGMA_MAX);
    return aim_parent(s, p, q, b, t);
}

/* One screened generation (the objective has screen and aim): nb children ranked by their
 * certified lower bounds at the parents' extreme eigenvectors, then the best child of
 * each parent moved to batch slot q and evaluated exactly (np more evaluations). Only the
 * exact values are noted, so every reported value is the objective's own. */
static int screened_generation(gpmc_search *s, pool *p, size_t nb, const size_t *tie)
{
    size_t np = p->len, k = s->k;
    const double *blocks[GPMC_SEARCH_MAX_TUPLE];
    int st = gpmc_stream_poll(s->stream);
    if (st != GPMC_OK)
        return st;
    batch_tuple(s, tie, 0, blocks);
    if ((st = s->obj.screen(s->obj.ctx, blocks, nb, s->parent, p->dirs, np, 2, s->bound)) !=
        GPMC_OK)
        return st;
    s->evaluated += nb;
    size_t pick[POOL_MAX];
    for (size_t q = 0; q < np; q++)
        pick[q] = q;
    for (size_t b = np; b < nb; b++)
        if (s->bound[b] > s->bound[pick[s->parent[b]]])
            pick[s->parent[b]] = b;
    /* pick[q] = q (mod np) >= q: moving them down in q order overwrites no later pick. */
    for (size_t q = 0; q < np; q++)
        if (pick[q] != q)
            for (size_t j = 0; j < s->m; j++)
                if (tie[j] == j)
                    memcpy(s->buf + (j * s->batch + q) * k, s->buf + (j * s->batch + pick[q]) * k,
                           k * sizeof(double));
    if ((st = evaluate(s, np, tie, NULL, 0)) != GPMC_OK)
        return st;
    for (size_t q = 0; q < np; q++)
        if ((st = settle(s, p, q, q, s->val[q], tie)) != GPMC_OK)
            return st;
    return GPMC_OK;
}

/* Parents q and q2 of the pool exchanged, with what the climber knows about them. */
static void pool_swap(const gpmc_search *s, pool *p, size_t q, size_t q2)
{
    size_t mk = s->m * s->k, k2 = 2 * s->k;
    for (size_t i = 0; i < mk; i++) {
        double a = p->t[q * mk + i];
        p->t[q * mk + i] = p->t[q2 * mk + i];
        p->t[q2 * mk + i] = a;
    }
    for (size_t i = 0; i < k2; i++) {
        double a = p->dirs[q * k2 + i];
        p->dirs[q * k2 + i] = p->dirs[q2 * k2 + i];
        p->dirs[q2 * k2 + i] = a;
    }
    double v = p->val[q], sg = p->sigma[q];
    int sn = p->sgn[q];
    p->val[q] = p->val[q2], p->sigma[q] = p->sigma[q2], p->sgn[q] = p->sgn[q2];
    p->val[q2] = v, p->sigma[q2] = sg, p->sgn[q2] = sn;
}

/* The pool cut to its best half (at least one parent): a stable insertion sort by value,
 * so equal parents keep their order and the run stays reproducible. */
static void pool_keep_best(const gpmc_search *s, pool *p)
{
    for (size_t i = 1; i < p->len; i++)
        for (size_t q = i; q > 0 && p->val[q - 1] < p->val[q]; q--)
            pool_swap(s, p, q - 1, q);
    p->len = p->len / 2 > 0 ? p->len / 2 : 1;
}

/* Climb from the pool's tuples with `budget` evaluations (search.h), every tuple under
 * `tie`: generations of children, the best child of each parent replacing it if better.
 * With a screen, a generation of nb children costs nb + np of the budget. The parents'
 * aims at the start come from one unbatched aim each (not counted: known tuples), later
 * ones from the batch that produced them. halve > 0: after each `halve` share of the
 * budget the parents are cut to their best half, so the budget's end goes to the best
 * basins (successive halving). */
static int climb(gpmc_search *s, pool *p, size_t budget, const size_t *tie, gsl_rng *r,
                 double halve)
{
    size_t np = p->len, total = budget, cuts = 0;
    if (np == 0 || budget == 0)
        return GPMC_OK;
    int st, screened = s->obj.screen && s->obj.aim;
    const double *t[GPMC_SEARCH_MAX_TUPLE];
    for (size_t q = 0; q < np; q++) {
        p->sigma[q] = SIGMA0;
        pool_tuple(s, p, tie, q, t);
        if ((st = aim_parent(s, p, q, GPMC_SEARCH_FRESH, t)) != GPMC_OK)
            return st;
    }
    double bestc[POOL_MAX];
    size_t bestb[POOL_MAX] = {0};
    while (budget > 0) {
        if (halve > 0 && np > 1 &&
            (double)(total - budget) >= halve * (double)(cuts + 1) * (double)total) {
            pool_keep_best(s, p);
            np = p->len;
            cuts++;
        }
        /* A screened generation needs more children than parents to choose from. */
        if (screened && budget > 2 * np) {
            size_t nb = budget - np < s->batch ? budget - np : s->batch;
            if ((st = gpmc_search_children(s, p, nb, tie, r)) != GPMC_OK)
                return st;
            block_copy(s, nb);
            if ((st = screened_generation(s, p, nb, tie)) != GPMC_OK)
                return st;
            budget -= nb + np;
            continue;
        }
        size_t nb = budget < s->batch ? budget : s->batch;
        if ((st = gpmc_search_children(s, p, nb, tie, r)) != GPMC_OK)
            return st;
        block_copy(s, nb);
        if ((st = evaluate(s, nb, tie, NULL, 1)) != GPMC_OK)
            return st;
        for (size_t q = 0; q < np; q++)
            bestc[q] = -1;
        for (size_t b = 0; b < nb; b++) {
            size_t q = s->parent[b];
            if (s->val[b] > bestc[q]) {
                bestc[q] = s->val[b];
                bestb[q] = b;
            }
        }
        for (size_t q = 0; q < np; q++)
            if ((st = settle(s, p, q, bestb[q], bestc[q], tie)) != GPMC_OK)
                return st;
        budget -= nb;
    }
    return GPMC_OK;
}

/* The caller's seed tuples, evaluated in batches and offered to the main pool. */
static int phase_seeds(gpmc_search *s, const gpmc_search_plan *pl)
{
    size_t k = s->k, mk = s->m * k;
    const size_t *id = s->id;
    for (size_t done = 0; done < pl->nseeds;) {
        size_t nb = pl->nseeds - done < s->batch ? pl->nseeds - done : s->batch;
        for (size_t b = 0; b < nb; b++)
            for (size_t j = 0; j < s->m; j++)
                memcpy(s->buf + (j * s->batch + b) * k, pl->seeds + (done + b) * mk + j * k,
                       k * sizeof(double));
        int st = evaluate(s, nb, id, &s->main_pool, 1);
        if (st != GPMC_OK)
            return st;
        done += nb;
    }
    return GPMC_OK;
}

/* A stage of `budget` evaluations on the pool tp under `tie`: a seed batch of fresh
 * tuples for global coverage (half the budget, at most one batch, at least the pool's
 * size), offered to tp, then a climb from tp's best. */
static int fresh_then_climb(gpmc_search *s, gsl_rng *r, pool *tp, size_t budget,
                            const size_t *tie)
{
    size_t nb = budget / 2 < s->batch ? budget / 2 : s->batch;
    if (nb < tp->cap)
        nb = tp->cap < budget ? tp->cap : budget;
    int st = phase_random(s, r, nb, tie, tp, NULL);
    return st != GPMC_OK ? st : climb(s, tp, budget - nb, tie, r, 0);
}

/* The block-tied stage of block blk (search.h) on a pool of its own; its best offered to
 * the main pool. Every tuple it draws or makes is put back on the block tie before
 * evaluation. */
static int block_tied_stage(gpmc_search *s, gsl_rng *r, const gpmc_search_plan *pl,
                            size_t blk, const size_t *id)
{
    pool *tp = &s->tied_pool;
    tp->len = 0;
    s->btie = blk + 1;
    s->bta = pl->angle_a;
    s->btb = pl->angle_b;
    int st = fresh_then_climb(s, r, tp, pl->block_tied, id);
    s->btie = 0;
    if (st == GPMC_OK && tp->len > 0) {
        const double *t[GPMC_SEARCH_MAX_TUPLE];
        pool_tuple(s, tp, id, 0, t);
        pool_offer(s, &s->main_pool, t, tp->val[0]);
    }
    return st;
}

/* The annealed ascents' share of `search` (saturating: plan_check refuses it then). */
static size_t smooth_cost(const gpmc_search_plan *pl)
{
    if (pl->smooth_starts == 0)
        return 0;
    if (pl->smooth_steps >= SIZE_MAX / pl->smooth_starts)
        return SIZE_MAX;
    return pl->smooth_starts * (pl->smooth_steps + 1);
}

/* The annealed ascents (search.h) in batches, each batch's end points evaluated exactly
 * and offered to the main pool. */
static int phase_smooth(gpmc_search *s, gsl_rng *r, const gpmc_search_plan *pl)
{
    for (size_t done = 0; done < pl->smooth_starts;) {
        size_t nb = pl->smooth_starts - done < s->batch ? pl->smooth_starts - done : s->batch;
        int st = gpmc_search_smooth_walk(s, r, nb, pl);
        if (st != GPMC_OK || (st = evaluate(s, nb, s->id, &s->main_pool, 1)) != GPMC_OK)
            return st;
        done += nb;
    }
    return GPMC_OK;
}

/* GPMC_OK if the plan fits the objective (indices in range, a tie pointing backwards,
 * a tied gated vector's source gated). *angles_tied: the tie is exactly b = a. */
static int plan_check(const gpmc_search *s, const gpmc_search_plan *pl, int *angles_tied)
{
    size_t m = s->m;
    int ab_ok = pl->angle_a < m && pl->angle_b < m && pl->angle_a != pl->angle_b;
    if (pl->angles > 0 && !ab_ok)
        return gpmc_error(GPMC_EINVAL, "search", "angle vectors %zu, %zu of a %zu-tuple",
                          pl->angle_a, pl->angle_b, m);
    if (pl->block_tied > 0 &&
        (s->nbl < 2 || pl->tie || !ab_ok || pl->block_tied > pl->search / s->nbl))
        return gpmc_error(GPMC_EINVAL, "search",
                          "block_tied %zu needs blocks, no tie, vectors angle_a != angle_b "
                          "and at most search / blocks (%zu / %zu)",
                          pl->block_tied, pl->search, s->nbl);
    if (pl->draws > GPMC_SEARCH_DRAWS_MAX || pl->substream > GPMC_SEARCH_DRAWS_STRIDE - 5)
        return gpmc_error(GPMC_EINVAL, "search", "draws %u (at most %d), substream %u (below %u)",
                          (unsigned)pl->draws, GPMC_SEARCH_DRAWS_MAX, (unsigned)pl->substream,
                          (unsigned)(GPMC_SEARCH_DRAWS_STRIDE - 4));
    if (!(pl->halve_every >= 0 && pl->halve_every < 1))
        return gpmc_error(GPMC_EINVAL, "search", "halve_every %g is not in [0, 1)",
                          pl->halve_every);
    if (pl->flip_growth > GPMC_SEARCH_FLIP_GROWTH_MAX)
        return gpmc_error(GPMC_EINVAL, "search", "flip_growth %zu is above %d", pl->flip_growth,
                          GPMC_SEARCH_FLIP_GROWTH_MAX);
    if (pl->smooth_starts > 0 && (!s->obj.smooth || s->nbl > 1 || pl->smooth_steps == 0))
        return gpmc_error(GPMC_EINVAL, "search",
                          "smooth_starts %zu needs an objective with smooth, no blocks and "
                          "smooth_steps > 0 (%zu)",
                          pl->smooth_starts, pl->smooth_steps);
    if (pl->smooth_starts > 0 && pl->smooth_untie > 0 && !ab_ok)
        return gpmc_error(GPMC_EINVAL, "search", "smooth_untie needs vectors angle_a != angle_b");
    *angles_tied = pl->tie != NULL && pl->angles > 0;
    for (size_t j = 0; pl->tie && j < m; j++) {
        size_t i = pl->tie[j];
        if (i > j || (s->isg[j] && !s->isg[i]))
            return gpmc_error(GPMC_EINVAL, "search", "tie[%zu] = %zu", j, i);
        if (i != (j == pl->angle_b ? pl->angle_a : j))
            *angles_tied = 0;
    }
    return GPMC_OK;
}

int gpmc_search_run(gpmc_search *s, gpmc_stream *stream, const gpmc_search_plan *pl)
{
    const size_t *id = s->id;
    int angles_tied = 0, st;
    if ((st = plan_check(s, pl, &angles_tied)) != GPMC_OK)
        return st;
    /* Everything below starts afresh: no state from an earlier run is read. */
    s->stream = stream;
    s->all.val = s->tied.val = -1;
    s->evaluated = 0;
    s->btie = 0;
    s->flip_growth = pl->flip_growth;
    s->main_pool.len = s->tied_pool.len = 0;
    gsl_rng *r = stream->r;
    uint32_t s0 = gpmc_search_substream(pl->substream, pl->draws);

    gpmc_stream_substream(stream, s0);
    if ((st = phase_random(s, r, pl->random, id, &s->main_pool, pl->random_vals)) != GPMC_OK)
        return st;
    gpmc_stream_substream(stream, s0 + 1);
    if ((st = phase_angles(s, r, pl, angles_tied)) != GPMC_OK)
        return st;

    /* The tied stage gets a quarter, at least one evaluation whenever there is a budget
     * (so the tied maximum exists unless angles = search = 0; search < 4 rounds to one). */
    size_t stied = pl->tie ? pl->search / 4 : 0, sfree;
    if (pl->tie && stied == 0 && pl->search > 0)
        stied = 1;
    sfree = pl->search - stied;
    size_t ssmooth = smooth_cost(pl);
    if (ssmooth > sfree)
        return gpmc_error(GPMC_EINVAL, "search",
                          "smooth_starts %zu of %zu steps cost %zu, above the %zu of search "
                          "left after the tied stage",
                          pl->smooth_starts, pl->smooth_steps, ssmooth, sfree);
    sfree -= ssmooth;
    if ((st = phase_seeds(s, pl)) != GPMC_OK)
        return st;
    gpmc_stream_substream(stream, s0 + 2); /* the tied or the block-tied stages */
    /* the tied pool keeps the tied tuples of the angle phase */
    if (stied > 0 && (st = fresh_then_climb(s, r, &s->tied_pool, stied, pl->tie)) != GPMC_OK)
        return st;
    if (pl->block_tied > 0) {
        sfree -= s->nbl * pl->block_tied;
        for (size_t blk = 0; blk < s->nbl; blk++)
            if ((st = block_tied_stage(s, r, pl, blk, id)) != GPMC_OK)
                return st;
    }
    if (pl->smooth_starts > 0) {
        gpmc_stream_substream(stream, s0 + 4);
        if ((st = phase_smooth(s, r, pl)) != GPMC_OK)
            return st;
    }
    gpmc_stream_substream(stream, s0 + 3);
    if (s->tied.val >= 0) {
        const double *t[GPMC_SEARCH_MAX_TUPLE];
        for (size_t j = 0; j < s->m; j++)
            t[j] = s->tied.t + j * s->k;
        pool_offer(s, &s->main_pool, t, s->tied.val);
    }
    return climb(s, &s->main_pool, sfree, id, r, pl->halve_every);
}
