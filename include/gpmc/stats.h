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
 * `level` (0.95): lo = B^{-1}(a/2; k, n-k+1), hi = B^{-1}(1-a/2; k+1, n-k), with lo = 0
 * when k = 0 and hi = 1 when k = n. n = 0 gives [0, 1]. */
void gpmc_clopper_pearson(size_t k, size_t n, double level, double *lo, double *hi);

#endif
