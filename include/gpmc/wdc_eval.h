/* The WDC deviation evaluator (MATH.md, Conditions 1): for a fixed W in R^{n x k} and a
 * batch of pairs (x_b, y_b),
 *
 *     dev_b = || W_{+,x_b}^T W_{+,y_b} - alpha Q_{x_b,y_b} ||     (spectral norm),
 *
 * with W_{+,x}^T W_{+,y} = sum_i 1{w_i.x > 0} 1{w_i.y > 0} w_i w_i^T computed for the
 * whole batch as two GEMMs: the pre-activations [X; Y] W^T, then the B x n matrix of
 * masks times the n x k(k+1)/2 matrix whose row i is the packed upper triangle of
 * w_i w_i^T (built once per W). Code: src/numerics/wdc_eval.c. The experiment `wdc`
 * (src/experiments/wdc.c), its tests and its benchmark all call it. */
#ifndef GPMC_WDC_EVAL_H
#define GPMC_WDC_EVAL_H

#include "gpmc/search.h"

#include <stddef.h>

typedef struct gpmc_wdc_eval gpmc_wdc_eval;

/* An evaluator for n x k weights and batches of up to `batch` pairs; NULL on allocation
 * failure. Everything the evaluation needs is allocated here, nothing later. */
gpmc_wdc_eval *gpmc_wdc_eval_alloc(size_t n, size_t k, size_t batch);
void gpmc_wdc_eval_free(gpmc_wdc_eval *ev);

/* Bytes gpmc_wdc_eval_alloc(n, k, batch) would allocate (to refuse a point before any
 * compute); SIZE_MAX if that overflows size_t. */
size_t gpmc_wdc_eval_bytes(size_t n, size_t k, size_t batch);

/* Use W (n x k, row-major; referenced, not copied: keep it alive and unchanged while
 * evaluating) and the scale alpha of Q. Builds the stacked outer products. */
void gpmc_wdc_eval_set_w(gpmc_wdc_eval *ev, const double *w, double alpha);

/* dev[b] = ||W_{+,x_b}^T W_{+,y_b} - alpha Q_{x_b,y_b}|| for b < nb <= batch, where x and y
 * are nb x k row-major (nonzero rows; passing y = x evaluates the diagonal x = y).
 * Deterministic: the result depends only on W, alpha, the pairs and nb.
 * GPMC_OK, or GPMC_ENUM if an eigenvalue computation failed (non-finite input). */
int gpmc_wdc_eval_pairs(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                        double *dev);

/* The deviation matrix W_{+,x}^T W_{+,y} - alpha Q_{x,y} of one pair, k x k row-major
 * (both triangles), through the same batched code path. GPMC_OK or GPMC_ENUM. */
int gpmc_wdc_eval_matrix(gpmc_wdc_eval *ev, const double *x, const double *y, double *out);

/* The same for pair b of the last gpmc_wdc_eval_pairs() batch, without recomputing its
 * masked Gram: x and y must be that pair's rows (they give Q). GPMC_OK or GPMC_ENUM. */
int gpmc_wdc_eval_batch_matrix(gpmc_wdc_eval *ev, size_t b, const double *x, const double *y,
                               double *out);

/* The diagonal x = y alone for wide inputs, where the stacked outer products (n k^2/2)
 * would not fit: dev = ||W_{+,x}^T W_{+,x} - (alpha/2) I|| from the masked rows by one
 * dsyrk (n k^2) and a k x k eigensolver, for one x at a time. n k + 2 k^2 doubles. If
 * fewer than k rows are active at x, W_{+,x}^T W_{+,x} is singular and dev >= alpha/2
 * (the rank argument of MATH.md, Conditions 3). */
typedef struct gpmc_wdc_diag gpmc_wdc_diag;

gpmc_wdc_diag *gpmc_wdc_diag_alloc(size_t n, size_t k);
void gpmc_wdc_diag_free(gpmc_wdc_diag *ev);
size_t gpmc_wdc_diag_bytes(size_t n, size_t k);
/* W n x k row-major (referenced), x in R^k nonzero; *lmin, *lmax (if not NULL) the extreme
 * eigenvalues of the deviation matrix. GPMC_OK or GPMC_ENUM. */
int gpmc_wdc_diag_eval(gpmc_wdc_diag *ev, const double *w, double alpha, const double *x,
                       double *dev, double *lmin, double *lmax);

/* Certified lower bounds for screening: bound[b] = max_d |v_d^T D_b v_d| <= ||D_b||, D_b the
 * deviation matrix of pair b < nb <= batch and v_d (d < ndir) the unit directions of its
 * group: rows (group[b] ndir + d) of dirs (ngroups ndir <= GPMC_SEARCH_SCREEN_MAX rows of k).
 * Costs the pre-activations and masks of the pairs, O(n) per direction: no masked Gram and
 * no eigensolver. GPMC_OK, GPMC_EINVAL (too many directions) or GPMC_ENUM. */
int gpmc_wdc_eval_screen(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                         const size_t *group, const double *dirs, size_t ngroups, size_t ndir,
                         double *bound);

/* The smoothed surrogate the search's annealed ascent climbs (include/gpmc/search.h,
 * gpmc_search_objective.smooth): for the nb unit pairs (rows of x, y), val[b] = |lambda|
 * with lambda the eigenvalue of largest modulus of
 *   sum_i gate(w_i.x / T) gate(w_i.y / T) w_i w_i^T - alpha Q_{x,y},
 * gate the logistic function and T = tau times the rms of w_i.x over rows and unit x (the
 * masks as T -> 0); gx, gy (nb x k) its gradients in x and y (Euclidean: the caller
 * projects them). GPMC_OK, GPMC_EINVAL (tau <= 0) or GPMC_ENUM. */
int gpmc_wdc_eval_smooth(gpmc_wdc_eval *ev, const double *x, const double *y, size_t nb,
                         double tau, double *val, double *gx, double *gy);

/* Floating-point operations of the two GEMMs per pair (2 * 2k n for the pre-activations
 * of x and y, 2 n k(k+1)/2 for the masked Gram): the count benchmarks divide by time. */
double gpmc_wdc_gemm_flops(size_t n, size_t k);

/* The shared search's objective for the WDC of one layer (wdc, and r2wdc's plain WDC per
 * layer): pairs (x, y) evaluated by `ev` (NULL: for sizing only), flips aimed by the
 * deviation matrix, annealed ascents on its smoothed surrogate; n hyperplane normals (W's
 * rows). */
gpmc_search_objective gpmc_wdc_search_objective(size_t n, size_t k, size_t batch,
                                                gpmc_wdc_eval *ev);

#endif
