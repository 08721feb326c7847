/* The convolutional WDC evaluator (include/gpmc/cwdc_eval.h; MATH.md, Conditions 5):
 *   Z = [X; Y] W^T                       one dgemm, 2B x N
 *   M_{b,i} = 1{Z_{x_b,i} > 0} 1{Z_{y_b,i} > 0}
 *   per distinct window J (the rows R_J that see exactly the positions J):
 *   G_J = M[:, R_J] O_J, O_J row r = packed upper triangle of (w_r restricted to J)
 *                                              one dgemm, B x kw(kw+1)/2, kw = c0 |J|
 *   dev_b = || sum_J P_J^T (unpack(G_J,b) - |R_J| sigma^2 Q(x_J, y_J)) P_J ||.
 * There are at most 2 d0 - 1 distinct windows (as t grows, each change moves the
 * window's first or last position up by one), each of kw <= c0 ceil(q/s)
 * coordinates, so the stacked products take N kw^2/2, not N k^2/2 (a row's outer product
 * lives on its window). For q = s the deviation is block diagonal (positions j), and its
 * norm is the max of the d0 c0 x c0 blocks' norms (Sup.8), not one k x k eigensolver. */
#include "gpmc/cwdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/sizes.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gpmc_cwdc_eval {
    gpmc_cwdc_shape sh;
    size_t N, k, L, batch, nwin, kwmax, S;
    size_t *wlo, *wn;    /* nwin windows: first position, positions */
    double *wmult;       /* rows with that window */
    size_t *wrow0, *wrows, *wp0; /* per window: first slot in rowidx, rows, offset in g */
    size_t *rowidx;      /* N: the rows of W in window order */
    const double *w;
    double sigma2;
    double *op;          /* per window: rows x kw(kw+1)/2, one after another */
    double *xy;          /* 2 batch x k */
    double *z;           /* 2 batch x N */
    double *mask;        /* batch x N, columns in window order */
    double *g;           /* batch x S: the windows' packed Grams */
    double *xs, *ys;     /* kwmax: a window's coordinates */
    double *qw;          /* kwmax x kwmax */
    double *e;           /* k x k: the expectation */
    double *dm;          /* k x k */
    double *bm;          /* c0 x c0: one block (q = s) */
    gpmc_symeig *eig, *beig;
};

size_t gpmc_cwdc_len(const gpmc_cwdc_shape *sh)
{
    if (sh->d0 == 0 || sh->s == 0 || sh->q == 0)
        return SIZE_MAX;
    return gpmc_size_add(gpmc_size_mul(sh->s, sh->d0 - 1), sh->q);
}

size_t gpmc_cwdc_rows(const gpmc_cwdc_shape *sh) { return gpmc_size_mul(sh->c1, gpmc_cwdc_len(sh)); }
size_t gpmc_cwdc_cols(const gpmc_cwdc_shape *sh) { return gpmc_size_mul(sh->c0, sh->d0); }

/* J_t = [lo, lo + n): the input positions output position t sees (n = 0 for a gap, q < s). */
static void window(const gpmc_cwdc_shape *sh, size_t t, size_t *lo, size_t *n)
{
    size_t a = t + 1 >= sh->q ? (t + 1 - sh->q + sh->s - 1) / sh->s : 0;
    size_t b = t / sh->s < sh->d0 - 1 ? t / sh->s : sh->d0 - 1;
    *lo = a;
    *n = b >= a ? b - a + 1 : 0;
}

void gpmc_cwdc_build(const gpmc_cwdc_shape *sh, const double *filters, double *w)
{
    size_t L = gpmc_cwdc_len(sh), k = gpmc_cwdc_cols(sh);
    memset(w, 0, sh->c1 * L * k * sizeof(double));
    for (size_t c = 0; c < sh->c1; c++)
        for (size_t cp = 0; cp < sh->c0; cp++)
            for (size_t j = 0; j < sh->d0; j++)
                for (size_t u = 0; u < sh->q; u++)
                    w[(c * L + sh->s * j + u) * k + cp * sh->d0 + j] =
                        filters[(c * sh->c0 + cp) * sh->q + u];
}

void gpmc_cwdc_block(const gpmc_cwdc_shape *sh, const double *filters, double *wt)
{
    for (size_t c = 0; c < sh->c1; c++)
        for (size_t u = 0; u < sh->s; u++)
            for (size_t cp = 0; cp < sh->c0; cp++)
                wt[(c * sh->s + u) * sh->c0 + cp] =
                    u < sh->q ? filters[(c * sh->c0 + cp) * sh->q + u] : 0;
}

static size_t kw_max(const gpmc_cwdc_shape *sh)
{
    size_t nj = (sh->q + sh->s - 1) / sh->s;
    return gpmc_size_mul(sh->c0, nj < sh->d0 ? nj : sh->d0);
}

