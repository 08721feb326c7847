/* The exact diagonal WDC supremum for any k, by enumerating the cells of the hyperplane
 * arrangement (MATH.md, Conditions 1). Code and derivation: src/numerics/wdc_cells.c.
 *
 * On x = y the deviation is ||sum_{i: w_i.x > 0} w_i w_i^T - (alpha/2) I_k||, constant on
 * each open cell of the central arrangement of the hyperplanes w_i.x = 0 (zero rows are
 * never active and cut nothing), so
 *     eps_diag(W) = max over the cells of ||G_cell - (alpha/2) I||.
 * In general position (probability 1 for Gaussian and truncated rows; repeated or opposite
 * rows are handled too) every cell is reached by one of the candidate points below; the REPORTED value is the batched
 * evaluator's (gpmc_wdc_eval_pairs with y = x) at the stored witness.
 *
 * Candidates, with n' the nonzero rows:
 *   n' >= k: for each set I of k-1 rows (lexicographic), the unit ray r spanning their
 *     common null space and, of the 2^k pieces of the arrangement around +-r, the one
 *     whose vertex is lowest for a fixed generic functional (its point x = +-r + t W_I^+ s,
 *     t small enough that no other row changes sign), and -x; then the same for the rows
 *     restricted to a generic hyperplane, and so on down to dimension 1 (the cells meeting
 *     it). 2 sum_{j<k} C(n', j) candidates for the 2 sum_{j<k} C(n'-1, j) cells.
 *   n' < k: the rows are independent, the cells are the 2^n' sign patterns s, each
 *     reached by x = W^+ s (n' = 0: x = e_1). 2^n' candidates.
 * Lifetime: alloc once per (n, k) (everything is allocated there), run once per W. */
#ifndef GPMC_WDC_CELLS_H
#define GPMC_WDC_CELLS_H

#include "gpmc/experiment.h"
#include "gpmc/wdc_eval.h"

#include <stddef.h>

typedef struct gpmc_wdc_cells gpmc_wdc_cells;

/* Largest k a workspace takes: the sign patterns are bits of a 64-bit word (and the
 * ~2 C(n, k-1) candidates are out of reach long before, but for n < k). */
#define GPMC_WDC_CELLS_KMAX 62

/* Number of candidates for n nonzero rows in R^k: 2 sum_{j<k} C(n, j) if n >= k, else 2^n;
 * SIZE_MAX if that overflows size_t (or k = 0). A W with zero rows takes fewer. */
size_t gpmc_wdc_cells_count(size_t n, size_t k);
/* The row sets of the top level: C(n, k-1) if n >= k, else 1 (exact; SIZE_MAX on overflow
 * or k = 0). */
size_t gpmc_wdc_cells_combinations(size_t n, size_t k);

/* A workspace for n x k weights, evaluating `batch` candidates at a time (at most the
 * batch of the evaluator later passed to run); NULL if out of memory, a size is 0 or
 * k > GPMC_WDC_CELLS_KMAX. */
gpmc_wdc_cells *gpmc_wdc_cells_alloc(size_t n, size_t k, size_t batch);
void gpmc_wdc_cells_free(gpmc_wdc_cells *c);
/* Bytes gpmc_wdc_cells_alloc(n, k, batch) takes; SIZE_MAX on overflow. */
size_t gpmc_wdc_cells_bytes(size_t n, size_t k, size_t batch);

/* The iteration run() performs, exposed for tests and diagnostics: begin with W (n x k
 * row-major; its nonzero rows are copied), then next() writes up to `max` (<= batch) unit
 * candidates as rows of x (max x k) and returns how many, 0 at the end. Deterministic: the
 * points depend on W alone. */
void gpmc_wdc_cells_begin(gpmc_wdc_cells *c, const double *w);
size_t gpmc_wdc_cells_next(gpmc_wdc_cells *c, double *x, size_t max);

/* eps_diag = the largest evaluator value over all candidates of W (n x k, row-major), and
 * x_witness (k, unit) where it was taken (the first on ties). ev must hold the same W and
 * alpha (gpmc_wdc_eval_set_w; `alpha` here is not used otherwise) and a batch >= this
 * workspace's. `poll` (may be NULL) is polled for a stop before each batch after the
 * first. GPMC_OK, GPMC_ESTOPPED, the evaluator's status, or GPMC_ENUM if every row set was
 * dependent (no candidate). */
int gpmc_wdc_cells_run(gpmc_wdc_cells *c, const double *w, double alpha, gpmc_wdc_eval *ev,
                       const gpmc_stream *poll, double *eps_diag, double *x_witness);

/* Of the last iteration: candidates produced (= gpmc_wdc_cells_count(nonzero rows, k) in
 * general position), and row sets skipped because their rows were numerically dependent
 * (0 in general position; the sets holding a repeated or opposite pair of rows, whose
 * cells are still all reached). */
size_t gpmc_wdc_cells_evaluated(const gpmc_wdc_cells *c);
size_t gpmc_wdc_cells_skipped(const gpmc_wdc_cells *c);

#endif
