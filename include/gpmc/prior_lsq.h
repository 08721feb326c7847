/* Least squares through a generative prior: f(x) = 1/2 |A G(x) - b|^2 for a ReLU network G
 * (net.h) and a measurement A (measure.h), its subgradient Lambda_{d,x}^T A^T (A G(x) - b)
 * (the gradient wherever no pre-activation is 0), and descent on it: Algorithm 2 of
 * Cocola-Hand-Voroninski (App. H; MATH.md "Recovery problems" 1) with the sign-flip check
 * f(-x) < f(x), or plain gradient descent. Compressed sensing, network inversion (A = I)
 * and the landscape experiments share it. Every buffer is made at allocation: evaluations
 * and descents allocate nothing. */
#ifndef GPMC_PRIOR_LSQ_H
#define GPMC_PRIOR_LSQ_H

#include "gpmc/experiment.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"

#include <stddef.h>

typedef struct gpmc_prior_lsq gpmc_prior_lsq;

/* For `net` and `A` (A's columns = the net's output width); both must outlive it. NULL with
 * gpmc_error set on a size mismatch or out of memory. */
gpmc_prior_lsq *gpmc_prior_lsq_alloc(const gpmc_net *net, gpmc_measure *A);
void gpmc_prior_lsq_free(gpmc_prior_lsq *s);
/* Bytes gpmc_prior_lsq_alloc takes for these widths (width[0] = k .. width[depth] = n) and
 * m measurements (not counting the net and A themselves); SIZE_MAX on overflow. */
size_t gpmc_prior_lsq_bytes(const size_t *width, size_t depth, size_t m);

/* f(x); grad (k) = the subgradient at x if not NULL. */
double gpmc_prior_lsq_eval(gpmc_prior_lsq *s, const double *b, const double *x, double *grad);

typedef struct {
    double step;     /* x <- x - step * v */
    double tol;      /* stop once |v| < tol */
    long max_iter;   /* at most this many steps */
    int sign_flip;   /* 1: Algorithm 2 (x~ = -x if f(-x) < f(x)); 0: plain descent */
    int poll_every;  /* steps between stop polls of the stream (0: never poll) */
} gpmc_descent_opts;

typedef struct {
    long iterations; /* steps taken */
    long flips;      /* steps that took -x */
    int converged;   /* |v| < tol before max_iter */
    int diverged;    /* x stopped being finite: the descent ended there */
    double loss;     /* f(x_T) */
} gpmc_descent_result;

/* Descend from x (k; in: x0, out: x_T) on f with data b (m). GPMC_OK, or GPMC_ESTOPPED when
 * the stream's poll asked for a stop (x is then where the descent was). */
int gpmc_prior_lsq_descend(gpmc_prior_lsq *s, const double *b, double *x,
                           const gpmc_descent_opts *opts, const gpmc_stream *poll,
                           gpmc_descent_result *res);

/* G(x) (n) of the last evaluation at x, for the caller's errors: out = G(x). */
void gpmc_prior_lsq_output(gpmc_prior_lsq *s, const double *x, double *out);

#endif
