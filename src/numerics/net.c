/* ReLU networks without biases (net.h). */
#include "gpmc/net.h"

#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t max_width(const gpmc_net *net)
{
    size_t m = 0;
    for (size_t i = 0; i <= net->depth; i++)
        if (net->width[i] > m)
            m = net->width[i];
    return m;
}

gpmc_net *gpmc_net_alloc(size_t depth, const size_t *width)
{
    if (depth == 0) {
        gpmc_error(GPMC_EINVAL, "gpmc_net_alloc", "depth must be >= 1");
        return NULL;
    }
    for (size_t i = 0; i <= depth; i++)
        if (width[i] == 0) {
            gpmc_error(GPMC_EINVAL, "gpmc_net_alloc", "width[%zu] must be >= 1", i);
            return NULL;
        }
    gpmc_net *net = calloc(1, sizeof *net);
    if (!net)
        goto oom;
    net->depth = depth;
    net->width = malloc((depth + 1) * sizeof *net->width);
    net->W = calloc(depth, sizeof *net->W);
    if (!net->width || !net->W)
        goto oom;
    memcpy(net->width, width, (depth + 1) * sizeof *width);
    for (size_t i = 0; i < depth; i++)
        if (!(net->W[i] = calloc(width[i + 1] * width[i], sizeof **net->W)))
            goto oom;
    return net;
oom:
    gpmc_net_free(net);
    gpmc_error(GPMC_ENOMEM, "gpmc_net_alloc", "out of memory");
    return NULL;
}

void gpmc_net_free(gpmc_net *net)
{
    if (!net)
        return;
    if (net->W)
        for (size_t i = 0; i < net->depth; i++)
            free(net->W[i]);
    free(net->W);
    free(net->width);
    free(net);
}

/* Layer i+1 has rows = width[i+1]: entries N(0, 1/rows), so E[W^T W] = I; truncated rows
 * are cut at 3 sqrt(cols/rows), three times the typical row norm sqrt(cols/rows). */
void gpmc_net_sample(gpmc_net *net, gsl_rng *r, gpmc_weights kind)
{
    for (size_t i = 0; i < net->depth; i++) {
        size_t rows = net->width[i + 1], cols = net->width[i];
        double sigma = 1 / sqrt((double)rows);
        if (kind == GPMC_WEIGHTS_TRUNCATED)
            gpmc_rng_truncated_rows(r, sigma, 3 * sqrt((double)cols / (double)rows), rows,
                                    cols, net->W[i]);
        else
            gpmc_rng_gaussian(r, sigma, net->W[i], rows * cols);
    }
}

gpmc_net_trace *gpmc_net_trace_alloc(const gpmc_net *net, size_t batch)
{
    gpmc_net_trace *tr = calloc(1, sizeof *tr);
    if (!tr)
        goto oom;
    tr->batch = batch;
    /* A zero batch still gets one row, so every pointer is non-NULL (the sentinel). */
    size_t rows = batch > 0 ? batch : 1;
    /* act[] has depth + 1 entries and a NULL sentinel, so free() needs no net. */
    tr->act = calloc(net->depth + 2, sizeof *tr->act);
    if (!tr->act)
        goto oom;
    for (size_t j = 0; j <= net->depth; j++)
        if (!(tr->act[j] = calloc(rows * net->width[j], sizeof **tr->act)))
            goto oom;
    if (!(tr->work = calloc(max_width(net) * rows, sizeof *tr->work)))
        goto oom;
    return tr;
oom:
    gpmc_net_trace_free(tr);
    gpmc_error(GPMC_ENOMEM, "gpmc_net_trace_alloc", "out of memory");
    return NULL;
}

void gpmc_net_trace_free(gpmc_net_trace *tr)
{
    if (!tr)
        return;
    if (tr->act)
        for (size_t j = 0; tr->act[j]; j++)
            free(tr->act[j]);
    free(tr->act);
    free(tr->work);
    free(tr);
}

