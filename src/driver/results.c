#include "gpmc/results.h"
#include "gpmc/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int gpmc_results_init(gpmc_results *res, const gpmc_plan *plan)
{
    memset(res, 0, sizeof *res);
    res->plan = plan;
    size_t P = plan->P, T = plan->T;
    res->rec = calloc(P + 1, sizeof *res->rec);
    res->seconds = malloc((P * T + 1) * sizeof *res->seconds);
    res->done = calloc(P * T + 1, 1);
    res->rank = malloc((P * T + 1) * sizeof *res->rank);
    if (!res->rec || !res->seconds || !res->done || !res->rank)
        goto oom;
    for (size_t p = 0; p < P; p++) {
        size_t n = T * gpmc_plan_layout(plan, p)->total;
        res->rec[p] = malloc((n + 1) * sizeof(double));
        if (!res->rec[p])
            goto oom;
        for (size_t i = 0; i < n; i++)
            res->rec[p][i] = NAN;
    }
    for (size_t i = 0; i < P * T; i++) {
        res->seconds[i] = NAN;
        res->rank[i] = -1;
    }
    return GPMC_OK;
oom:
    gpmc_results_free(res);
    return gpmc_error(GPMC_ENOMEM, "results", "out of memory for %zu x %zu records", P, T);
}

void gpmc_results_free(gpmc_results *res)
{
    if (res->rec && res->plan)
        for (size_t p = 0; p < res->plan->P; p++)
            free(res->rec[p]);
    free(res->rec);
    free(res->seconds);
    free(res->done);
    free(res->rank);
    memset(res, 0, sizeof *res);
}

void gpmc_results_put(gpmc_results *res, size_t p, size_t t, const double *rec, double seconds,
                      int rank)
{
    const gpmc_plan *plan = res->plan;
    memcpy(gpmc_results_record(res, p, t), rec, gpmc_plan_layout(plan, p)->total * sizeof(double));
    res->seconds[p * plan->T + t] = seconds;
    res->rank[p * plan->T + t] = rank;
    if (!res->done[p * plan->T + t]) {
        res->done[p * plan->T + t] = 1;
        res->ndone++;
    }
}

size_t gpmc_results_todo(const gpmc_results *res)
{
    const gpmc_plan *plan = res->plan;
    size_t todo = 0;
    for (size_t p = 0; p < plan->P; p++)
        for (size_t t = 0; t < plan->T; t++)
            todo += gpmc_plan_in_shard(plan, p, t) && !res->done[p * plan->T + t];
    return todo;
}
