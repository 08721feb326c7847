/* The R2WDC deviation evaluator (include/gpmc/r2wdc_eval.h). A batch of nb tuples:
 *   one forward pass of all 6 nb vectors through layers 1..j-1 (net.h);
 *   Z = [R; S; U; V] W_j^T, one GEMM (4 nb x n_j): the masks of r, s and W u, W v (far);
 *   per tuple the Lambda^T rows, their SVD bases, and C = B^T W_j^T with the columns of
 *   units inactive at r (resp. s) zeroed, so B_1^T W_{+,r}^T W_{+,s} B_3 = C_1 C_3^T. */
#include "gpmc/r2wdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/sizes.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"

struct gpmc_r2wdc_eval {
    const gpmc_net *net;
    size_t k, batch, wmax, lwork;
    gpmc_net_trace *tr;  /* 6 batch rows */
    double *in;          /* 6 batch x k: the tuples' vectors, vector v of tuple b at row v nb + b */
    double *rsuv;        /* 4 batch x wmax */
    double *z;           /* 4 batch x wmax */
    double *bu, *bv;     /* 2k x wmax: Lambda^T rows, then the bases (rows) */
    double *lscr;        /* k x wmax: gpmc_net_lambda_rows scratch */
    double *cu, *cv;     /* 2k x wmax */
    double *kk, *gg;     /* 2k x 2k */
    double *pu, *pv;     /* 2k x 2 */
    double *e;           /* 2 x wmax: e1, e2 */
    double *sv, *work;   /* SVD */
    double *nwork;       /* gpmc_norm2 */
};

static size_t max_width(const size_t *width, size_t depth)
{
    size_t m = 0;
    for (size_t i = 0; i <= depth; i++)
        m = width[i] > m ? width[i] : m;
    return m;
}

size_t gpmc_r2wdc_eval_bytes(const size_t *width, size_t depth, size_t batch)
{
    size_t k = width[0], w = max_width(width, depth), k2 = gpmc_size_mul(2, k);
    size_t sum = 0;
    for (size_t i = 0; i <= depth; i++)
        sum = gpmc_size_add(sum, width[i]);
    size_t b6 = gpmc_size_mul(6, batch), d = gpmc_size_mul(b6, sum); /* trace */
    d = gpmc_size_add(d, gpmc_size_mul(b6, w));                       /* trace work */
    d = gpmc_size_add(d, gpmc_size_mul(b6, k));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(8, batch), w));
    d = gpmc_size_add(d, gpmc_size_mul(gpmc_size_mul(4, k2), w));
    d = gpmc_size_add(d, gpmc_size_mul(k, w));
    d = gpmc_size_add(d, gpmc_size_mul(2, gpmc_size_mul(k2, k2)));
    d = gpmc_size_add(d, gpmc_size_mul(4, k2));
    d = gpmc_size_add(d, gpmc_size_mul(2, w));
    d = gpmc_size_add(d, gpmc_size_add(k2, gpmc_svd_lwork(w, k2)));
    d = gpmc_size_add(d, gpmc_norm2_worksize(k2, k2));
    return gpmc_size_mul(d, sizeof(double));
}