void gpmc_net_forward(const gpmc_net *net, const double *x, size_t b, gpmc_net_trace *tr)
{
    if (b == 0)
        return;
    memcpy(tr->act[0], x, b * net->width[0] * sizeof *x);
    for (size_t j = 1; j <= net->depth; j++) {
        size_t rows = net->width[j], cols = net->width[j - 1];
        double *out = tr->act[j];
        /* act[j] = act[j-1] W_j^T: one GEMM for the whole batch. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)rows, (int)cols,
                    1.0, tr->act[j - 1], (int)cols, net->W[j - 1], (int)cols, 0.0, out,
                    (int)rows);
        for (size_t i = 0; i < b * rows; i++)
            if (!(out[i] > 0))
                out[i] = 0;
    }
}

/* Products with Lambda_{j,x} need two intermediate vectors of up to max(width) entries
 * alive at once, while `out` may be narrower than the layers before it; the caller's
 * scratch and the trace's own work buffer are the two, and the last layer writes `out`
 * directly. */
static double *pick(size_t steps_left, double *out, double *a, double *b)
{
    return steps_left == 0 ? out : (steps_left % 2 ? a : b);
}

void gpmc_net_lambda(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                     const double *v, double *out, double *scratch)
{
    if (j == 0) {
        memcpy(out, v, net->width[0] * sizeof *v);
        return;
    }
    const double *in = v;
    for (size_t i = 1; i <= j; i++) {
        size_t rows = net->width[i], cols = net->width[i - 1];
        double *dst = pick(j - i, out, scratch, tr->work);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)rows, (int)cols, 1.0, net->W[i - 1],
                    (int)cols, in, 1, 0.0, dst, 1);
        const double *pattern = tr->act[i] + row * rows;
        for (size_t r = 0; r < rows; r++)
            if (!(pattern[r] > 0))
                dst[r] = 0;
        in = dst;
    }
}

void gpmc_net_lambda_t(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                       const double *u, double *out, double *scratch)
{
    if (j == 0) {
        memcpy(out, u, net->width[0] * sizeof *u);
        return;
    }
    /* u is const, so its masked copy goes to the buffer the first product does not write. */
    double *cur = (j - 1) % 2 ? tr->work : scratch;
    for (size_t i = j; i >= 1; i--) {
        size_t rows = net->width[i], cols = net->width[i - 1];
        const double *pattern = tr->act[i] + row * rows;
        const double *src = i == j ? u : cur;
        for (size_t r = 0; r < rows; r++)
            cur[r] = pattern[r] > 0 ? src[r] : 0;
        double *dst = pick(i - 1, out, scratch, tr->work);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)rows, (int)cols, 1.0, net->W[i - 1],
                    (int)cols, cur, 1, 0.0, dst, 1);
        cur = dst;
    }
}

/* The masked chain Lambda_{j} applied to nb vectors (rows of V), vector b with the activation
 * pattern of trace row rows[b] (rows NULL: all of row `row`); buffers as in `pick`. */
static void lambda_chain(const gpmc_net *net, const gpmc_net_trace *tr, const size_t *rows,
                         size_t row, size_t nb, size_t j, const double *V, double *out,
                         double *s1, double *s2)
{
    const double *in = V;
    for (size_t i = 1; i <= j; i++) {
        size_t w = net->width[i], cols = net->width[i - 1];
        double *dst = pick(j - i, out, s1, s2);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)w, (int)cols, 1.0,
                    in, (int)cols, net->W[i - 1], (int)cols, 0.0, dst, (int)w);
        for (size_t b = 0; b < nb; b++) {
            const double *pattern = tr->act[i] + (rows ? rows[b] : row) * w;
            double *d = dst + b * w;
            for (size_t r = 0; r < w; r++)
                if (!(pattern[r] > 0))
                    d[r] = 0;
        }
        in = dst;
    }
}

void gpmc_net_lambda_batch(const gpmc_net *net, const gpmc_net_trace *tr, const size_t *rows,
                           size_t nb, size_t j, const double *V, double *out, double *s1,
                           double *s2)
{
    if (nb == 0)
        return;
    if (j == 0) {
        memcpy(out, V, nb * net->width[0] * sizeof *V);
        return;
    }
    lambda_chain(net, tr, rows, 0, nb, j, V, out, s1, s2);
}

void gpmc_net_lambda_rows(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                          double *out, double *scratch)
{
    size_t k = net->width[0];
    /* Lambda applied to the k unit vectors: I_k starts in the buffer the first product does
     * not write (out and scratch alternate, the last product lands in out). */
    double *eye = pick(j, out, scratch, out);
    memset(eye, 0, k * k * sizeof *eye);
    for (size_t a = 0; a < k; a++)
        eye[a * k + a] = 1;
    if (j > 0)
        lambda_chain(net, tr, NULL, row, k, j, eye, out, scratch, out);
}
