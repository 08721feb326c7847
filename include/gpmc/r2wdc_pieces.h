/* The R2WDC near value of layer 2 maximised over every pair of pieces (MATH.md,
 * Conditions 3). Code: src/numerics/r2wdc_pieces.c.
 *
 * At fixed (x, y) the near value of r2wdc_eval.h depends on x1 and x3 only through their
 * pieces of G_1, the open cells of the central arrangement of W_1's rows:
 *     pieces(x, y) = max over cells c, c' of ||B_c^T D B_c'||,
 * D = W_{2,+,r}^T W_{2,+,s} - Q_{r,s} at r = G_1(x), s = G_1(y), B_c an orthonormal basis of
 * range(Lambda_{1,c}) = range(diag(1{W_1 p_c > 0}) W_1). A search over (x, y) alone with this
 * value as its objective replaces a 12-dimensional needle hunt (x1..x4 as well) by a
 * 4-dimensional one wherever the cells can be listed: gpmc_wdc_cells gives one point per
 * cell (2 sum_{i<k} C(n_1 - 1, i) cells in general position), duplicates are dropped by
 * their masks. Every value here only steers the search: the experiment re-evaluates the
 * tuple of gpmc_r2wdc_pieces_tuple with gpmc_r2wdc_eval_tuples and reports that value.
 *
 * Cost per pair: D (the WDC evaluator of W_2), G = B D B^T by two GEMMs (R = sum of the
 * cells' ranks <= k cells: 2 R n_1 (R + n_1) flops), then the spectral norm (gpmc_norm2,
 * LAPACK) of those blocks of G whose certified upper bound (Gershgorin on K^T K) exceeds
 * the largest norm found so far and the largest certified lower bound (a diagonal entry of
 * K^T K, a row norm of K): the others cannot hold the maximum. */
#ifndef GPMC_R2WDC_PIECES_H
#define GPMC_R2WDC_PIECES_H

#include "gpmc/net.h"

#include <stddef.h>

typedef struct gpmc_r2wdc_pieces gpmc_r2wdc_pieces;

/* Largest latent dimension k: a block is at most k x k. */
#define GPMC_R2WDC_PIECES_KMAX 16

/* Cells listed for latent dimension k and layer-1 width n1: gpmc_wdc_cells_count(n1, k),
 * an upper bound on the pieces (SIZE_MAX on overflow). */
size_t gpmc_r2wdc_pieces_count(size_t k, size_t n1);

/* For a network of depth >= 2 (width[0] = k <= GPMC_R2WDC_PIECES_KMAX; referenced: sample
 * it before set, keep it alive) and batches of up to `batch` pairs; NULL if the depth is
 * below 2, k too large, the cell count above `max_cells`, or out of memory. Nothing is
 * allocated later. */
gpmc_r2wdc_pieces *gpmc_r2wdc_pieces_alloc(const gpmc_net *net, size_t max_cells,
                                           size_t batch);
void gpmc_r2wdc_pieces_free(gpmc_r2wdc_pieces *p);
/* Bytes gpmc_r2wdc_pieces_alloc takes for widths width[0..2] (more layers do not
 * matter); SIZE_MAX on overflow. */
size_t gpmc_r2wdc_pieces_bytes(const size_t *width, size_t max_cells, size_t batch);

/* Lists the cells of the current W_1 and their bases; *pieces (may be NULL) gets their
 * number. GPMC_OK, or GPMC_ENUM if LAPACK failed or no cell was found. */
int gpmc_r2wdc_pieces_set(gpmc_r2wdc_pieces *p, size_t *pieces);

/* The listed cells' points (pieces x k row-major, one inside each cell), as of the last
 * set: for tests and diagnostics. */
const double *gpmc_r2wdc_pieces_points(const gpmc_r2wdc_pieces *p);

/* val[b] = pieces(x_b, y_b) for b < nb <= batch, x and y nb x k row-major (0 where r or s
 * is zero: no Q). GPMC_OK or GPMC_ENUM (LAPACK failed or a value is not finite). */
int gpmc_r2wdc_pieces_eval(gpmc_r2wdc_pieces *p, const double *x, const double *y, size_t nb,
                           double *val);

/* The tuple (x, y, x1, x2, x3, x4), 6 x k row-major, unit rows, whose near value is
 * pieces(x, y): x1, x3 the points of the maximising cells, x2 = -x1, x4 = -x3 (any x2, x4
 * leave the near value; these keep u, v of the far value nonzero). *val (may be NULL)
 * gets pieces(x, y). GPMC_OK or GPMC_ENUM. */
int gpmc_r2wdc_pieces_tuple(gpmc_r2wdc_pieces *p, const double *x, const double *y,
                            double *tuple, double *val);

#endif
