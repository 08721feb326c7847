/* Progress of long runs on stderr: done/total, trials/s and ETA. A live line on a
 * terminal; on a log file (SLURM) a line every GPMC_PROGRESS_SECONDS (default 30 s). */
#ifndef GPMC_PROGRESS_H
#define GPMC_PROGRESS_H

#include <stddef.h>

typedef struct {
    double start, last;
    double interval;
    size_t total, done0;
    int tty;
} gpmc_progress;

void gpmc_progress_init(gpmc_progress *pr, size_t done0, size_t total);
/* Print if the interval has passed (or `force`). */
void gpmc_progress_update(gpmc_progress *pr, size_t done, int force);
void gpmc_progress_finish(gpmc_progress *pr, size_t done);

#endif
