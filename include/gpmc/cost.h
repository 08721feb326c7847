/* The cost model: how long a trial of each grid point is expected to take, learned from the
 * trials that finished (their wall-clock in res->seconds) and, where a point has none yet,
 * the experiment's declared relative cost (trial_cost) calibrated on the finished points,
 * else the mean over every finished trial. One model for the ETA and for the scheduler's
 * dispatch order (dispatch.h: largest expected trials first; without a declared cost, one
 * probe trial of every point goes out first so that every point is measured early). */
#ifndef GPMC_COST_H
#define GPMC_COST_H

#include "gpmc/results.h"

typedef struct {
    const gpmc_plan *plan;
    double *declared;  /* [P] the experiment's relative cost of a trial, or NULL if none */
} gpmc_cost;

int gpmc_cost_init(gpmc_cost *c, const gpmc_plan *plan);
void gpmc_cost_free(gpmc_cost *c);

/* Expected seconds of one trial at each point, into est[P]: its measured mean, else its
 * declared cost calibrated on the measured points (in the declared unit while none is
 * measured), else NaN (unknown). Returns how many points have a measured trial; *mean (if
 * not NULL) is the mean over every finished trial (NaN if none). */
size_t gpmc_cost_estimate(const gpmc_cost *c, const gpmc_results *res, double *est,
                          double *mean);

/* gpmc_cost_estimate (unknown points count as the mean trial), and returns the seconds of
 * all the
 * shard's tasks not done yet (one rank's worth of work), NaN if no trial has finished. */
double gpmc_cost_remaining(const gpmc_cost *c, const gpmc_results *res, double *est);

/* Sum of the wall-clock of every finished trial. */
double gpmc_cost_done_seconds(const gpmc_results *res);

#endif
