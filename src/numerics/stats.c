/* Statistics over trials (stats.h). */
#include "gpmc/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

void gpmc_moments_init(gpmc_moments *m)
{
    m->n = 0;
    m->mean = 0;
    m->m2 = 0;
    m->min = INFINITY;
    m->max = -INFINITY;
}

/* Welford's update: accumulating squared deviations from the running mean, rather than
 * raw squares, keeps the variance accurate when the mean is large against the spread
 * (sum x^2 - n mean^2 would cancel away every digit). */
void gpmc_moments_add(gpmc_moments *m, double x)
{
    m->n++;
    double delta = x - m->mean;
    m->mean += delta / (double)m->n;
    m->m2 += delta * (x - m->mean);
    if (x < m->min)
        m->min = x;
    if (x > m->max)
        m->max = x;
}

double gpmc_moments_var(const gpmc_moments *m)
{
    return m->n < 2 ? NAN : m->m2 / (double)(m->n - 1);
}

double gpmc_moments_std(const gpmc_moments *m) { return sqrt(gpmc_moments_var(m)); }

double gpmc_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0 || isnan(q))
        return NAN;
    /* GSL indexes with q (n - 1) unchecked, so q outside [0, 1] would read out of bounds. */
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    return gsl_stats_quantile_from_sorted_data(sorted, 1, n, q);
}

void gpmc_sort(double *a, size_t n)
{
    if (n > 1)
        gsl_sort(a, 1, n);
}

/* The upper limit uses Qinv(a/2) instead of Pinv(1 - a/2): same quantity, without the
 * rounding of 1 - a/2. */
void gpmc_clopper_pearson(size_t k, size_t n, double level, double *lo, double *hi)
{
    double a = 1 - level;
    *lo = 0;
    *hi = 1;
    if (n == 0 || k > n)
        return;
    if (k > 0)
        *lo = gsl_cdf_beta_Pinv(a / 2, (double)k, (double)(n - k + 1));
    if (k < n)
        *hi = gsl_cdf_beta_Qinv(a / 2, (double)(k + 1), (double)(n - k));
}
