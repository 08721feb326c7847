/* The RRIC evaluator (MATH.md, Conditions 2; Hand-Voroninski Def. 3): for a fixed ReLU
 * network G: R^k -> R^n and measurement A: R^n -> R^m,
 *
 *     dev(x1, x2, x3, x4) = |<Au, Av> - <u, v>| / (|u| |v|),
 *     u = G(x1) - G(x2),  v = G(x3) - G(x4)                      (0 if u or v is 0),
 *
 * for batches of quadruples, and the span-relaxed value of the cells of one quadruple,
 *
 *     span(x1..x4) = || B_U^T (A^T A - I) B_V ||,  U = span[Lambda_{x1} Lambda_{x2}],
 *                                                  V = span[Lambda_{x3} Lambda_{x4}],
 *
 * (Lambda_x = Lambda_{d,x}, n x k), B_U, B_V orthonormal bases. u = Lambda_{x1} x1 -
 * Lambda_{x2} x2 lies in U and v in V, so dev <= span at every quadruple: span is an upper
 * bound over the cells, dev a value attained (a lower bound on the supremum).
 *
 * Latent vectors are LIFTED: a quadruple is four vectors z_j in R^{k+1} and x_j = the first
 * k coordinates of z_j. dev is invariant under scaling (x1, x2) or (x3, x4) by c > 0, but
 * not under scaling x1 alone, so four unit x_j would fix |x1| = |x2| and miss e.g. u = G(x1)
 * (x2 = 0); unit z_j reach every (x1, x2) up to a common scale (|x_j| <= 1 is free).
 *
 * Batched evaluation: one forward pass of the 4 nb vectors (one GEMM per layer), then A
 * applied to the nb u's and nb v's as one batch each. Near pairs: when x1 and x2 have the
 * same activation pattern in every layer, Lambda_{x1} = Lambda_{x2} and u = Lambda_{x1}
 * (x1 - x2) exactly; that product (batched, net.h) replaces the difference of two nearly
 * equal outputs, whose rounding is eps |G(x1)| / |u| relative (1e-7 at angle 1e-9), while
 * x1 - x2 is exact for close vectors (Sterbenz) and Lambda (x1 - x2) is accurate to eps.
 *
 * The evaluator also keeps the `ntop` best quadruples of distinct cells (activation
 * patterns of x1..x4, hashed) seen since the last reset, for the span maximum.
 * Code: src/numerics/rric_eval.c; client: src/experiments/rric.c. */
#ifndef GPMC_RRIC_EVAL_H
#define GPMC_RRIC_EVAL_H

#include "gpmc/measure.h"
#include "gpmc/net.h"

#include <stddef.h>

/* Singular values below SPAN_RANK_TOL * sigma_1 of [Lambda_{x1} Lambda_{x2}] are rounding
 * (an exactly rank-deficient matrix, e.g. the same cell twice, leaves ~ sqrt(2kn) eps
 * sigma_1 <= 1e-12 sigma_1 for n <= 4096) and are dropped from the basis. */
#define GPMC_RRIC_RANK_TOL 1e-10

typedef struct gpmc_rric_eval gpmc_rric_eval;

/* For the network `net` and operator `A` (referenced: keep both alive; sample them as
 * often as wanted between evaluations), batches of up to `batch` quadruples and a top list
 * of `ntop` >= 1 cells. NULL on allocation failure or mismatched sizes. */
gpmc_rric_eval *gpmc_rric_eval_alloc(const gpmc_net *net, gpmc_measure *A, size_t batch,
                                     size_t ntop);
void gpmc_rric_eval_free(gpmc_rric_eval *ev);

/* Bytes gpmc_rric_eval_alloc takes for these sizes (width[0] = k, width[depth] = n), not
 * counting net and A; SIZE_MAX on overflow. */
size_t gpmc_rric_eval_bytes(size_t depth, const size_t *width, size_t m, size_t batch,
                            size_t ntop);

/* Forget the top list and the counters (start of a trial). */
void gpmc_rric_eval_reset(gpmc_rric_eval *ev);

/* val[b] = dev of quadruple b < nb <= batch, whose lifted vector j is row b of t[j]
 * (nb x (k+1), row-major; tied vectors may share a pointer). Offers each to the top list.
 * GPMC_OK. */
int gpmc_rric_eval_quads(gpmc_rric_eval *ev, const double *const *t, size_t nb, double *val);

/* dev of one quadruple given as x (4 x k, row-major: x1..x4, not lifted). */
double gpmc_rric_eval_one(gpmc_rric_eval *ev, const double *x);

/* *val = span of the cells of x (4 x k: x1..x4). GPMC_OK or GPMC_ENUM (LAPACK failed). */
int gpmc_rric_eval_span(gpmc_rric_eval *ev, const double *x, double *val);

/* *val = the largest span over the cells of x (4 x k) and of the top list's quadruples;
 * *cells = how many distinct cells that maximum ran over (x's included). */
int gpmc_rric_eval_span_max(gpmc_rric_eval *ev, const double *x, double *val, size_t *cells);

/* Pairs (x1, x2) or (x3, x4) evaluated through u = Lambda_{x1}(x1 - x2) since the reset. */
size_t gpmc_rric_eval_jacobian_pairs(const gpmc_rric_eval *ev);

#endif
