/* How the climb makes a parent's children (src/numerics/search_internal.h; the algorithm
 * is in include/gpmc/search.h): random steps of the free vectors, aimed flips across the
 * hyperplane normals (the WDC: W's rows) and crossings of a piece's boundaries (cell
 * objectives: a deep network's Lambda^T w). Every draw's order is part of the results. */
#include "search_internal.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

void gpmc_search_normalize(double *x, size_t k)
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

/* Every block of x, unit on its own, scaled to norm 1/sqrt(nblocks). */
static void scale_blocks(const gpmc_search *s, double *x)
{
    double sc = 1 / sqrt((double)s->nbl);
    for (size_t i = 0; i < s->nbl; i++)
        for (size_t c = s->bl_off[i]; c < s->bl_off[i] + s->bl_len[i]; c++)
            x[c] *= sc;
}

void gpmc_search_unit(const gpmc_search *s, double *x)
{
    if (s->nbl == 1) {
        gpmc_search_normalize(x, s->k);
        return;
    }
    for (size_t i = 0; i < s->nbl; i++)
        gpmc_search_normalize(x + s->bl_off[i], s->bl_len[i]);
    scale_blocks(s, x);
}

void gpmc_search_draw_unit(const gpmc_search *s, gsl_rng *r, double *x)
{
    if (s->nbl == 1) {
        gpmc_rng_unit_vector(r, x, s->k);
        return;
    }
    for (size_t i = 0; i < s->nbl; i++)
        gpmc_rng_unit_vector(r, x + s->bl_off[i], s->bl_len[i]);
    scale_blocks(s, x);
}

/* The Gaussian step's scale on block i: an angle ~sigma on the block's own sphere. */
static double block_scale(const gpmc_search *s, size_t i, double sigma)
{
    return s->nbl == 1 ? sigma / sqrt((double)s->k)
                       : sigma / sqrt((double)s->bl_len[i] * (double)s->nbl);
}

/* x + a step of angle ~sigma (for small sigma) on block `only` (every block if only =
 * nbl), made unit. */
static void perturb(const gpmc_search *s, gsl_rng *r, const double *from, double sigma,
                    size_t only, double *to)
{
    memcpy(to, from, s->k * sizeof(double));
    for (size_t i = 0; i < s->nbl; i++) {
        if (only != s->nbl && only != i)
            continue;
        double sc = block_scale(s, i, sigma);
        for (size_t c = s->bl_off[i]; c < s->bl_off[i] + s->bl_len[i]; c++)
            to[c] = from[c] + sc * gsl_ran_gaussian_ziggurat(r, 1.0);
    }
    gpmc_search_unit(s, to);
}

/* The direction that aims parent q's flips: its eigenvector of largest |eigenvalue|. */
static const double *aim_vector(const gpmc_search *s, const pool *p, size_t q)
{
    return p->dirs + (2 * q + (p->sgn[q] >= 0 ? 0 : 1)) * s->k;
}

/* Targeted moves. At a parent with D v = lambda v, |lambda| = ||D||, for the WDC the
 * masked Gram contributes (nu_i.v)^2 to v^T D v for every hyperplane on whose positive
 * side all gated vectors lie. If lambda > 0, moving the vectors that are not there just
 * across adds (nu_i.v)^2; if lambda < 0, moving the nearest one out subtracts it. The
 * objective is flat between hyperplanes, so these jumps are what random steps find only
 * by luck. Candidates are weighted by gain over distance: (nu_i.v)^2 / (d_i/|nu_i| +
 * FLIP_REACH), d_i the summed (or the smallest) |nu_i.x| of the vectors to move. Fills
 * s->proj and s->cum; returns the total weight (0: no candidate). */
