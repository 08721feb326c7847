/* A plan: the grid points of a spec, their record layouts and stream keys, and which
 * (point, trial) tasks belong to this shard. */
#ifndef GPMC_PLAN_H
#define GPMC_PLAN_H

#include "gpmc/experiment.h"
#include "gpmc/spec.h"

typedef struct {
    const gpmc_spec *spec;
    const gpmc_experiment *exp;
    size_t P, T;
    gpmc_value *values;    /* [P * exp->nparams] */
    uint64_t *keys;        /* [P] stream key of each point */
    gpmc_layout *layouts;  /* [P] */
    size_t max_record;     /* largest layouts[p].total */
    unsigned shard_i, shard_n;
} gpmc_plan;

int gpmc_plan_init(gpmc_plan *plan, const gpmc_spec *spec, unsigned shard_i, unsigned shard_n);
void gpmc_plan_free(gpmc_plan *plan);

gpmc_point gpmc_plan_point(const gpmc_plan *plan, size_t p);
/* Task (p, t) belongs to shard i of N when (p * T + t) mod N == i. */
int gpmc_plan_in_shard(const gpmc_plan *plan, size_t p, size_t t);

/* Parse "i/N" (0 <= i < N, no sign, nothing after): GPMC_OK or GPMC_EINVAL. */
int gpmc_plan_parse_shard(const char *text, unsigned *i, unsigned *n);

#endif
