/* The joint-WDC deviation evaluator (MATH.md, Conditions 4; Hand-Joshi eqs. 6-7): for
 * fixed B in R^{ell x n}, C in R^{ell x p} and a batch of tuples (h, x, m, y), h, x in R^n,
 * m, y in R^p (all nonzero),
 *
 *   eps6 = ell || B+h^T diag(C+m m . C+y y) B+x - (alpha/ell)(m^T Q_my y) Q_hx || / (|m||y|)
 *   eps7 = ell || C+m^T diag(B+h h . B+x x) C+y - (alpha/ell)(h^T Q_hx x) Q_my || / (|h||x|)
 *
 * (spectral norms of symmetric n x n and p x p matrices). Both are invariant under
 * positive scaling of each of h, x, m, y, so the evaluator normalises the four blocks;
 * with unit vectors m^T Q_my y = ((pi - t) cos t + sin t) / (2 pi), t = angle(m, y).
 *
 * Tuple layout: a tuple of the shared search (search.h) is the pair (u, v) in R^{n+p},
 * u = (h, m), v = (x, y) (first n coordinates, then p), declared to it as two blocks (n,
 * p), so it draws, steps and stratifies h, x, m and y each on its own sphere. The
 * embedding is exact, not a padding: the hyperplanes of the rows, (b_i, 0) and (0, c_i),
 * switch u and v exactly as the masks 1{b_i.h > 0} 1{b_i.x > 0} and 1{c_i.m > 0}
 * 1{c_i.y > 0} do, so the search's flips apply unchanged (2 ell normals, both vectors
 * gated), and its value is the norm of one symmetric (n+p) x (n+p) matrix,
 * blockdiag(D6, D7), whose top eigenvector aims them.
 *
 * Batched BLAS-3: per chunk of rows, the pre-activations [H; X] B^T and [M; Y] C^T (two
 * GEMMs), the weights of the ell outer products, then two GEMMs against the packed outer
 * products b_i b_i^T and c_i c_i^T (built once per B, C). Code: src/numerics/jwdc_eval.c;
 * the experiment is src/experiments/jwdc.c. */
#ifndef GPMC_JWDC_EVAL_H
#define GPMC_JWDC_EVAL_H

#include "gpmc/search.h"

#include <stddef.h>

typedef struct gpmc_jwdc_eval gpmc_jwdc_eval;

/* An evaluator for ell x n and ell x p matrices and batches of up to `batch` tuples; NULL
 * on a zero size or allocation failure. Everything is allocated here, nothing later. */
gpmc_jwdc_eval *gpmc_jwdc_eval_alloc(size_t ell, size_t n, size_t p, size_t batch);
void gpmc_jwdc_eval_free(gpmc_jwdc_eval *ev);

/* Bytes gpmc_jwdc_eval_alloc() would take; SIZE_MAX if that overflows size_t. */
size_t gpmc_jwdc_eval_bytes(size_t ell, size_t n, size_t p, size_t batch);

/* Use B (ell x n) and C (ell x p), row-major (referenced, not copied: keep them alive
 * and unchanged while evaluating), and the constant alpha (= alpha_1 alpha_2). Builds
 * the packed outer products and the search's normals (2 ell rows of n + p), and forgets
 * the best tuples (gpmc_jwdc_eval_best). */
void gpmc_jwdc_eval_set(gpmc_jwdc_eval *ev, const double *b, const double *c, double alpha);

/* The normals of the search: 2 ell rows of n + p, (b_i, 0) then (0, c_i). */
const double *gpmc_jwdc_eval_normals(const gpmc_jwdc_eval *ev);

/* eps6[b], eps7[b] for b < nb <= batch; u, v are nb x (n+p) row-major (u = (h, m),
 * v = (x, y)). A tuple with a zero block gets 0 for both (its value is not defined; 0 is
 * below any supremum). eps7 may be NULL. Every value is also folded into the best tuples.
 * Deterministic: depends only on B, C, alpha, the tuples and nb. GPMC_OK, or GPMC_ENUM
 * (an eigenvalue computation failed: non-finite input). */
int gpmc_jwdc_eval_tuples(gpmc_jwdc_eval *ev, const double *u, const double *v, size_t nb,
                          double *eps6, double *eps7);

/* blockdiag(D6, D7), (n+p) x (n+p) row-major (both triangles), D6 and D7 the matrices
 * whose norms are eps6, eps7, for tuple b of the last gpmc_jwdc_eval_tuples() batch (u, v:
 * its rows) or, _matrix, for one tuple by the same code path. GPMC_OK or GPMC_ENUM. */
int gpmc_jwdc_eval_batch_matrix(gpmc_jwdc_eval *ev, size_t b, const double *u, const double *v,
                                double *out);
int gpmc_jwdc_eval_matrix(gpmc_jwdc_eval *ev, const double *u, const double *v, double *out);

/* The largest eps6 (which = 6) or eps7 (which = 7) over every tuple evaluated since the
 * last set (-1 if none), and its tuple (*u, *v if not NULL: rows of n + p). */
double gpmc_jwdc_eval_best(const gpmc_jwdc_eval *ev, int which, const double **u,
                           const double **v);

/* The shared search's objective: pairs (u, v), value max(eps6, eps7), flips aimed by
 * blockdiag(D6, D7) across the 2 ell hyperplanes gpmc_jwdc_eval_normals() (ev NULL: for
 * sizing only). */
gpmc_search_objective gpmc_jwdc_search_objective(size_t ell, size_t n, size_t p, size_t batch,
                                                 gpmc_jwdc_eval *ev);

/* Floating-point operations of the GEMMs per tuple (the benchmark's unit). */
double gpmc_jwdc_gemm_flops(size_t ell, size_t n, size_t p);

#endif