static double flip_weights(gpmc_search *s, const pool *p, size_t q, const size_t *tie)
{
    size_t k = s->k, ng = s->ng, nc = ng + 1;
    double *pr = s->proj, total = 0;
    int sgn = p->sgn[q];
    for (size_t c = 0; c < nc; c++) /* the columns: the gated vectors, then v */
        memcpy(s->rhs + c * k, c < ng ? p->t + (q * s->m + s->gated[c]) * k : aim_vector(s, p, q),
               k * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->nn, (int)nc, (int)k, 1.0,
                s->normals, (int)k, s->rhs, (int)k, 0.0, pr, (int)nc);
    for (size_t i = 0; i < s->nn; i++) {
        double wn = s->nsq[i], g = 0;
        if (wn > 0) {
            const double *pi = pr + nc * i;
            double c = pi[ng], inv = 1 / sqrt(wn), dist = -1;
            int allpos = 1;
            for (size_t g2 = 0; g2 < ng; g2++)
                allpos &= pi[s->col[tie[s->gated[g2]]]] > 0;
            if (sgn > 0 && !allpos) {
                for (size_t g2 = 0; g2 < ng; g2++) {
                    size_t j = s->gated[g2];
                    double a = pi[s->col[tie[j]]], d = tie[j] != j || a > 0 ? 0 : -a;
                    dist = g2 == 0 ? d : dist + d;
                }
            } else if (sgn < 0 && allpos) {
                for (size_t g2 = 0; g2 < ng; g2++) { /* the nearest; the first on ties */
                    size_t j = s->gated[g2];
                    if (tie[j] == j && (g2 == 0 || pi[s->col[j]] < dist))
                        dist = pi[s->col[j]];
                }
            }
            if (dist >= 0)
                g = c * c / (dist * inv + FLIP_REACH);
        }
        total += g;
        s->cum[i] = total;
    }
    return total;
}

/* The index i of a draw with probability (cum[i] - cum[i-1]) / total: the first i with
 * cum[i] > u, u uniform on [0, total) (one draw). */
