/* Per-point statistics recomputed from the stored trials (so run, resume and merge
 * agree): moments and quantiles of every scalar field, success rates and threshold
 * probabilities with Clopper-Pearson 95% intervals. */
#ifndef GPMC_SUMMARY_H
#define GPMC_SUMMARY_H

#include "gpmc/results.h"

#define GPMC_CI_LEVEL 0.95

typedef struct {
    double mean, std, min, q05, q50, q95, max;
    size_t n;
} gpmc_field_stats;

/* Statistics of scalar field f at point p over done trials with a non-NaN value.
 * `scratch` holds T doubles. */
void gpmc_summary_field(const gpmc_results *res, size_t p, size_t f, double *scratch,
                        gpmc_field_stats *out);
/* Number of done trials at p where field f <= thr (k) out of those with a value (n). */
void gpmc_summary_count_le(const gpmc_results *res, size_t p, size_t f, double thr,
                           size_t *k, size_t *n);
/* Number of done trials at p whose 0/1 field f is 1 (k) out of those with a value (n). */
void gpmc_summary_count_success(const gpmc_results *res, size_t p, size_t f, size_t *k,
                                size_t *n);
/* Is field f a scalar 0/1 success-like field (GPMC_FIELD_SUCCESS)? /summary/<name> then
 * holds its rate and Clopper-Pearson interval; an experiment may have several. */
int gpmc_summary_is_success(const gpmc_experiment *exp, size_t f);

/* Clopper-Pearson 95% interval of k of n: NaN, NaN for n = 0 (GPMC_OK); on a failure
 * NaN, NaN and a status after gpmc_error(). The one place summaries get intervals from. */
int gpmc_summary_interval(size_t k, size_t n, double *lo, double *hi);

#endif
