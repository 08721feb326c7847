/* Rank 0's store of finished trials: every record of every point, the wall-clock of
 * each trial and the done mask. The HDF5 file is written from it (and read into it). */
#ifndef GPMC_RESULTS_H
#define GPMC_RESULTS_H

#include "gpmc/plan.h"

#include <stdint.h>

typedef struct {
    const gpmc_plan *plan;
    double **rec;      /* [P]: T records of layouts[p].total doubles, NaN until done */
    double *seconds;   /* [P * T] wall-clock of each trial, NaN until done */
    int32_t *rank;     /* [P * T] MPI rank that ran the trial, -1 until done */
    uint8_t *done;     /* [P * T] */
    size_t ndone;
} gpmc_results;

int gpmc_results_init(gpmc_results *res, const gpmc_plan *plan);
void gpmc_results_free(gpmc_results *res);
void gpmc_results_put(gpmc_results *res, size_t p, size_t t, const double *rec, double seconds,
                      int rank);
static inline double *gpmc_results_record(const gpmc_results *res, size_t p, size_t t)
{
    return res->rec[p] + t * gpmc_plan_layout(res->plan, p)->total;
}
/* Tasks of this plan's shard that are not done yet. */
size_t gpmc_results_todo(const gpmc_results *res);

#endif
