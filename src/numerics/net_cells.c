/* The latent-space boundaries of a ReLU network's pieces (include/gpmc/net_cells.h).
 *
 * One forward pass of x, then the rows Lambda_{l,x}^T (k x width[l]) layer by layer, as
 * gpmc_net_lambda_rows does: P_l = Lambda_{l-1,x}^T W_l^T is k x width[l], and its column
 * i is nu_{l,i} = Lambda_{l-1,x}^T w_{l,i}, the normals wanted; masking P_l's columns with
 * layer l's pattern at x gives Lambda_{l,x}^T for the next layer. So all the normals cost
 * one GEMM per layer, k width[l-1] width[l]. */
#include "gpmc/net_cells.h"

#include "gpmc/error.h"
#include "gpmc/sizes.h"

#include <gsl/gsl_cblas.h>
#include <stdlib.h>
#include <string.h>

struct gpmc_net_cells {
    const gpmc_net *net;
    gpmc_net_trace *tr; /* one row */
    double *a, *b;      /* k x max width: Lambda^T and the next product */
    size_t layers;
    size_t stride;      /* doubles per normal: k, or more for a lifted search (zeros) */
};

static size_t widest(const size_t *width, size_t depth)
{
    size_t m = 0;
    for (size_t i = 0; i <= depth; i++)
        m = width[i] > m ? width[i] : m;
    return m;
}

size_t gpmc_net_cells_max(const size_t *width, size_t depth)
{
    size_t n = 0;
    for (size_t l = 1; l <= depth; l++)
        n = gpmc_size_add(n, width[l]);
    return n;
}

size_t gpmc_net_cells_bytes(const size_t *width, size_t depth)
{
    size_t sum = 0, wmax = widest(width, depth);
    for (size_t j = 0; j <= depth; j++) /* the trace: activations and its scratch row */
        sum = gpmc_size_add(sum, width[j]);
    sum = gpmc_size_add(sum, wmax);
    sum = gpmc_size_add(sum, gpmc_size_mul(2 * width[0], wmax));
    return gpmc_size_mul(sum, sizeof(double));
}

gpmc_net_cells *gpmc_net_cells_alloc(const gpmc_net *net)
{
    gpmc_net_cells *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t k = net->width[0], wmax = widest(net->width, net->depth);
    c->net = net;
    c->layers = net->depth;
    c->stride = k;
    c->tr = gpmc_net_trace_alloc(net, 1);
    c->a = malloc(k * wmax * sizeof *c->a);
    c->b = malloc(k * wmax * sizeof *c->b);
    if (!c->tr || !c->a || !c->b) {
        gpmc_net_cells_free(c);
        return NULL;
    }
    return c;
}

void gpmc_net_cells_free(gpmc_net_cells *c)
{
    if (!c)
        return;
    gpmc_net_trace_free(c->tr);
    free(c->a);
    free(c->b);
    free(c);
}

void gpmc_net_cells_set_stride(gpmc_net_cells *c, size_t stride)
{
    c->stride = stride > c->net->width[0] ? stride : c->net->width[0];
}

void gpmc_net_cells_set_layers(gpmc_net_cells *c, size_t layers)
{
    c->layers = layers < c->net->depth ? layers : c->net->depth;
}

int gpmc_net_cells_normals(void *ctx, const double *x, double *normals, size_t *count)
{
    gpmc_net_cells *c = ctx;
    const gpmc_net *net = c->net;
    size_t k = net->width[0], done = 0, st = c->stride;
    gpmc_net_forward(net, x, 1, c->tr);
    double *lt = c->a, *p = c->b; /* Lambda_{l-1}^T (k x width[l-1]), then P_l */
    memset(lt, 0, k * k * sizeof *lt);
    for (size_t a = 0; a < k; a++)
        lt[a * k + a] = 1;
    for (size_t l = 1; l <= c->layers; l++) {
        size_t w = net->width[l], cols = net->width[l - 1];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)k, (int)w, (int)cols, 1.0, lt,
                    (int)cols, net->W[l - 1], (int)cols, 0.0, p, (int)w);
        for (size_t i = 0; i < w; i++) { /* column i of P_l is nu_{l,i} */
            double *nu = normals + (done + i) * st;
            for (size_t a = 0; a < k; a++)
                nu[a] = p[a * w + i];
            for (size_t a = k; a < st; a++)
                nu[a] = 0;
        }
        done += w;
        const double *pattern = c->tr->act[l];
        for (size_t a = 0; a < k; a++)
            for (size_t i = 0; i < w; i++)
                if (!(pattern[i] > 0))
                    p[a * w + i] = 0;
        double *t = lt;
        lt = p;
        p = t;
    }
    *count = done;
    return GPMC_OK;
}
