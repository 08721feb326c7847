/* The convolutional (block) WDC evaluator (MATH.md, Conditions 5; Ma-Ayaz-Karaman Lemma
 * Sup.2): a 1-D transposed convolution c0 -> c1 channels, d0 input positions, stride s,
 * kernel q, filters K[c][c'][u] (c < c1, c' < c0, u < q), is the real matrix W of
 * N = c1 L rows and k = c0 d0 columns, L = s(d0 - 1) + q, channel-major on both sides:
 *
 *     W[c L + t][c' d0 + j] = K[c][c'][t - s j]   if 0 <= t - s j < q, else 0,
 *
 * so (W x)[c][t] = sum_{c', j} K[c][c'][t - s j] x[c'][j]. Row (c, t) has support
 * S_t = {(c', j): j in J_t}, J_t = {j : 0 <= t - s j < q}, the same for every c. With
 * i.i.d. N(0, sigma^2) filter entries the expectation is exact by linearity (the shared
 * weights do not matter for a sum of per-row expectations):
 *
 *     E[W_{+,x}^T W_{+,y}] = sum_t c1 sigma^2 P_{S_t}^T Q(x_{S_t}, y_{S_t}) P_{S_t},
 *
 * Q the unit-variance-row Q of include/gpmc/theory.h; a window with x_S = 0 or y_S = 0
 * contributes 0 (the row is never active: 1{0 > 0} = 0). dev = ||W_{+,x}^T W_{+,y} - E||.
 * q = s: every J_t is one position, W is blockdiag(W~, ..., W~) after the permutation
 * (c, t = s j + u) -> (j, c, u), (c', j) -> (j, c'), W~[c s + u][c'] = K[c][c'][u], E is
 * blockdiag(Q_{x_j, y_j}) and dev = max_j of W~'s WDC deviation at (x_j, y_j) (Sup.8).
 *
 * Batched like gpmc_wdc_eval: Z = [X; Y] W^T one GEMM, the masks, then masks times the
 * stacked packed outer products restricted to each row's window, one GEMM per distinct window;
 * E per pair from the windows.
 * Code: src/numerics/cwdc_eval.c. */
#ifndef GPMC_CWDC_EVAL_H
#define GPMC_CWDC_EVAL_H

#include "gpmc/search.h"

#include <stddef.h>

typedef struct {
    size_t c0, c1, d0, s, q;
} gpmc_cwdc_shape;

/* Output length L = s (d0 - 1) + q; rows N = c1 L; columns k = c0 d0; SIZE_MAX on overflow. */
size_t gpmc_cwdc_len(const gpmc_cwdc_shape *sh);
size_t gpmc_cwdc_rows(const gpmc_cwdc_shape *sh);
size_t gpmc_cwdc_cols(const gpmc_cwdc_shape *sh);

/* W (N x k row-major, the layout above) from the filters (c1 x c0 x q, index
 * (c c0 + c') q + u). Every entry is written. */
void gpmc_cwdc_build(const gpmc_cwdc_shape *sh, const double *filters, double *w);

/* W~ (c1 s x c0, row c s + u) of the q = s case from the filters. */
void gpmc_cwdc_block(const gpmc_cwdc_shape *sh, const double *filters, double *wt);

typedef struct gpmc_cwdc_eval gpmc_cwdc_eval;

/* NULL on a zero size, overflow or out of memory. Everything is allocated here. */
gpmc_cwdc_eval *gpmc_cwdc_eval_alloc(const gpmc_cwdc_shape *sh, size_t batch);
void gpmc_cwdc_eval_free(gpmc_cwdc_eval *ev);
size_t gpmc_cwdc_eval_bytes(const gpmc_cwdc_shape *sh, size_t batch);

/* Use W (referenced: keep it alive) whose filter entries have variance sigma2. */
void gpmc_cwdc_eval_set_w(gpmc_cwdc_eval *ev, const double *w, double sigma2);

/* E[W_{+,x}^T W_{+,y}] (k x k, both triangles) at one pair, no W needed (sigma2 set). */
void gpmc_cwdc_expectation(gpmc_cwdc_eval *ev, const double *x, const double *y, double *out);

/* dev[b] for b < nb <= batch, x and y nb x k row-major (a zero window is fine, the whole
 * x or y zero gives dev = ||W_{+,x}^T W_{+,y}|| = 0). GPMC_OK or GPMC_ENUM (non-finite). */
int gpmc_cwdc_eval_pairs(gpmc_cwdc_eval *ev, const double *x, const double *y, size_t nb,
                         double *dev);

/* The deviation matrix of one pair (k x k, both triangles); b = GPMC_SEARCH_FRESH
 * recomputes it, else pair b of the last batch (x, y its rows). GPMC_OK or GPMC_ENUM. */
int gpmc_cwdc_eval_matrix(gpmc_cwdc_eval *ev, size_t b, const double *x, const double *y,
                          double *out);

/* Flops of the GEMMs per pair (2 * 2 N k + 2 N kw(kw+1)/2, kw = c0 ceil(q/s), an upper
 * count): benchmarks divide by time. */
double gpmc_cwdc_gemm_flops(const gpmc_cwdc_shape *sh);

/* The shared search's objective: pairs (x, y) in R^k, both gated, aimed by the deviation
 * matrix; N normals (W's rows). ev NULL: for sizing only. */
gpmc_search_objective gpmc_cwdc_search_objective(const gpmc_cwdc_shape *sh, size_t batch,
                                                 gpmc_cwdc_eval *ev);

#endif
