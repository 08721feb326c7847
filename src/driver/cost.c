#include "gpmc/cost.h"
#include "gpmc/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int gpmc_cost_init(gpmc_cost *c, const gpmc_plan *plan)
{
    c->plan = plan;
    c->declared = NULL;
    /* GPMC_COST_DECLARED=0: learn from finished trials alone (tests of the learning). */
    const char *use = getenv("GPMC_COST_DECLARED");
    if (!plan->exp->trial_cost || (use && !strcmp(use, "0")))
        return GPMC_OK;
    c->declared = malloc((plan->P + 1) * sizeof *c->declared);
    gpmc_value *v = calloc(plan->exp->nparams + 1, sizeof *v);
    if (!c->declared || !v) {
        free(v);
        gpmc_cost_free(c);
        return gpmc_error(GPMC_ENOMEM, "cost model", "out of memory");
    }
    for (size_t p = 0; p < plan->P; p++) {
        gpmc_point pt = gpmc_plan_point(plan, p, v);
        c->declared[p] = plan->exp->trial_cost(&pt);
    }
    free(v);
    return GPMC_OK;
}

void gpmc_cost_free(gpmc_cost *c)
{
    free(c->declared);
    c->declared = NULL;
}

double gpmc_cost_done_seconds(const gpmc_results *res)
{
    double s = 0;
    for (size_t i = 0; i < res->plan->P * res->plan->T; i++)
        if (res->done[i] && isfinite(res->seconds[i]))
            s += res->seconds[i];
    return s;
}

size_t gpmc_cost_estimate(const gpmc_cost *c, const gpmc_results *res, double *est,
                          double *mean_out)
{
    const gpmc_plan *plan = c->plan;
    size_t T = plan->T, measured = 0;
    double all_s = 0, all_n = 0, decl_s = 0, decl_w = 0;
    /* Pass 1: per-point means where measured; the calibrations. */
    for (size_t p = 0; p < plan->P; p++) {
        double s = 0, n = 0;
        for (size_t t = 0; t < T; t++)
            if (res->done[p * T + t] && isfinite(res->seconds[p * T + t])) {
                s += res->seconds[p * T + t];
                n++;
            }
        est[p] = n > 0 ? s / n : NAN;
        measured += n > 0;
        all_s += s;
        all_n += n;
        if (n > 0 && c->declared && c->declared[p] > 0) {
            decl_s += s;
            decl_w += n * c->declared[p];
        }
    }
    double scale = decl_w > 0 ? decl_s / decl_w : NAN;
    if (mean_out)
        *mean_out = all_n > 0 ? all_s / all_n : NAN;
    /* Pass 2: the unmeasured points with a declared cost. With nothing measured yet, the
     * declared costs in their own unit still order the points (all are in that unit). */
    for (size_t p = 0; p < plan->P; p++)
        if (isnan(est[p]) && c->declared && c->declared[p] > 0)
            est[p] = isfinite(scale) ? scale * c->declared[p] : c->declared[p];
    return measured;
}

double gpmc_cost_remaining(const gpmc_cost *c, const gpmc_results *res, double *est)
{
    const gpmc_plan *plan = c->plan;
    double mean;
    if (gpmc_cost_estimate(c, res, est, &mean) == 0)
        return NAN;
    double remaining = 0;
    for (size_t p = 0; p < plan->P; p++) {
        double e = isnan(est[p]) ? mean : est[p]; /* unknown: the mean trial so far */
        for (size_t t = 0; t < plan->T; t++)
            if (!res->done[p * plan->T + t] && gpmc_plan_in_shard(plan, p, t))
                remaining += e;
    }
    return remaining;
}