size_t gpmc_cwdc_eval_bytes(const gpmc_cwdc_shape *sh, size_t batch)
{
    size_t N = gpmc_cwdc_rows(sh), k = gpmc_cwdc_cols(sh), L = gpmc_cwdc_len(sh);
    if (N == SIZE_MAX || k == SIZE_MAX || L == SIZE_MAX)
        return SIZE_MAX;
    size_t kw = kw_max(sh);
    size_t P = kw % 2 == 0 ? gpmc_size_mul(kw / 2, kw + 1) : gpmc_size_mul(kw, (kw + 1) / 2);
    size_t nwin = gpmc_size_mul(2, sh->d0); /* distinct windows: at most 2 d0 - 1 */
    size_t d = gpmc_size_mul(N, P);
    P = gpmc_size_mul(nwin, P); /* the windows' packed Grams */
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(2, batch), k));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(3, batch), N));
    d = gpmc_size_add(d, gpmc_size_mul(batch, P));
    d = gpmc_size_add(d, gpmc_size_add(gpmc_size_mul(2, kw), gpmc_size_mul(kw, kw)));
    d = gpmc_size_add(d, gpmc_size_mul(3, gpmc_size_mul(k, k)));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(sh->c0, sh->c0), 2));
    d = gpmc_size_add(d, gpmc_size_add(gpmc_size_mul(7, L), N)); /* windows, rowidx */
    return gpmc_size_mul(d, sizeof(double));
}