gpmc_r2wdc_eval *gpmc_r2wdc_eval_alloc(const gpmc_net *net, size_t batch)
{
    if (!net || net->depth == 0 || batch == 0 ||
        gpmc_r2wdc_eval_bytes(net->width, net->depth, batch) == SIZE_MAX)
        return NULL;
    gpmc_r2wdc_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    size_t k = net->width[0], w = max_width(net->width, net->depth), k2 = 2 * k;
    ev->net = net;
    ev->k = k;
    ev->batch = batch;
    ev->wmax = w;
    ev->lwork = gpmc_svd_lwork(w, k2);
    ev->tr = gpmc_net_trace_alloc(net, 6 * batch);
    ev->in = malloc(6 * batch * k * sizeof(double));
    ev->rsuv = malloc(4 * batch * w * sizeof(double));
    ev->z = malloc(4 * batch * w * sizeof(double));
    ev->bu = malloc(k2 * w * sizeof(double));
    ev->bv = malloc(k2 * w * sizeof(double));
    ev->lscr = malloc(k * w * sizeof(double));
    ev->cu = malloc(k2 * w * sizeof(double));
    ev->cv = malloc(k2 * w * sizeof(double));
    ev->kk = malloc(k2 * k2 * sizeof(double));
    ev->gg = malloc(k2 * k2 * sizeof(double));
    ev->pu = malloc(k2 * 2 * sizeof(double));
    ev->pv = malloc(k2 * 2 * sizeof(double));
    ev->e = malloc(2 * w * sizeof(double));
    ev->sv = malloc(k2 * sizeof(double));
    ev->work = malloc(ev->lwork * sizeof(double));
    ev->nwork = malloc(gpmc_norm2_worksize(k2, k2) * sizeof(double));
    if (!ev->tr || !ev->in || !ev->rsuv || !ev->z || !ev->bu || !ev->bv || !ev->lscr ||
        !ev->cu || !ev->cv || !ev->kk || !ev->gg || !ev->pu || !ev->pv || !ev->e || !ev->sv ||
        !ev->work || !ev->nwork) {
        gpmc_r2wdc_eval_free(ev);
        return NULL;
    }
    return ev;
}

void gpmc_r2wdc_eval_free(gpmc_r2wdc_eval *ev)
{
    if (!ev)
        return;
    gpmc_net_trace_free(ev->tr);
    free(ev->in);
    free(ev->rsuv);
    free(ev->z);
    free(ev->bu);
    free(ev->bv);
    free(ev->lscr);
    free(ev->cu);
    free(ev->cv);
    free(ev->kk);
    free(ev->gg);
    free(ev->pu);
    free(ev->pv);
    free(ev->e);
    free(ev->sv);
    free(ev->work);
    free(ev->nwork);
    free(ev);
}

/* The frame of (r, s) and the coefficients of Q in it. */
typedef struct {
    double a, b;      /* (pi - theta)/(2 pi), sin(theta)/(2 pi); b = 0 when e2 is undefined */
    double c, sn;     /* cos, sin theta */
} qframe;

/* 0 if r or s is zero (no Q). Else e (2 x n) = e1, e2 and the coefficients. */
static int frame(const double *r, const double *s, size_t n, double *e, qframe *q)
{
    double nr = gpmc_nrm2(r, n), ns = gpmc_nrm2(s, n);
    if (!(nr > 0) || !(ns > 0))
        return 0;
    double th = gpmc_angle(r, s, n);
    q->a = (GPMC_PI - th) / (2 * GPMC_PI);
    q->c = cos(th);
    q->sn = sin(th);
    q->b = q->sn / (2 * GPMC_PI);
    double *e1 = e, *e2 = e + n, d = 0;
    for (size_t i = 0; i < n; i++)
        e1[i] = r[i] / nr;
    for (size_t i = 0; i < n; i++)
        d += e1[i] * s[i] / ns;
    for (size_t i = 0; i < n; i++)
        e2[i] = s[i] / ns - d * e1[i];
    double n2 = gpmc_nrm2(e2, n);
    if (!(n2 > 0) || q->b == 0) {
        q->b = 0; /* theta = 0 or pi: M drops out of Q */
        memset(e2, 0, n * sizeof *e2);
    } else {
        for (size_t i = 0; i < n; i++)
            e2[i] /= n2;
    }
    return 1;
}

/* u^T Q v in the frame. */
static double quv(const double *u, const double *v, const double *e, size_t n, const qframe *q)
{
    double uv = gpmc_dot(u, v, n);
    if (q->b == 0)
        return q->a * uv;
    double u1 = gpmc_dot(e, u, n), u2 = gpmc_dot(e + n, u, n);
    double v1 = gpmc_dot(e, v, n), v2 = gpmc_dot(e + n, v, n);
    return q->a * uv + q->b * (q->c * (u1 * v1 - u2 * v2) + q->sn * (u1 * v2 + u2 * v1));
}

/* The identity basis of R^k (layer 1: G_0 = identity). */
static size_t identity_basis(double *b, size_t k)
{
    memset(b, 0, k * k * sizeof *b);
    for (size_t a = 0; a < k; a++)
        b[a * k + a] = 1;
    return k;
}

