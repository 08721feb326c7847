/* The R2WDC deviation evaluator (MATH.md, Conditions 3; Cocola-Hand-Voroninski App. D,
 * eq. (41)). For layer j of a network G with weights W = W_j, a tuple of six latent
 * vectors (x, y, x1, x2, x3, x4) gives r = G_{j-1}(x), s = G_{j-1}(y) and the deviation
 * matrix D = W_{+,r}^T W_{+,s} - Q_{r,s} (n_{j-1} x n_{j-1}, never formed). Per tuple:
 *
 *   far   |<D u, v>| / (|u| |v|), u = G_{j-1}(x1) - G_{j-1}(x2), v = G_{j-1}(x3) - G_{j-1}(x4);
 *   near  ||B_1^T D B_3||, B_i an orthonormal basis of range(Lambda_{j-1,x_i}): the sup of
 *         |<D u, v>|/(|u||v|) over the near pairs u = G_{j-1}(x1 + t a) - G_{j-1}(x1) =
 *         t Lambda_{j-1,x1} a (x1 inside its activation cell, t small), v likewise at x3;
 *   value max(far, near): both are attained by pairs of points of R^k, so the value is a
 *         certified lower bound on eps_j (up to rounding: see below);
 *   span  ||B_U^T D B_V||, U = span(Lambda_{j-1,x1}, Lambda_{j-1,x2}), V = span(Lambda_{j-1,x3},
 *         Lambda_{j-1,x4}): the sup over u in U, v in V with r, s fixed. U contains u and
 *         range(Lambda_{j-1,x1}), so span >= value; it is an upper bound over those cells at
 *         this (r, s), NOT a lower bound on eps_j (not every u in U is a difference of
 *         outputs).
 * For j = 1, G_0 is the identity, B_i = I_k and near = ||D|| = the WDC deviation of W_1 at
 * (x, y) (alpha = 1).
 *
 * The bases come from LAPACK's dgesvd of Lambda (column-major, which is the row-major
 * Lambda^T that gpmc_net_lambda_rows gives); left singular vectors with sigma_i <= 1e-6
 * sigma_1 are dropped (a dead or nearly dependent direction: a smaller subspace keeps the
 * lower bound, and the kept ones are within ~1e-10 rad of range(Lambda)). A zero r or s
 * (every unit of G_{j-1} dead) has no Q: the tuple's values are 0. Q_{r,s} is applied in
 * the plane of r, s: Q = (pi - theta)/(2 pi) I + sin(theta)/(2 pi) M, M = c (e1 e1^T -
 * e2 e2^T) + s (e1 e2^T + e2 e1^T) in the orthonormal frame e1 = r^, e2 of span(r, s). */
#ifndef GPMC_R2WDC_EVAL_H
#define GPMC_R2WDC_EVAL_H

#include "gpmc/net.h"

#include <stddef.h>

typedef struct gpmc_r2wdc_eval gpmc_r2wdc_eval;

/* For `net` (referenced: sample it before evaluating, keep it alive) and batches of up to
 * `batch` tuples; NULL on allocation failure. Nothing is allocated later. */
gpmc_r2wdc_eval *gpmc_r2wdc_eval_alloc(const gpmc_net *net, size_t batch);
void gpmc_r2wdc_eval_free(gpmc_r2wdc_eval *ev);
/* Bytes gpmc_r2wdc_eval_alloc would take for widths width[0..depth] (width[0] = k);
 * SIZE_MAX on overflow. */
size_t gpmc_r2wdc_eval_bytes(const size_t *width, size_t depth, size_t batch);

/* Layer j in 1..depth; t[0..5] = x, y, x1, x2, x3, x4, each nb x k row-major, nb <= batch.
 * val[b] = max(far, near) of tuple b; far and near (may be NULL) get the parts.
 * GPMC_OK, or GPMC_ENUM if a LAPACK call failed or a value is not finite. */
int gpmc_r2wdc_eval_tuples(gpmc_r2wdc_eval *ev, size_t j, const double *const *t, size_t nb,
                           double *val, double *far, double *near);
/* span[b]: the span-relaxed value of tuple b (same arguments). */
int gpmc_r2wdc_eval_span(gpmc_r2wdc_eval *ev, size_t j, const double *const *t, size_t nb,
                         double *span);

#endif
