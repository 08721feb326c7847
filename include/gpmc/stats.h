/* Statistics over trials: streaming moments, quantiles, binomial confidence intervals. */
#ifndef GPMC_STATS_H
#define GPMC_STATS_H

#include <stddef.h>

/* Welford's streaming mean and variance. */
typedef struct {
    size_t n;
    double mean, m2, min, max;
} gpmc_moments;

void gpmc_moments_init(gpmc_moments *m);
void gpmc_moments_add(gpmc_moments *m, double x);
double gpmc_moments_var(const gpmc_moments *m); /* sample variance (n-1); NaN for n < 2 */
double gpmc_moments_std(const gpmc_moments *m);

/* Quantile q in [0,1] of sorted data (linear interpolation, as GSL and numpy's default). */
double gpmc_quantile_sorted(const double *sorted, size_t n, double q);

/* Sort a[0..n) ascending in place (NaNs are the caller's business: remove them first). */
void gpmc_sort(double *a, size_t n);

/* Clopper-Pearson (exact) two-sided interval for k successes in n trials at confidence
 * `level` (0.95): lo solves P(X >= k | lo) = a/2 and hi solves P(X <= k | hi) = a/2
 * (a = 1 - level), i.e. lo = B^{-1}(a/2; k, n-k+1), hi = B^{-1}(1-a/2; k+1, n-k), found by
 * Brent's method on GSL's incomplete beta to a relative 4 DBL_EPSILON in p; exact closed
 * forms for k = 0 and k = n. n = 0 gives NaN, NaN (no trial, no interval) and GPMC_OK.
 * Returns GPMC_EINVAL for k > n or a level outside (0, 1), GPMC_ENUM if no root is found
 * (never seen: a safeguard); lo and hi are NaN then. Results are cached per (n, level). */
int gpmc_clopper_pearson(size_t k, size_t n, double level, double *lo, double *hi);

/* Free the interval cache (tests; the cache is otherwise kept for the process). */
void gpmc_stats_cache_clear(void);

#endif
