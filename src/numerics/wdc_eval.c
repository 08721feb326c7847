/* The WDC deviation evaluator (include/gpmc/wdc_eval.h; MATH.md, Conditions 1): for a
 * batch of B pairs,
 *   Z = [X; Y] W^T                       one dgemm, 2B x n (chunks of rows of W)
 *   M_{b,i} = 1{Z_{x_b,i} > 0} 1{Z_{y_b,i} > 0}
 *   G = M O, O_{i,:} = packed upper triangle of w_i w_i^T     one dgemm, B x k(k+1)/2
 *   dev_b = || unpack(G_b) - alpha Q_{x_b,y_b} ||  via gpmc_symeig (max |eigenvalue|).
 * O is built once per W when it fits in OP_FULL_MAX doubles; for huge n it is rebuilt
 * per chunk of rows (cost k^2 per row per batch, 1/(2B) of the GEMM). */
#include "gpmc/wdc_eval.h"
#include "gpmc/search.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/sizes.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Rows of W per chunk of the pre-activation and mask matrices: Z (2B x CHUNK) and M
 * (B x CHUNK) stay in L2 between the first GEMM, the mask loop and the second GEMM. */
#define CHUNK 512
#include "gpmc/constants.h"
/* Largest stacked outer-product matrix built once per W (256 MiB). */
#define OP_FULL_MAX ((size_t)1 << 25)

struct gpmc_wdc_eval {
    size_t n, k, batch, P, chunk;
    int op_full;         /* O holds all n rows (else one chunk, rebuilt per batch) */
    const double *w;
    double alpha;
    double *op;          /* (op_full ? n : chunk) x P */
    double *xy;          /* 2 batch x k: the x rows, then the y rows */
    double *z;           /* 2 batch x chunk */
    double *mask;        /* batch x chunk */
    double *g;           /* batch x P: packed masked Grams */
    double *cv;          /* n x GPMC_SEARCH_SCREEN_MAX: (w_i.v)^2 for the screening directions */
    double *sv;          /* batch x GPMC_SEARCH_SCREEN_MAX: masked sums of cv */
    double *q;           /* k x k */
    double *dm;          /* k x k: a deviation matrix */
    double *sm;          /* 3 n + k: a smoothed pair's W x, W y, W v and its eigenvector v */
    double zscale;       /* rms of w_i.x over rows and unit x: the smoothed gates' scale */
    gpmc_symeig *eig;
};

static void eval_shape(size_t n, size_t k, size_t *P, size_t *chunk, int *op_full)
{
    *P = k % 2 == 0 ? gpmc_size_mul(k / 2, k + 1) : gpmc_size_mul(k, (k + 1) / 2);
    *chunk = n < CHUNK ? n : CHUNK;
    *op_full = gpmc_size_mul(n, *P) <= OP_FULL_MAX;
}

size_t gpmc_wdc_eval_bytes(size_t n, size_t k, size_t batch)
{
    size_t P, chunk;
    int op_full;
    eval_shape(n, k, &P, &chunk, &op_full);
    size_t d = gpmc_size_mul(op_full ? n : chunk, P);
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(2, batch), k));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(3, batch), chunk));
    d = gpmc_size_add(d, gpmc_size_mul(batch, P));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_add(n, batch), GPMC_SEARCH_SCREEN_MAX));
    /* q, dm, and the eigensolver's copy; the smoothed pairs' scratch */
    d = gpmc_size_add(d, gpmc_size_mul(3, gpmc_size_mul(k, k)));
    d = gpmc_size_add(d, gpmc_size_add(gpmc_size_mul(3, n), k));
    return gpmc_size_mul(d, sizeof(double));
}