/* ||BU^T D BV|| for basis rows bu (ru x n), bv (rv x n) with D at the masks zr, zs (n_j). */
static double proj_norm(gpmc_r2wdc_eval *ev, const double *W, size_t nj, size_t n,
                        const double *bu, size_t ru, const double *bv, size_t rv,
                        const double *zr, const double *zs, const double *e, const qframe *q)
{
    if (ru == 0 || rv == 0)
        return 0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, (int)nj, (int)n, 1.0, bu,
                (int)n, W, (int)n, 0.0, ev->cu, (int)nj);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rv, (int)nj, (int)n, 1.0, bv,
                (int)n, W, (int)n, 0.0, ev->cv, (int)nj);
    for (size_t a = 0; a < ru; a++)
        for (size_t i = 0; i < nj; i++)
            if (!(zr[i] > 0))
                ev->cu[a * nj + i] = 0;
    for (size_t a = 0; a < rv; a++)
        for (size_t i = 0; i < nj; i++)
            if (!(zs[i] > 0))
                ev->cv[a * nj + i] = 0;
    /* K = CU CV^T - a BU BV^T - b PU M2 PV^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, (int)rv, (int)nj, 1.0, ev->cu,
                (int)nj, ev->cv, (int)nj, 0.0, ev->kk, (int)rv);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, (int)rv, (int)n, -q->a, bu,
                (int)n, bv, (int)n, 1.0, ev->kk, (int)rv);
    if (q->b != 0) {
        /* P = B [e1 e2] (rows x 2) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ru, 2, (int)n, 1.0, bu, (int)n,
                    e, (int)n, 0.0, ev->pu, 2);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rv, 2, (int)n, 1.0, bv, (int)n,
                    e, (int)n, 0.0, ev->pv, 2);
        for (size_t a = 0; a < ru; a++) {
            double p1 = ev->pu[2 * a], p2 = ev->pu[2 * a + 1];
            double m1 = q->c * p1 + q->sn * p2, m2 = q->sn * p1 - q->c * p2; /* M2^T p */
            for (size_t c = 0; c < rv; c++)
                ev->kk[a * rv + c] -= q->b * (m1 * ev->pv[2 * c] + m2 * ev->pv[2 * c + 1]);
        }
    }
    return gpmc_norm2(ev->kk, ru, rv, ev->nwork);
}

/* The forward pass and Z for layer j; returns n_{j-1}. */
static size_t prepare(gpmc_r2wdc_eval *ev, size_t j, const double *const *t, size_t nb)
{
    const gpmc_net *net = ev->net;
    size_t k = ev->k, n = net->width[j - 1], nj = net->width[j];
    for (size_t v = 0; v < 6; v++)
        memcpy(ev->in + v * nb * k, t[v], nb * k * sizeof(double));
    gpmc_net sub = *net;
    sub.depth = j - 1;
    gpmc_net_forward(&sub, ev->in, 6 * nb, ev->tr);
    const double *act = ev->tr->act[j - 1];
    for (size_t b = 0; b < nb; b++) {
        const double *g1 = act + (2 * nb + b) * n, *g2 = act + (3 * nb + b) * n;
        const double *g3 = act + (4 * nb + b) * n, *g4 = act + (5 * nb + b) * n;
        double *r = ev->rsuv + b * n, *s = ev->rsuv + (nb + b) * n;
        double *u = ev->rsuv + (2 * nb + b) * n, *v = ev->rsuv + (3 * nb + b) * n;
        memcpy(r, act + b * n, n * sizeof(double));
        memcpy(s, act + (nb + b) * n, n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            u[i] = g1[i] - g2[i];
            v[i] = g3[i] - g4[i];
        }
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(4 * nb), (int)nj, (int)n, 1.0,
                ev->rsuv, (int)n, net->W[j - 1], (int)n, 0.0, ev->z, (int)nj);
    return n;
}