gpmc_cwdc_eval *gpmc_cwdc_eval_alloc(const gpmc_cwdc_shape *sh, size_t batch)
{
    if (sh->c0 == 0 || sh->c1 == 0 || batch == 0 || gpmc_cwdc_eval_bytes(sh, batch) == SIZE_MAX)
        return NULL;
    gpmc_cwdc_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->sh = *sh;
    ev->N = gpmc_cwdc_rows(sh);
    ev->k = gpmc_cwdc_cols(sh);
    ev->L = gpmc_cwdc_len(sh);
    ev->batch = batch;
    size_t k = ev->k, N = ev->N, L = ev->L;
    ev->kwmax = kw_max(sh);
    ev->wlo = malloc(L * sizeof(size_t));
    ev->wn = malloc(L * sizeof(size_t));
    ev->wmult = malloc(L * sizeof(double));
    ev->wrow0 = malloc(L * sizeof(size_t));
    ev->wrows = malloc(L * sizeof(size_t));
    ev->wp0 = malloc(L * sizeof(size_t));
    ev->rowidx = malloc((N ? N : 1) * sizeof(size_t));
    if (!ev->wlo || !ev->wn || !ev->wmult || !ev->wrow0 || !ev->wrows || !ev->wp0 ||
        !ev->rowidx) {
        gpmc_cwdc_eval_free(ev);
        return NULL;
    }
    /* The distinct windows in order of t (equal windows are consecutive in t), their rows
     * (c, t) in window order, and their packed Grams' offsets. */
    size_t *t0 = ev->wrows; /* first t of each window, until the row counts replace it */
    ev->nwin = 0;
    for (size_t t = 0; t < L; t++) {
        size_t lo, n;
        window(sh, t, &lo, &n);
        if (n == 0)
            continue;
        if (ev->nwin > 0 && ev->wlo[ev->nwin - 1] == lo && ev->wn[ev->nwin - 1] == n) {
            ev->wmult[ev->nwin - 1] += (double)sh->c1;
            continue;
        }
        ev->wlo[ev->nwin] = lo, ev->wn[ev->nwin] = n, ev->wmult[ev->nwin] = (double)sh->c1;
        t0[ev->nwin] = t;
        ev->nwin++;
    }
    size_t pos = 0, off = 0, ops = 0;
    for (size_t w = 0; w < ev->nwin; w++) {
        size_t nt = (size_t)ev->wmult[w] / sh->c1, kw = sh->c0 * ev->wn[w], first = t0[w];
        ev->wrow0[w] = pos;
        for (size_t c = 0; c < sh->c1; c++)
            for (size_t t = first; t < first + nt; t++)
                ev->rowidx[pos++] = c * L + t;
        ev->wrows[w] = sh->c1 * nt;
        ev->wp0[w] = off;
        off += kw * (kw + 1) / 2;
        ops += ev->wrows[w] * (kw * (kw + 1) / 2);
    }
    ev->S = off;
    ev->op = malloc((ops ? ops : 1) * sizeof(double));
    ev->xy = malloc(2 * batch * k * sizeof(double));
    ev->z = malloc(2 * batch * N * sizeof(double));
    ev->mask = malloc(batch * N * sizeof(double));
    ev->g = malloc(batch * (off ? off : 1) * sizeof(double));
    ev->xs = malloc(ev->kwmax * sizeof(double));
    ev->ys = malloc(ev->kwmax * sizeof(double));
    ev->qw = malloc(ev->kwmax * ev->kwmax * sizeof(double));
    ev->e = malloc(k * k * sizeof(double));
    ev->dm = malloc(k * k * sizeof(double));
    ev->bm = malloc(sh->c0 * sh->c0 * sizeof(double));
    ev->eig = gpmc_symeig_alloc(k);
    ev->beig = gpmc_symeig_alloc(sh->c0);
    if (!ev->op || !ev->xy || !ev->z || !ev->mask || !ev->g || !ev->xs || !ev->ys || !ev->qw ||
        !ev->e || !ev->dm || !ev->bm || !ev->eig || !ev->beig) {
        gpmc_cwdc_eval_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_cwdc_eval_free(gpmc_cwdc_eval *ev)
{
    if (!ev)
        return;
    free(ev->wlo);
    free(ev->wn);
    free(ev->wmult);
    free(ev->wrow0);
    free(ev->wrows);
    free(ev->wp0);
    free(ev->rowidx);
    free(ev->op);
    free(ev->xy);
    free(ev->z);
    free(ev->mask);
    free(ev->g);
    free(ev->xs);
    free(ev->ys);
    free(ev->qw);
    free(ev->e);
    free(ev->dm);
    free(ev->bm);
    gpmc_symeig_free(ev->eig);
    gpmc_symeig_free(ev->beig);
    free(ev);
}

/* Window coordinate r (c' nj + a) -> column c' d0 + lo + a of W: increasing in r. */
static size_t wcol(const gpmc_cwdc_eval *ev, size_t w, size_t r)
{
    size_t nj = ev->wn[w];
    return (r / nj) * ev->sh.d0 + ev->wlo[w] + r % nj;
}

void gpmc_cwdc_eval_set_w(gpmc_cwdc_eval *ev, const double *w, double sigma2)
{
    size_t k = ev->k;
    ev->w = w;
    ev->sigma2 = sigma2;
    double *o = ev->op;
    for (size_t wi = 0; wi < ev->nwin; wi++) {
        size_t kw = ev->sh.c0 * ev->wn[wi];
        for (size_t r = 0; r < ev->wrows[wi]; r++) {
            const double *row = w + ev->rowidx[ev->wrow0[wi] + r] * k;
            for (size_t a = 0; a < kw; a++)
                for (size_t b = a; b < kw; b++)
                    *o++ = row[wcol(ev, wi, a)] * row[wcol(ev, wi, b)];
        }
    }
}

void gpmc_cwdc_expectation(gpmc_cwdc_eval *ev, const double *x, const double *y, double *out)
{
    size_t k = ev->k, c0 = ev->sh.c0, d0 = ev->sh.d0;
    memset(out, 0, k * k * sizeof(double));
    for (size_t wi = 0; wi < ev->nwin; wi++) {
        size_t lo = ev->wlo[wi], nj = ev->wn[wi], kw = c0 * nj;
        double nx = 0, ny = 0;
        for (size_t c = 0; c < c0; c++)
            for (size_t a = 0; a < nj; a++) {
                double xa = x[c * d0 + lo + a], ya = y[c * d0 + lo + a];
                ev->xs[c * nj + a] = xa, ev->ys[c * nj + a] = ya;
                nx += xa * xa, ny += ya * ya;
            }
        if (nx == 0 || ny == 0) /* the window's rows are never active */
            continue;
        gpmc_theory_Q(ev->xs, ev->ys, kw, ev->wmult[wi] * ev->sigma2, ev->qw);
        for (size_t r = 0; r < kw; r++) {
            size_t gr = (r / nj) * d0 + lo + r % nj;
            for (size_t c = 0; c < kw; c++)
                out[gr * k + (c / nj) * d0 + lo + c % nj] += ev->qw[r * kw + c];
        }
    }
}

/* ev->g[b] = the windows' packed W_{+,x_b}^T W_{+,y_b} for the nb pairs in ev->xy. */
static void masked_grams(gpmc_cwdc_eval *ev, size_t nb)
{
    size_t N = ev->N, k = ev->k;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(2 * nb), (int)N, (int)k, 1.0,
                ev->xy, (int)k, ev->w, (int)k, 0.0, ev->z, (int)N);
    for (size_t b = 0; b < nb; b++) {
        const double *zx = ev->z + b * N, *zy = ev->z + (nb + b) * N;
        gpmc_pair_masks(zx, zy, ev->rowidx, N, ev->mask + b * N);
    }
    const double *op = ev->op;
    for (size_t w = 0; w < ev->nwin; w++) {
        size_t kw = ev->sh.c0 * ev->wn[w], P = kw * (kw + 1) / 2, R = ev->wrows[w];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)P, (int)R, 1.0,
                    ev->mask + ev->wrow0[w], (int)N, op, (int)P, 0.0, ev->g + ev->wp0[w],
                    (int)ev->S);
        op += R * P;
    }
}

