#include "gpmc/summary.h"
#include "gpmc/stats.h"
#include "gpmc/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double field_value(const gpmc_results *res, size_t p, size_t t, size_t f)
{
    return gpmc_results_record(res, p, t)[gpmc_plan_layout(res->plan, p)->offset[f]];
}

void gpmc_summary_field(const gpmc_results *res, size_t p, size_t f, double *scratch,
                        gpmc_field_stats *out)
{
    const gpmc_plan *plan = res->plan;
    gpmc_moments m;
    gpmc_moments_init(&m);
    size_t n = 0;
    for (size_t t = 0; t < plan->T; t++) {
        double v = field_value(res, p, t, f);
        if (!res->done[p * plan->T + t] || isnan(v))
            continue;
        scratch[n++] = v;
        gpmc_moments_add(&m, v);
    }
    out->n = n;
    if (n == 0) {
        out->mean = out->std = out->min = out->q05 = out->q50 = out->q95 = out->max = NAN;
        return;
    }
    gpmc_sort(scratch, n);
    out->mean = m.mean;
    out->std = gpmc_moments_std(&m);
    out->min = scratch[0];
    out->max = scratch[n - 1];
    out->q05 = gpmc_quantile_sorted(scratch, n, 0.05);
    out->q50 = gpmc_quantile_sorted(scratch, n, 0.50);
    out->q95 = gpmc_quantile_sorted(scratch, n, 0.95);
}

/* k = trials with a value where (value <= thr) == below, n = trials with a value. */
static void count(const gpmc_results *res, size_t p, size_t f, double thr, int below,
                  size_t *k, size_t *n)
{
    *k = *n = 0;
    for (size_t t = 0; t < res->plan->T; t++) {
        double v = field_value(res, p, t, f);
        if (!res->done[p * res->plan->T + t] || isnan(v))
            continue;
        (*n)++;
        *k += (v <= thr) == below;
    }
}

void gpmc_summary_count_le(const gpmc_results *res, size_t p, size_t f, double thr,
                           size_t *k, size_t *n)
{
    count(res, p, f, thr, 1, k, n);
}

void gpmc_summary_count_success(const gpmc_results *res, size_t p, size_t f, size_t *k,
                                size_t *n)
{
    count(res, p, f, 0.5, 0, k, n);
}

int gpmc_summary_is_success(const gpmc_experiment *exp, size_t f)
{
    return (exp->fields[f].flags & GPMC_FIELD_SUCCESS) && !exp->fields[f].shape;
}

/* GPMC_FAULT=summary makes every interval fail as a non-converging library call would:
 * the test of "a summary can never cost the trials". */
static int fault_injected(void)
{
    static int cached = -1; /* read once: the summary asks for P x E intervals */
    if (cached < 0) {
        const char *f = getenv("GPMC_FAULT");
        cached = f && strstr(f, "summary") != NULL;
    }
    return cached;
}

int gpmc_summary_interval(size_t k, size_t n, double *lo, double *hi)
{
    if (fault_injected() && n > 0) {
        *lo = *hi = NAN;
        return gpmc_error(GPMC_ENUM, "clopper-pearson", "injected failure (GPMC_FAULT=summary)");
    }
    return gpmc_clopper_pearson(k, n, GPMC_CI_LEVEL, lo, hi);
}
