#include "gpmc/runner.h"
#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>

double gpmc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int gpmc_runner_init(gpmc_runner *run, const gpmc_plan *plan, uint64_t seed)
{
    run->plan = plan;
    run->seed = seed;
    run->point = (size_t)-1;
    run->ws = NULL;
    run->r = gpmc_rng_alloc();
    run->stop_requested = NULL;
    run->values = calloc(plan->exp->nparams + 1, sizeof *run->values);
    return run->r && run->values ? GPMC_OK
                                 : gpmc_error(GPMC_ENOMEM, "runner", "cannot allocate the RNG");
}

void gpmc_runner_free(gpmc_runner *run)
{
    if (run->ws && run->plan->exp->workspace_free)
        run->plan->exp->workspace_free(run->ws);
    run->ws = NULL;
    if (run->r)
        gpmc_rng_free(run->r);
    run->r = NULL;
    free(run->values);
    run->values = NULL;
}

int gpmc_runner_trial(gpmc_runner *run, size_t p, size_t t, double *out, double *seconds)
{
    const gpmc_experiment *exp = run->plan->exp;
    gpmc_point pt = gpmc_plan_point(run->plan, p, run->values);
    if (run->point != p) {
        if (run->ws && exp->workspace_free)
            exp->workspace_free(run->ws);
        run->ws = NULL;
        run->point = (size_t)-1;
        if (exp->workspace_alloc) {
            run->ws = exp->workspace_alloc(&pt);
            if (!run->ws)
                return gpmc_error(GPMC_ENOMEM, exp->name,
                                  "cannot allocate the workspace of point %zu", p);
        }
        run->point = p;
    }
    const gpmc_layout *lay = gpmc_plan_layout(run->plan, p);
    for (size_t i = 0; i < lay->total; i++)
        out[i] = NAN;
    gpmc_stream s = {run->r, run->seed, pt.key, t, run->stop_requested};
    gpmc_rng_seek(run->r, run->seed, pt.key, t, 0);
    gpmc_record rec = {lay, out};
    double t0 = gpmc_now();
    int st = exp->trial(&pt, &s, run->ws, &rec);
    *seconds = gpmc_now() - t0;
    if (st == GPMC_ESTOPPED)
        return gpmc_error(st, exp->name, "point %zu trial %zu: stopped", p, t);
    if (st) {
        char where[96];
        snprintf(where, sizeof where, "%s: point %zu trial %zu", exp->name, p, t);
        return gpmc_error_wrap(st, where);
    }
    return GPMC_OK;
}