/* ev->dm (both triangles) = sum_J P_J^T unpack(g_{J,b}) P_J - E(x, y). */
static void deviation_matrix(gpmc_cwdc_eval *ev, size_t b, const double *x, const double *y)
{
    size_t k = ev->k;
    gpmc_cwdc_expectation(ev, x, y, ev->e);
    for (size_t i = 0; i < k * k; i++)
        ev->dm[i] = -ev->e[i];
    for (size_t w = 0; w < ev->nwin; w++) {
        size_t kw = ev->sh.c0 * ev->wn[w];
        const double *g = ev->g + b * ev->S + ev->wp0[w];
        for (size_t r = 0; r < kw; r++) {
            size_t gr = wcol(ev, w, r);
            ev->dm[gr * k + gr] += *g++;
            for (size_t c = r + 1; c < kw; c++) {
                size_t gc = wcol(ev, w, c);
                ev->dm[gr * k + gc] += *g;
                ev->dm[gc * k + gr] += *g++;
            }
        }
    }
}

/* ||dm||: for q = s the max over the d0 diagonal c0 x c0 blocks (dm is block diagonal). */
static double deviation_norm(gpmc_cwdc_eval *ev)
{
    size_t k = ev->k, c0 = ev->sh.c0, d0 = ev->sh.d0;
    if (ev->sh.q != ev->sh.s)
        return gpmc_symeig_norm(ev->eig, ev->dm);
    double best = 0;
    for (size_t j = 0; j < d0; j++) {
        for (size_t a = 0; a < c0; a++)
            for (size_t c = 0; c < c0; c++)
                ev->bm[a * c0 + c] = ev->dm[(a * d0 + j) * k + c * d0 + j];
        double v = gpmc_symeig_norm(ev->beig, ev->bm);
        if (!(v <= best)) /* NaN propagates */
            best = v;
    }
    return best;
}

int gpmc_cwdc_eval_pairs(gpmc_cwdc_eval *ev, const double *x, const double *y, size_t nb,
                         double *dev)
{
    size_t k = ev->k;
    if (nb == 0)
        return GPMC_OK;
    memcpy(ev->xy, x, nb * k * sizeof(double));
    memcpy(ev->xy + nb * k, y, nb * k * sizeof(double));
    masked_grams(ev, nb);
    int status = GPMC_OK;
    for (size_t b = 0; b < nb; b++) {
        deviation_matrix(ev, b, x + b * k, y + b * k);
        dev[b] = deviation_norm(ev);
        if (!isfinite(dev[b]))
            status = GPMC_ENUM;
    }
    return status == GPMC_OK
               ? GPMC_OK
               : gpmc_error(GPMC_ENUM, "cwdc", "non-finite deviation matrix (k = %zu)", k);
}

int gpmc_cwdc_eval_matrix(gpmc_cwdc_eval *ev, size_t b, const double *x, const double *y,
                          double *out)
{
    size_t k = ev->k;
    if (b == GPMC_SEARCH_FRESH) {
        memcpy(ev->xy, x, k * sizeof(double));
        memcpy(ev->xy + k, y, k * sizeof(double));
        masked_grams(ev, 1);
        b = 0;
    }
    deviation_matrix(ev, b, x, y);
    memcpy(out, ev->dm, k * k * sizeof(double));
    for (size_t i = 0; i < k * k; i++)
        if (!isfinite(out[i]))
            return gpmc_error(GPMC_ENUM, "cwdc", "non-finite deviation matrix");
    return GPMC_OK;
}

double gpmc_cwdc_gemm_flops(const gpmc_cwdc_shape *sh)
{
    double N = (double)gpmc_cwdc_rows(sh), k = (double)gpmc_cwdc_cols(sh);
    double kw = (double)kw_max(sh); /* the rows at the ends see fewer positions: an upper count */
    return 2.0 * (2.0 * k) * N + 2.0 * N * (kw * (kw + 1) / 2);
}

static int cwdc_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    return gpmc_cwdc_eval_pairs(ctx, t[0], t[1], nb, val);
}

static int cwdc_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    return gpmc_cwdc_eval_matrix(ctx, slot, t[0], t[1], d);
}

gpmc_search_objective gpmc_cwdc_search_objective(const gpmc_cwdc_shape *sh, size_t batch,
                                                 gpmc_cwdc_eval *ev)
{
    gpmc_search_objective o = {.m = 2, .k = gpmc_cwdc_cols(sh), .batch = batch,
                               .nnormals = gpmc_cwdc_rows(sh), .ctx = ev, .eval = cwdc_values,
                               .aim = cwdc_aim};
    return o;
}
