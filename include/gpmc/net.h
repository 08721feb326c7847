/* ReLU networks G(x) = relu(W_d ... relu(W_1 x)), no biases (MATH.md Notation).
 * Inputs are processed in batches: a batch of B vectors is a row-major B x width array,
 * so one GEMM per layer evaluates every vector of the batch. */
#ifndef GPMC_NET_H
#define GPMC_NET_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

typedef enum {
    GPMC_WEIGHTS_GAUSSIAN,  /* entries i.i.d. N(0, 1/n_i) */
    GPMC_WEIGHTS_TRUNCATED  /* rows w 1{|w| <= 3 sqrt(n_{i-1}/n_i)}, w ~ N(0, I/n_i) */
} gpmc_weights;

typedef struct {
    size_t depth;     /* d */
    size_t *width;    /* [d+1]: width[0] = k (latent), width[d] = n (output) */
    double **W;       /* W[i]: width[i+1] x width[i], row-major (layer i+1) */
} gpmc_net;

gpmc_net *gpmc_net_alloc(size_t depth, const size_t *width);
void gpmc_net_free(gpmc_net *net);
void gpmc_net_sample(gpmc_net *net, gsl_rng *r, gpmc_weights kind);

/* The forward pass of a batch, keeping what the products with Lambda need. */
typedef struct {
    size_t batch;     /* capacity (rows) */
    double **act;     /* act[j]: batch x width[j], G_j of every input (act[0] = inputs) */
    double *work;     /* scratch of max(width) * batch doubles */
} gpmc_net_trace;

gpmc_net_trace *gpmc_net_trace_alloc(const gpmc_net *net, size_t batch);
void gpmc_net_trace_free(gpmc_net_trace *tr);

/* act[0] <- x (b x k), then act[j] = G_j(x) for j = 1..depth. b <= tr->batch. */
void gpmc_net_forward(const gpmc_net *net, const double *x, size_t b, gpmc_net_trace *tr);

/* out (width[j]) = Lambda_{j,x} v for input row `row` of the last forward pass, v in R^k.
 * The activation pattern of layer i is act[i][row] > 0. `scratch`: max(width) doubles.
 * Both products also use tr->work as a second scratch vector (out may be narrower than
 * the layers in between), so one trace serves one product at a time. */
void gpmc_net_lambda(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                     const double *v, double *out, double *scratch);
/* out (k x width[j], row-major) = Lambda_{j,x}^T for input row `row` of the last forward
 * pass: row a is Lambda_{j,x} e_a, so as a column-major width[j] x k array it is
 * Lambda_{j,x} itself (what LAPACK takes). One GEMM per layer. `out` and `scratch` each
 * hold k * max(width) doubles; j = 0 gives the identity. */
void gpmc_net_lambda_rows(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                          double *out, double *scratch);
/* out (k) = Lambda_{j,x}^T u, u in R^{width[j]}. */
void gpmc_net_lambda_t(const gpmc_net *net, const gpmc_net_trace *tr, size_t row, size_t j,
                       const double *u, double *out, double *scratch);

/* Batched Lambda products: row b of out (nb x width[j]) = Lambda_{j,x} v_b, x the input row
 * rows[b] of the last forward pass, v_b row b of V (nb x k). One GEMM per layer, then each
 * row masked with its own pattern (act[i][rows[b]] > 0). s1, s2: nb * max(width) doubles
 * each, distinct from out and V. nb <= INT_MAX. */
void gpmc_net_lambda_batch(const gpmc_net *net, const gpmc_net_trace *tr, const size_t *rows,
                           size_t nb, size_t j, const double *V, double *out, double *s1,
                           double *s2);

#endif