gpmc_wdc_eval *gpmc_wdc_eval_alloc(size_t n, size_t k, size_t batch)
{
    if (n == 0 || k == 0 || batch == 0 || gpmc_wdc_eval_bytes(n, k, batch) == SIZE_MAX)
        return NULL;
    gpmc_wdc_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->n = n;
    ev->k = k;
    ev->batch = batch;
    eval_shape(n, k, &ev->P, &ev->chunk, &ev->op_full);
    ev->op = malloc((ev->op_full ? n : ev->chunk) * ev->P * sizeof(double));
    ev->xy = malloc(2 * batch * k * sizeof(double));
    ev->z = malloc(2 * batch * ev->chunk * sizeof(double));
    ev->mask = malloc(batch * ev->chunk * sizeof(double));
    ev->g = malloc(batch * ev->P * sizeof(double));
    ev->cv = malloc(n * GPMC_SEARCH_SCREEN_MAX * sizeof(double));
    ev->sv = malloc(batch * GPMC_SEARCH_SCREEN_MAX * sizeof(double));
    ev->q = malloc(k * k * sizeof(double));
    ev->dm = malloc(k * k * sizeof(double));
    ev->sm = malloc((3 * n + k) * sizeof(double));
    ev->eig = gpmc_symeig_alloc(k);
    if (!ev->op || !ev->xy || !ev->z || !ev->mask || !ev->g || !ev->cv || !ev->sv || !ev->q ||
        !ev->dm || !ev->sm || !ev->eig) {
        gpmc_wdc_eval_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_wdc_eval_free(gpmc_wdc_eval *ev)
{
    if (!ev)
        return;
    free(ev->op);
    free(ev->xy);
    free(ev->z);
    free(ev->mask);
    free(ev->g);
    free(ev->cv);
    free(ev->sv);
    free(ev->q);
    free(ev->dm);
    free(ev->sm);
    gpmc_symeig_free(ev->eig);
    free(ev);
}

void gpmc_wdc_eval_set_w(gpmc_wdc_eval *ev, const double *w, double alpha)
{
    ev->w = w;
    ev->alpha = alpha;
    double ss = gpmc_dot(w, w, ev->n * ev->k);
    ev->zscale = ss > 0 ? sqrt(ss / (double)(ev->n * ev->k)) : 1;
    if (ev->op_full)
        gpmc_packed_outer_rows(w, ev->n, ev->k, ev->op);
}

/* The logistic function, its argument clipped where it is 0 or 1 in doubles anyway. */
static double gate(double t)
{
    t = t > 700 ? 700 : t < -700 ? -700 : t;
    return 1 / (1 + exp(-t));
}

/* ev->mask = the masks 1{w_i.x_b > 0} 1{w_i.y_b > 0} of rows c0..c0+cn for the nb pairs
 * in ev->xy (x rows 0..nb, y rows nb..2nb), through the pre-activations ev->z; temp > 0:
 * the smoothed gates gate(w_i.x_b / temp) gate(w_i.y_b / temp) instead. */
static void chunk_masks(gpmc_wdc_eval *ev, size_t nb, size_t c0, size_t cn, double temp)
{
    size_t k = ev->k;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(2 * nb), (int)cn, (int)k, 1.0,
                ev->xy, (int)k, ev->w + c0 * k, (int)k, 0.0, ev->z, (int)cn);
    for (size_t b = 0; b < nb; b++) {
        const double *zx = ev->z + b * cn, *zy = ev->z + (nb + b) * cn;
        if (temp > 0)
            for (size_t i = 0; i < cn; i++)
                ev->mask[b * cn + i] = gate(zx[i] / temp) * gate(zy[i] / temp);
        else
            gpmc_pair_masks(zx, zy, NULL, cn, ev->mask + b * cn);
    }
}

/* ev->g[b] = packed W_{+,x_b}^T W_{+,y_b} for the nb pairs in ev->xy. */
static void masked_grams(gpmc_wdc_eval *ev, size_t nb, double temp)
{
    size_t n = ev->n, k = ev->k, P = ev->P;
    for (size_t c0 = 0; c0 < n; c0 += ev->chunk) {
        size_t cn = n - c0 < ev->chunk ? n - c0 : ev->chunk;
        chunk_masks(ev, nb, c0, cn, temp);
        const double *op = ev->op + c0 * P;
        if (!ev->op_full) {
            gpmc_packed_outer_rows(ev->w + c0 * k, cn, k, ev->op);
            op = ev->op;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)P, (int)cn, 1.0,
                    ev->mask, (int)cn, op, (int)P, c0 == 0 ? 0.0 : 1.0, ev->g, (int)P);
    }
}