static size_t draw_weighted(const double *cum, size_t n, double total, gsl_rng *r)
{
    size_t lo = 0, hi = n - 1;
    double u = gsl_rng_uniform(r) * total;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The flips of a parent's i-th flip child: flip_growth^(i mod 4), or 1. */
static size_t flips_of(const gpmc_search *s, size_t i)
{
    size_t f = 1;
    for (size_t e = 0; s->flip_growth > 1 && e < i % 4; e++)
        f *= s->flip_growth;
    return f;
}

/* One flip of the batch's tuple b (a child of parent q) across a hyperplane drawn by the
 * parent's weights (s->proj, s->cum). fresh: the tuple has moved since the parent (an
 * earlier flip of the same child), so its projections on the drawn normal are taken
 * again; a hyperplane it already crossed is then left as it is. */
static void flip_once(gpmc_search *s, const pool *p, size_t q, const size_t *tie,
                      double total, gsl_rng *r, size_t b, int fresh)
{
    size_t k = s->k, ng = s->ng, nc = ng + 1;
    size_t i = draw_weighted(s->cum, s->nn, total, r);
    const double *wi = s->normals + i * k, *pi = s->proj + nc * i;
    double wn = s->nsq[i], target = FLIP_MARGIN * sqrt(wn);
    double pc[GPMC_SEARCH_MAX_TUPLE + 1];
    if (fresh) { /* the projections of the child as it is now */
        for (size_t g2 = 0; g2 < ng; g2++) {
            size_t j = s->gated[g2];
            if (tie[j] == j) {
                pc[s->col[j]] = cblas_ddot((int)k, wi, 1, s->buf + (j * s->batch + b) * k, 1);
                if (p->sgn[q] <= 0 && !(pc[s->col[j]] > 0))
                    return; /* already out of this half-space: nothing to take out */
            }
        }
        pi = pc;
    }
    double step[GPMC_SEARCH_MAX_TUPLE] = {0}; /* along nu_i, per gated vector */
    size_t near = s->gated[0];
    for (size_t g2 = 0; g2 < ng; g2++) {
        size_t j = s->gated[g2];
        if (tie[j] != j) /* a fresh pi has no column for it */
            continue;
        double a = pi[s->col[j]];
        if (p->sgn[q] > 0)
            step[g2] = a > 0 ? 0 : (target - a) / wn;
        else if (g2 > 0 && a < pi[s->col[near]])
            near = j;
    }
    if (p->sgn[q] <= 0)
        step[s->col[near]] = (-target - pi[s->col[near]]) / wn;
    for (size_t g2 = 0; g2 < ng; g2++) {
        size_t j = s->gated[g2];
        if (tie[j] != j)
            continue;
        double *x = s->buf + (j * s->batch + b) * k;
        for (size_t c = 0; c < k; c++)
            x[c] += step[g2] * wi[c];
        gpmc_search_unit(s, x);
    }
}

/* Child of parent q (written to the batch's tuple b): the parent moved across nflips
 * hyperplanes in turn, each drawn by weight (s->proj, s->cum current), each flip from
 * where the previous one left it. Many flips at once cover in one generation a climb
 * that single flips make over many, each of them a selection step (search.h). */
static void flip_child(gpmc_search *s, const pool *p, size_t q, const size_t *tie,
                       double total, gsl_rng *r, size_t b, size_t nflips)
{
    for (size_t j = 0; j < s->m; j++)
        if (tie[j] == j)
            memcpy(s->buf + (j * s->batch + b) * s->k, p->t + (q * s->m + j) * s->k,
                   s->k * sizeof(double));
    for (size_t f = 0; f < nflips; f++)
        flip_once(s, p, q, tie, total, r, b, f > 0);
}

/* Child of parent q (to the batch's tuple b) by a random step `move` of the free vectors
 * (f of them, L blocks; without blocks L = 1 and the single-block moves are the
 * single-vector ones): move < fL moves block move % L of vector move / L alone (f = 1:
 * move < L); then one moving all independently; then (f >= 2) L moving one block of all
 * by the same step, and one moving all blocks of all by the same step (these keep the
 * angles between them, e.g. of near-parallel and near-antipodal pairs). Vectors and
 * blocks not moved are copied. */
static void random_child(gpmc_search *s, const pool *p, size_t q, size_t move,
                         const size_t *tie, gsl_rng *r, size_t b)
{
    size_t k = s->k, f = 0, L = s->nbl;
    double sg = p->sigma[q];
    double *to[GPMC_SEARCH_MAX_TUPLE];
    const double *from[GPMC_SEARCH_MAX_TUPLE];
    for (size_t j = 0; j < s->m; j++)
        if (tie[j] == j) {
            to[f] = s->buf + (j * s->batch + b) * k;
            from[f++] = p->t + (q * s->m + j) * k;
        }
    size_t single = L == 1 ? f : f * L, common = single + 1;
    if (L == 1 && f == 1)
        single = 0; /* one free vector, one block: the only move is move 0, "all" */
    /* block-tied (all vectors free): the tied block of btb alone would be copied back
     * over; move that of bta instead, which the copy carries to btb */
    if (s->btie > 0 && L > 1 && move == s->btb * L + s->btie - 1)
        move = s->bta * L + s->btie - 1;
    if (move >= common) { /* the same step: one block (move - common < L) or all */
        size_t blk = L > 1 && move - common < L ? move - common : L;
        for (size_t j = 0; j < f; j++)
            memcpy(to[j], from[j], k * sizeof(double));
        for (size_t i = 0; i < L; i++) {
            if (blk != L && blk != i)
                continue;
            double sc = block_scale(s, i, sg);
            for (size_t c = s->bl_off[i]; c < s->bl_off[i] + s->bl_len[i]; c++) {
                double g = sc * gsl_ran_gaussian_ziggurat(r, 1.0);
                for (size_t j = 0; j < f; j++)
                    to[j][c] = from[j][c] + g;
            }
        }
        for (size_t j = 0; j < f; j++)
            gpmc_search_unit(s, to[j]);
        return;
    }
    for (size_t j = 0; j < f; j++)
        if (move < single && move / L == j)
            perturb(s, r, from[j], sg, L == 1 ? L : move % L, to[j]);
        else if (move >= single)
            perturb(s, r, from[j], sg, L, to[j]);
        else
            memcpy(to[j], from[j], k * sizeof(double));
}

/* Parent q's crossing candidates (objective with `cell`, no aim): one free gated vector,
 * drawn, and its piece's boundaries in s->cnorm, pre-activations nu_i.x in s->proj,
 * |nu_i|^2 in s->nsq, cumulative weights 1 / (|nu_i.x| / |nu_i| + FLIP_REACH) in s->cum.
 * Returns the total weight (0: no candidate); *vec the vector. */
static int cross_weights(gpmc_search *s, const pool *p, size_t q, const size_t *tie,
                         gsl_rng *r, size_t *vec, double *total)
{
    size_t k = s->k, f = 0, free_g[GPMC_SEARCH_MAX_TUPLE], cnt = 0;
    *total = 0;
    for (size_t g2 = 0; g2 < s->ng; g2++)
        if (tie[s->gated[g2]] == s->gated[g2])
            free_g[f++] = s->gated[g2];
    if (f == 0)
        return GPMC_OK;
    *vec = free_g[f > 1 ? gsl_rng_uniform_int(r, f) : 0];
    const double *x = p->t + (q * s->m + *vec) * k;
    int st = s->obj.cell(s->obj.cell_ctx, x, s->cnorm, &cnt);
    if (st != GPMC_OK)
        return st;
    cnt = cnt < s->obj.nnormals ? cnt : s->obj.nnormals;
    s->nn = cnt;
    if (cnt == 0)
        return GPMC_OK;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)cnt, (int)k, 1.0, s->cnorm, (int)k, x, 1,
                0.0, s->proj, 1);
    for (size_t i = 0; i < cnt; i++) {
        const double *nu = s->cnorm + i * k;
        double wn = gpmc_dot(nu, nu, k), g = 0;
        s->nsq[i] = wn;
        if (wn > 0)
            g = 1 / (fabs(s->proj[i]) / sqrt(wn) + FLIP_REACH);
        *total += g;
        s->cum[i] = *total;
    }
    return GPMC_OK;
}

