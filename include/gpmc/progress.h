/* Progress of long runs on stderr: done/total, trials/s and ETA. A live line on a
 * terminal; on a log file (SLURM) a line every GPMC_PROGRESS_SECONDS (default 30 s).
 * The ETA is the work that remains, by the cost model (cost.h: per point, the seconds
 * its trials took, or its declared cost calibrated on the measured points), divided by
 * the rate at which this run has been getting work done (seconds of trials per second
 * of wall-clock, all ranks together). The mean trial rate so far would overstate the
 * rate to come on every sweep whose later points are larger. */
#ifndef GPMC_PROGRESS_H
#define GPMC_PROGRESS_H

#include "gpmc/cost.h"

#include <stddef.h>

typedef struct {
    double start, last;
    double interval;
    size_t total, done0;
    double work0;       /* seconds of the trials done before this run (resume) */
    gpmc_cost cost;
    double *est;        /* [P] scratch of the cost model */
    double eta;         /* last estimate, seconds (NaN: unknown) */
    int tty;
} gpmc_progress;

void gpmc_progress_init(gpmc_progress *pr, const gpmc_results *res, size_t total);
void gpmc_progress_free(gpmc_progress *pr);
/* Print if the interval has passed (or `force`). */
void gpmc_progress_update(gpmc_progress *pr, const gpmc_results *res, int force);
void gpmc_progress_finish(gpmc_progress *pr, const gpmc_results *res);
/* The ETA in seconds from the state of res now (NaN until a trial has finished). */
double gpmc_progress_eta(gpmc_progress *pr, const gpmc_results *res);

#endif