/* ev->dm (upper triangle; both if `full`) = unpack(g_b) - alpha Q_{x,y}. */
static void deviation_matrix(gpmc_wdc_eval *ev, size_t b, const double *x, const double *y,
                             int full)
{
    size_t k = ev->k;
    const double *g = ev->g + b * ev->P;
    gpmc_theory_Q(x, y, k, ev->alpha, ev->q);
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++)
            ev->dm[i * k + j] = *g++ - ev->q[i * k + j];
    if (full)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < i; j++)
                ev->dm[i * k + j] = ev->dm[j * k + i];
}

int gpmc_wdc_eval_pairs(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                        double *dev)
{
    size_t k = ev->k;
    if (nb == 0)
        return GPMC_OK;
    memcpy(ev->xy, x, nb * k * sizeof(double));
    memcpy(ev->xy + nb * k, y, nb * k * sizeof(double));
    masked_grams(ev, nb, 0);
    int status = GPMC_OK;
    for (size_t b = 0; b < nb; b++) {
        deviation_matrix(ev, b, x + b * k, y + b * k, 0);
        dev[b] = gpmc_symeig_norm(ev->eig, ev->dm);
        if (isnan(dev[b]))
            status = GPMC_ENUM;
    }
    return status == GPMC_OK
               ? GPMC_OK
               : gpmc_error(GPMC_ENUM, "wdc", "non-finite deviation matrix (n = %zu, k = %zu)",
                            ev->n, k);
}

int gpmc_wdc_eval_batch_matrix(gpmc_wdc_eval *ev, size_t b, const double *x, const double *y,
                               double *out)
{
    size_t k = ev->k;
    deviation_matrix(ev, b, x, y, 1);
    memcpy(out, ev->dm, k * k * sizeof(double));
    for (size_t i = 0; i < k * k; i++)
        if (!isfinite(out[i]))
            return gpmc_error(GPMC_ENUM, "wdc", "non-finite deviation matrix");
    return GPMC_OK;
}

int gpmc_wdc_eval_matrix(gpmc_wdc_eval *ev, const double *x, const double *y, double *out)
{
    size_t k = ev->k;
    memcpy(ev->xy, x, k * sizeof(double));
    memcpy(ev->xy + k, y, k * sizeof(double));
    masked_grams(ev, 1, 0);
    return gpmc_wdc_eval_batch_matrix(ev, 0, x, y, out);
}

/* d(v^T Q_{x,y} v)/dx for unit x, y, v (scale alpha), into g: with a = v.x, b = v.y,
 * c = x.y = cos(theta), s = sin(theta), v^T Q v = alpha ((pi - theta) + h) / (2 pi) and
 * h = s v^T M v = (2ab - c(a^2 + b^2)) / s (M x = y, M y = x, M = 0 off their plane), so
 * the derivative is alpha/(2 pi) (y/s + ((2b - 2ca) v - (a^2 + b^2) y)/s + h c y/s^2);
 * 0 where the pair is (anti)parallel (s < 1e-8), where Q has no derivative. By symmetry
 * d/dy is this with x and y exchanged. */
static void q_form_gradient(const double *x, const double *y, const double *v, size_t k,
                            double alpha, double *g)
{
    double a = gpmc_dot(v, x, k), b = gpmc_dot(v, y, k), c = gpmc_dot(x, y, k);
    double s = sqrt(fmax(0, 1 - c * c));
    if (s < 1e-8) {
        memset(g, 0, k * sizeof(double));
        return;
    }
    double h = (2 * a * b - c * (a * a + b * b)) / s, f = alpha / (2 * GPMC_PI);
    double cy = f * (1 / s - (a * a + b * b) / s + h * c / (s * s)), cv = f * (2 * b - 2 * c * a) / s;
    for (size_t i = 0; i < k; i++)
        g[i] = cy * y[i] + cv * v[i];
}

