/* A diagnostic for the scheduler, not a condition: each trial sleeps for a drawn time, so
 * dozens of ranks can run on two cores and the dispatch order, rank 0's service and the
 * parallel efficiency can be measured (tests/mpi/test_sched_efficiency.sh). It declares no
 * cost, so the scheduler must learn its costs from finished trials, as for a solver whose
 * iteration count is unknown until it ends. */
#include "gpmc/experiment.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <time.h>

enum { P_SECONDS, P_SPREAD, NPARAMS };

static const gpmc_param_def params[] = {
    {"seconds", GPMC_PARAM_REAL, "0.01", 0, 1e6, NULL, GPMC_PARAM_COSTLY,
     "median sleep of a trial, in seconds"},
    {"spread", GPMC_PARAM_REAL, "0", 0, 10, NULL, GPMC_PARAM_COSTLY,
     "log-standard deviation of the lognormal factor (median 1) on `seconds`: 0 is a fixed "
     "duration, 1.5 a heavy tail like solver trials that hit max_iter"},
};

enum { F_SLEPT, NFIELDS };

static const gpmc_field_def fields[] = {
    {"slept", NULL, NULL, NULL, 0, "s",
     "the drawn duration, seconds x lognormal(0, spread) from the trial's stream "
     "(reproducible; what the trial really took is /timing/seconds)"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

/* Sleep in slices, polling between them: a stop ends the trial at once, and on rank 0
 * the poll serves the other ranks (sched.c), as a long computation's batches do. */
#define SLICE 0.005

static int synthetic_trial(const gpmc_point *pt, gpmc_stream *s, void *ws, gpmc_record *rec)
{
    (void)ws;
    double spread = gpmc_point_real_at(pt, P_SPREAD);
    double dur = gpmc_point_real_at(pt, P_SECONDS) * gsl_ran_lognormal(s->r, 0.0, spread);
    gpmc_record_set(rec, F_SLEPT, dur);
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double whole = floor(dur);
    end.tv_sec = now.tv_sec + (time_t)fmin(whole, 1e9);
    end.tv_nsec = now.tv_nsec + (long)((dur - whole) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        int st = gpmc_stream_poll(s);
        if (st)
            return st;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = (double)(end.tv_sec - now.tv_sec) + 1e-9 * (double)(end.tv_nsec - now.tv_nsec);
        if (left <= 0)
            return GPMC_OK;
        double nap = fmin(left, SLICE);
        struct timespec ts = {0, (long)(nap * 1e9)};
        nanosleep(&ts, NULL);
    }
}

const gpmc_experiment gpmc_exp_synthetic = {
    .name = "synthetic",
    .summary = "scheduler diagnostic: every trial sleeps seconds x lognormal(0, spread) "
               "(no CPU), so many ranks fit on a few cores; no declared cost",
    .diagnostic = 1,
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .trial = synthetic_trial,
};
