/* Runs single trials on one rank: keeps the workspace of the current point (created once,
 * reused by every trial of that point, as FFTW reuses a plan) and one random stream. */
#ifndef GPMC_RUNNER_H
#define GPMC_RUNNER_H

#include "gpmc/plan.h"

typedef struct {
    const gpmc_plan *plan;
    uint64_t seed;
    size_t point;      /* point of the current workspace, or (size_t)-1 */
    void *ws;
    gsl_rng *r;
    gpmc_value *values; /* [nparams] the current point's parameter values */
    int (*stop_requested)(void); /* passed to trials (gpmc_stream); NULL: never */
} gpmc_runner;

int gpmc_runner_init(gpmc_runner *run, const gpmc_plan *plan, uint64_t seed);
void gpmc_runner_free(gpmc_runner *run);
/* Fill out (layouts[p].total doubles) with trial t of point p; *seconds = its wall-clock.
 * GPMC_ESTOPPED: the trial ended early on a stop request (out is not a result). */
int gpmc_runner_trial(gpmc_runner *run, size_t p, size_t t, double *out, double *seconds);

double gpmc_now(void); /* monotonic seconds */

#endif