int gpmc_wdc_eval_smooth(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                         double tau, double *val, double *gx, double *gy)
{
    size_t n = ev->n, k = ev->k;
    double temp = tau * ev->zscale;
    if (nb == 0)
        return GPMC_OK;
    if (!(temp > 0))
        return gpmc_error(GPMC_EINVAL, "wdc", "smoothing temperature %g is not positive", tau);
    memcpy(ev->xy, x, nb * k * sizeof(double));
    memcpy(ev->xy + nb * k, y, nb * k * sizeof(double));
    masked_grams(ev, nb, temp);
    double *zx = ev->sm, *zy = zx + n, *u = zy + n, *v = u + n;
    for (size_t b = 0; b < nb; b++) {
        const double *xb = x + b * k, *yb = y + b * k;
        double lambda;
        deviation_matrix(ev, b, xb, yb, 0);
        int st = gpmc_symeig_extreme_vector(ev->eig, ev->dm, &lambda, v);
        if (st != GPMC_OK)
            return st;
        double sg = lambda >= 0 ? 1 : -1;
        val[b] = fabs(lambda);
        /* d(sg v^T D v): the gates' derivatives weigh (w_i.v)^2; minus Q's part. */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0, ev->w, (int)k, xb, 1, 0.0,
                    zx, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0, ev->w, (int)k, yb, 1, 0.0,
                    zy, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0, ev->w, (int)k, v, 1, 0.0,
                    u, 1);
        for (size_t i = 0; i < n; i++) {
            double gxi = gate(zx[i] / temp), gyi = gate(zy[i] / temp), uu = sg * u[i] * u[i];
            zx[i] = uu * gxi * (1 - gxi) * gyi / temp; /* coefficient of w_i in d/dx */
            zy[i] = uu * gyi * (1 - gyi) * gxi / temp;
        }
        double *gxb = gx + b * k, *gyb = gy + b * k;
        q_form_gradient(xb, yb, v, k, ev->alpha, gxb);
        q_form_gradient(yb, xb, v, k, ev->alpha, gyb);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)k, 1.0, ev->w, (int)k, zx, 1, -sg,
                    gxb, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)k, 1.0, ev->w, (int)k, zy, 1, -sg,
                    gyb, 1);
    }
    return GPMC_OK;
}

/* Screening (gpmc_wdc_eval_screen): v^T D v = sum_i m_i (w_i.v)^2 - alpha v^T Q v needs the
 * masks and one masked sum per direction, not the k(k+1)/2 of the Gram nor an eigensolver:
 * C = (W V^T)^2 once per call (n x L), then per chunk S += M C (nb x L). */
int gpmc_wdc_eval_screen(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                         const size_t *group, const double *dirs, size_t ngroups, size_t ndir,
                         double *bound)
{
    size_t n = ev->n, k = ev->k, L = ngroups * ndir;
    if (nb == 0)
        return GPMC_OK;
    if (L == 0 || L > GPMC_SEARCH_SCREEN_MAX)
        return gpmc_error(GPMC_EINVAL, "wdc", "%zu screening directions (most %d)", L,
                          GPMC_SEARCH_SCREEN_MAX);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)L, (int)k, 1.0, ev->w,
                (int)k, dirs, (int)k, 0.0, ev->cv, (int)L);
    for (size_t i = 0; i < n * L; i++)
        ev->cv[i] *= ev->cv[i];
    memcpy(ev->xy, x, nb * k * sizeof(double));
    memcpy(ev->xy + nb * k, y, nb * k * sizeof(double));
    for (size_t c0 = 0; c0 < n; c0 += ev->chunk) {
        size_t cn = n - c0 < ev->chunk ? n - c0 : ev->chunk;
        chunk_masks(ev, nb, c0, cn, 0);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)L, (int)cn, 1.0,
                    ev->mask, (int)cn, ev->cv + c0 * L, (int)L, c0 == 0 ? 0.0 : 1.0, ev->sv,
                    (int)L);
    }
    int status = GPMC_OK;
    for (size_t b = 0; b < nb; b++) {
        const double *xb = x + b * k, *yb = y + b * k;
        gpmc_theory_Q(xb, yb, k, ev->alpha, ev->q);
        double best = 0;
        for (size_t d = 0; d < ndir; d++) {
            const double *v = dirs + (group[b] * ndir + d) * k;
            double qv = 0;
            for (size_t i = 0; i < k; i++)
                qv += v[i] * gpmc_dot(ev->q + i * k, v, k);
            double r = fabs(ev->sv[b * L + group[b] * ndir + d] - qv);
            best = r > best ? r : best;
        }
        bound[b] = best;
        if (!isfinite(best))
            status = GPMC_ENUM;
    }
    return status == GPMC_OK ? GPMC_OK
                             : gpmc_error(GPMC_ENUM, "wdc", "non-finite screening bound");
}

double gpmc_wdc_gemm_flops(size_t n, size_t k)
{
    double nn = (double)n, kk = (double)k;
    return 2.0 * (2.0 * kk) * nn + 2.0 * nn * (kk * (kk + 1) / 2);
}

