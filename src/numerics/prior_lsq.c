/* f(x) = 1/2 |A G(x) - b|^2 and its descent (prior_lsq.h). One iteration of Algorithm 2 is
 * one forward pass of the 2-column batch [x; -x] (the sign check's two evaluations), one
 * 2-column A product, one A^T product and one backward product with Lambda^T: the step
 * reuses the chosen column's forward pass and residual. */
#include "gpmc/prior_lsq.h"

#include "gpmc/error.h"
#include "gpmc/sizes.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gpmc_prior_lsq {
    const gpmc_net *net;
    gpmc_measure *A;
    size_t k, n, m;
    gpmc_net_trace *tr; /* batch 2: x and -x */
    double *X;          /* 2 x k */
    double *Y;          /* 2 x m: A G of both */
    double *u;          /* n: A^T r */
    double *scratch;    /* max width */
};

static size_t widest(const size_t *width, size_t depth)
{
    size_t w = 0;
    for (size_t i = 0; i <= depth; i++)
        w = width[i] > w ? width[i] : w;
    return w;
}

size_t gpmc_prior_lsq_bytes(const size_t *width, size_t depth, size_t m)
{
    size_t w = widest(width, depth), acts = 0;
    for (size_t i = 0; i <= depth; i++)
        acts = gpmc_size_add(acts, gpmc_size_mul(2, width[i]));
    size_t doubles = gpmc_size_add(acts, gpmc_size_mul(2, w)); /* the trace */
    doubles = gpmc_size_add(doubles, gpmc_size_mul(2, width[0]));
    doubles = gpmc_size_add(doubles, gpmc_size_mul(2, m));
    doubles = gpmc_size_add(doubles, gpmc_size_add(width[depth], w));
    return gpmc_size_add(gpmc_size_mul(doubles, sizeof(double)), 4096);
}

gpmc_prior_lsq *gpmc_prior_lsq_alloc(const gpmc_net *net, gpmc_measure *A)
{
    size_t n = net->width[net->depth];
    if (gpmc_measure_cols(A) != n) {
        gpmc_error(GPMC_EINVAL, "gpmc_prior_lsq_alloc",
                   "the measurement has %zu columns, the network %zu outputs",
                   gpmc_measure_cols(A), n);
        return NULL;
    }
    gpmc_prior_lsq *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->net = net;
    s->A = A;
    s->k = net->width[0];
    s->n = n;
    s->m = gpmc_measure_rows(A);
    s->tr = gpmc_net_trace_alloc(net, 2);
    s->X = malloc(2 * s->k * sizeof *s->X);
    s->Y = malloc(2 * s->m * sizeof *s->Y);
    s->u = malloc(n * sizeof *s->u);
    s->scratch = malloc(widest(net->width, net->depth) * sizeof *s->scratch);
    if (!s->tr || !s->X || !s->Y || !s->u || !s->scratch)
        goto oom;
    return s;
oom:
    gpmc_prior_lsq_free(s);
    gpmc_error(GPMC_ENOMEM, "gpmc_prior_lsq_alloc", "out of memory");
    return NULL;
}

void gpmc_prior_lsq_free(gpmc_prior_lsq *s)
{
    if (!s)
        return;
    gpmc_net_trace_free(s->tr);
    free(s->X);
    free(s->Y);
    free(s->u);
    free(s->scratch);
    free(s);
}

/* 1/2 |Y_row - b|^2, leaving the residual Y_row - b in Y_row. */
static double half_sq_residual(double *y, const double *b, size_t m)
{
    double f = 0;
    for (size_t i = 0; i < m; i++) {
        y[i] -= b[i];
        f += y[i] * y[i];
    }
    return 0.5 * f;
}

/* grad = Lambda_{d,x_row}^T A^T r for the residual r of batch row `row`. */
static void subgradient(gpmc_prior_lsq *s, size_t row, double *grad)
{
    gpmc_measure_apply_t(s->A, s->Y + row * s->m, s->u);
    gpmc_net_lambda_t(s->net, s->tr, row, s->net->depth, s->u, grad, s->scratch);
}

double gpmc_prior_lsq_eval(gpmc_prior_lsq *s, const double *b, const double *x, double *grad)
{
    memcpy(s->X, x, s->k * sizeof *x);
    gpmc_net_forward(s->net, s->X, 1, s->tr);
    gpmc_measure_apply_batch(s->A, s->tr->act[s->net->depth], 1, s->Y);
    double f = half_sq_residual(s->Y, b, s->m);
    if (grad)
        subgradient(s, 0, grad);
    return f;
}

void gpmc_prior_lsq_output(gpmc_prior_lsq *s, const double *x, double *out)
{
    memcpy(s->X, x, s->k * sizeof *x);
    gpmc_net_forward(s->net, s->X, 1, s->tr);
    memcpy(out, s->tr->act[s->net->depth], s->n * sizeof *out);
}

int gpmc_prior_lsq_descend(gpmc_prior_lsq *s, const double *b, double *x,
                           const gpmc_descent_opts *o, const gpmc_stream *poll,
                           gpmc_descent_result *res)
{
    const size_t k = s->k, m = s->m, depth = s->net->depth;
    const size_t cols = o->sign_flip ? 2 : 1;
    double *v = s->X + k; /* the second row is free once the forward pass has read it */
    memset(res, 0, sizeof *res);
    for (long it = 0; it < o->max_iter; it++) {
        if (o->poll_every > 0 && it % o->poll_every == 0) {
            int st = gpmc_stream_poll(poll);
            if (st)
                return st;
        }
        memcpy(s->X, x, k * sizeof *x);
        if (cols == 2)
            for (size_t i = 0; i < k; i++)
                s->X[k + i] = -x[i];
        gpmc_net_forward(s->net, s->X, cols, s->tr);
        gpmc_measure_apply_batch(s->A, s->tr->act[depth], cols, s->Y);
        double f0 = half_sq_residual(s->Y, b, m);
        size_t row = 0;
        if (cols == 2 && half_sq_residual(s->Y + m, b, m) < f0) {
            row = 1;
            for (size_t i = 0; i < k; i++)
                x[i] = -x[i];
            res->flips++;
        }
        subgradient(s, row, v);
        double vn = cblas_dnrm2((int)k, v, 1);
        cblas_daxpy((int)k, -o->step, v, 1, x, 1);
        res->iterations = it + 1;
        if (!isfinite(vn) || !isfinite(cblas_dnrm2((int)k, x, 1))) {
            res->diverged = 1;
            break;
        }
        if (vn < o->tol) {
            res->converged = 1;
            break;
        }
    }
    res->loss = res->diverged ? NAN : gpmc_prior_lsq_eval(s, b, x, NULL);
    return GPMC_OK;
}