/* Basis rows of range(Lambda_{j-1}) at the trace rows rows[0..nr) (1 or 2), into b. */
static size_t range_basis(gpmc_r2wdc_eval *ev, size_t j, const size_t *rows, size_t nr, double *b)
{
    size_t k = ev->k, n = ev->net->width[j - 1];
    if (j == 1)
        return identity_basis(b, k);
    for (size_t i = 0; i < nr; i++)
        gpmc_net_lambda_rows(ev->net, ev->tr, rows[i], j - 1, b + i * k * n, ev->lscr);
    return gpmc_range_basis(b, n, nr * k, ev->sv, ev->work, ev->lwork);
}

static int bad(const char *what) { return gpmc_error(GPMC_ENUM, "r2wdc", "%s", what); }

int gpmc_r2wdc_eval_tuples(gpmc_r2wdc_eval *ev, size_t j, const double *const *t, size_t nb,
                           double *val, double *far, double *near)
{
    if (nb == 0)
        return GPMC_OK;
    const gpmc_net *net = ev->net;
    size_t n = prepare(ev, j, t, nb), nj = net->width[j];
    const double *W = net->W[j - 1];
    for (size_t b = 0; b < nb; b++) {
        const double *r = ev->rsuv + b * n, *s = ev->rsuv + (nb + b) * n;
        const double *u = ev->rsuv + (2 * nb + b) * n, *v = ev->rsuv + (3 * nb + b) * n;
        const double *zr = ev->z + b * nj, *zs = ev->z + (nb + b) * nj;
        const double *zu = ev->z + (2 * nb + b) * nj, *zv = ev->z + (3 * nb + b) * nj;
        qframe q;
        double fv = 0, nv = 0;
        if (frame(r, s, n, ev->e, &q)) {
            double nu = gpmc_nrm2(u, n), nvv = gpmc_nrm2(v, n);
            if (nu > 0 && nvv > 0) {
                double g = 0;
                for (size_t i = 0; i < nj; i++)
                    if (zr[i] > 0 && zs[i] > 0)
                        g += zu[i] * zv[i];
                fv = fabs(g - quv(u, v, ev->e, n, &q)) / (nu * nvv);
            }
            size_t row1 = 2 * nb + b, row3 = 4 * nb + b;
            size_t r1 = range_basis(ev, j, &row1, 1, ev->bu);
            size_t r3 = range_basis(ev, j, &row3, 1, ev->bv);
            if (r1 == (size_t)-1 || r3 == (size_t)-1)
                return bad("LAPACK dgesvd failed on a Jacobian");
            nv = proj_norm(ev, W, nj, n, ev->bu, r1, ev->bv, r3, zr, zs, ev->e, &q);
        }
        if (!isfinite(fv) || !isfinite(nv))
            return bad("non-finite R2WDC deviation");
        val[b] = fmax(fv, nv);
        if (far)
            far[b] = fv;
        if (near)
            near[b] = nv;
    }
    return GPMC_OK;
}

int gpmc_r2wdc_eval_span(gpmc_r2wdc_eval *ev, size_t j, const double *const *t, size_t nb,
                         double *span)
{
    if (nb == 0)
        return GPMC_OK;
    const gpmc_net *net = ev->net;
    size_t n = prepare(ev, j, t, nb), nj = net->width[j];
    for (size_t b = 0; b < nb; b++) {
        const double *r = ev->rsuv + b * n, *s = ev->rsuv + (nb + b) * n;
        qframe q;
        double sv = 0;
        if (frame(r, s, n, ev->e, &q)) {
            size_t ru_rows[2] = {2 * nb + b, 3 * nb + b}, rv_rows[2] = {4 * nb + b, 5 * nb + b};
            size_t ru = range_basis(ev, j, ru_rows, 2, ev->bu);
            size_t rv = range_basis(ev, j, rv_rows, 2, ev->bv);
            if (ru == (size_t)-1 || rv == (size_t)-1)
                return bad("LAPACK dgesvd failed on a Jacobian");
            sv = proj_norm(ev, net->W[j - 1], nj, n, ev->bu, ru, ev->bv, rv, ev->z + b * nj,
                           ev->z + (nb + b) * nj, ev->e, &q);
        }
        if (!isfinite(sv))
            return bad("non-finite span-relaxed R2WDC value");
        span[b] = sv;
    }
    return GPMC_OK;
}