struct gpmc_wdc_diag {
    size_t n, k;
    double *c;   /* n x k: the active rows of W, the others zero */
    double *g;   /* k x k */
    gpmc_symeig *eig;
};

size_t gpmc_wdc_diag_bytes(size_t n, size_t k)
{
    size_t d = gpmc_size_add(gpmc_size_mul(n, k), gpmc_size_mul(2, gpmc_size_mul(k, k)));
    return gpmc_size_mul(gpmc_size_add(d, n), sizeof(double));
}

gpmc_wdc_diag *gpmc_wdc_diag_alloc(size_t n, size_t k)
{
    if (n == 0 || k == 0 || gpmc_wdc_diag_bytes(n, k) == SIZE_MAX)
        return NULL;
    gpmc_wdc_diag *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->n = n;
    ev->k = k;
    ev->c = malloc(n * k * sizeof(double));
    ev->g = malloc(k * k * sizeof(double));
    ev->eig = gpmc_symeig_alloc(k);
    if (!ev->c || !ev->g || !ev->eig) {
        gpmc_wdc_diag_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_wdc_diag_free(gpmc_wdc_diag *ev)
{
    if (!ev)
        return;
    free(ev->c);
    free(ev->g);
    gpmc_symeig_free(ev->eig);
    free(ev);
}

int gpmc_wdc_diag_eval(gpmc_wdc_diag *ev, const double *w, double alpha, const double *x,
                       double *dev, double *lmin, double *lmax)
{
    size_t n = ev->n, k = ev->k;
    for (size_t i = 0; i < n; i++) {
        const double *wi = w + i * k;
        int on = gpmc_dot(wi, x, k) > 0;
        for (size_t a = 0; a < k; a++)
            ev->c[i * k + a] = on ? wi[a] : 0;
    }
    /* Upper triangle of C^T C, minus (alpha/2) I. */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)n, 1.0, ev->c, (int)k, 0.0,
                ev->g, (int)k);
    for (size_t a = 0; a < k; a++)
        ev->g[a * k + a] -= 0.5 * alpha;
    double lo, hi;
    int st = gpmc_symeig_extreme(ev->eig, ev->g, &lo, &hi);
    if (lmin)
        *lmin = lo;
    if (lmax)
        *lmax = hi;
    *dev = st == GPMC_OK ? fmax(fabs(lo), fabs(hi)) : NAN;
    return st;
}

/* The search's objective: pairs (t[0], t[1]) = (x, y) of a WDC evaluator. */
static int wdc_values(void *ctx, const double *const *t, size_t nb, double *val)
{
    return gpmc_wdc_eval_pairs(ctx, t[0], t[1], nb, val);
}

/* The smoothed surrogate of the pairs (t[0], t[1]) and its gradients. */
static int wdc_smooth(void *ctx, const double *const *t, size_t nb, double tau, double *val,
                      double *const *grad)
{
    return gpmc_wdc_eval_smooth(ctx, t[0], t[1], nb, tau, val, grad[0], grad[1]);
}

/* The flips' aim: the deviation matrix, from the last batch when the pair is in it. */
static int wdc_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    return slot == GPMC_SEARCH_FRESH ? gpmc_wdc_eval_matrix(ctx, t[0], t[1], d)
                                     : gpmc_wdc_eval_batch_matrix(ctx, slot, t[0], t[1], d);
}

/* The climb's cheap ranking: Rayleigh quotients at the parents' extreme eigenvectors. */
static int wdc_screen(void *ctx, const double *const *t, size_t nb, const size_t *parent,
                      const double *dirs, size_t nparents, size_t ndir, double *bound)
{
    return gpmc_wdc_eval_screen(ctx, t[0], t[1], nb, parent, dirs, nparents, ndir, bound);
}

gpmc_search_objective gpmc_wdc_search_objective(size_t n, size_t k, size_t batch,
                                                gpmc_wdc_eval *ev)
{
    gpmc_search_objective o = {.m = 2, .k = k, .batch = batch, .nnormals = n, .ctx = ev,
                               .eval = wdc_values, .aim = wdc_aim, .screen = wdc_screen,
                               .smooth = wdc_smooth};
    return o;
}