/* Child of parent q (to the batch's tuple b): vector `vec` moved just across a boundary
 * drawn by weight (cross_weights current), the other vectors copied. */
static void cross_child(gpmc_search *s, const pool *p, size_t q, const size_t *tie,
                        size_t vec, double total, gsl_rng *r, size_t b)
{
    size_t k = s->k;
    for (size_t j = 0; j < s->m; j++)
        if (tie[j] == j)
            memcpy(s->buf + (j * s->batch + b) * k, p->t + (q * s->m + j) * k,
                   k * sizeof(double));
    size_t i = draw_weighted(s->cum, s->nn, total, r);
    const double *nu = s->cnorm + i * k;
    double a = s->proj[i], wn = s->nsq[i];
    if (!(wn > 0))
        return;
    double target = (a > 0 ? -1 : 1) * FLIP_MARGIN * sqrt(wn), step = (target - a) / wn;
    double *x = s->buf + (vec * s->batch + b) * k;
    for (size_t c = 0; c < k; c++)
        x[c] += step * nu[c];
    gpmc_search_unit(s, x);
}

/* Number of random moves for f free vectors (random_child). */
static size_t random_moves(const gpmc_search *s, const size_t *tie)
{
    size_t f = 0, L = s->nbl;
    for (size_t j = 0; j < s->m; j++)
        f += tie[j] == j;
    if (L == 1)
        return f >= 2 ? f + 2 : 1;
    return f >= 2 ? f * L + 1 + L + 1 : L + 1;
}

int gpmc_search_children(gpmc_search *s, const pool *p, size_t nb, const size_t *tie,
                         gsl_rng *r)
{
    size_t np = p->len, nmoves = random_moves(s, tie);
    int crossing = s->obj.cell && !s->obj.aim;
    for (size_t q = 0; q < np && q < nb; q++) {
        double total = p->sgn[q] != 0 && s->nn > 0 ? flip_weights(s, p, q, tie) : 0;
        size_t vec = 0;
        int st = crossing ? cross_weights(s, p, q, tie, r, &vec, &total) : GPMC_OK;
        if (st != GPMC_OK)
            return st;
        for (size_t b = q, j = 0; b < nb; b += np, j++) {
            s->parent[b] = q;
            if (FLIP_EVERY > 0 && j % FLIP_EVERY == FLIP_EVERY - 1 && total > 0) {
                if (crossing)
                    cross_child(s, p, q, tie, vec, total, r, b);
                else
                    flip_child(s, p, q, tie, total, r, b, flips_of(s, j / FLIP_EVERY));
            } else {
                random_child(s, p, q, j % nmoves, tie, r, b);
            }
        }
    }
    return GPMC_OK;
}
