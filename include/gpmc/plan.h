/* A plan: the grid points of a spec, their record layouts and stream keys, and which
 * (point, trial) tasks belong to this shard. */
#ifndef GPMC_PLAN_H
#define GPMC_PLAN_H

#include "gpmc/experiment.h"
#include "gpmc/spec.h"

/* Memory is O(points) with a small constant (12 bytes a point: a key and a layout index),
 * not O(points x parameters): a point's parameter values are recomputed from the spec's
 * axes when needed, and points whose records have the same shape share one layout. */
typedef struct {
    const gpmc_spec *spec;
    const gpmc_experiment *exp;
    size_t P, T;
    uint64_t *keys;        /* [P] stream key of each point */
    uint32_t *layout_of;   /* [P] index into layouts */
    gpmc_layout *layouts;  /* [nlayouts] the distinct record layouts */
    size_t nlayouts;
    size_t max_record;     /* largest layout total */
    unsigned shard_i, shard_n;
} gpmc_plan;

int gpmc_plan_init(gpmc_plan *plan, const gpmc_spec *spec, unsigned shard_i, unsigned shard_n);
void gpmc_plan_free(gpmc_plan *plan);

static inline const gpmc_layout *gpmc_plan_layout(const gpmc_plan *plan, size_t p)
{
    return &plan->layouts[plan->layout_of[p]];
}

/* Point p with its parameter values written into vals (exp->nparams entries), which the
 * point refers to: keep vals alive as long as the point. */
gpmc_point gpmc_plan_point(const gpmc_plan *plan, size_t p, gpmc_value *vals);

/* Bytes the plan holds (for the memory estimate). */
size_t gpmc_plan_bytes(const gpmc_plan *plan);
/* Task (p, t) belongs to shard i of N when (p * T + t) mod N == i. */
int gpmc_plan_in_shard(const gpmc_plan *plan, size_t p, size_t t);

/* Parse "i/N" (0 <= i < N, no sign, nothing after): GPMC_OK or GPMC_EINVAL. */
int gpmc_plan_parse_shard(const char *text, unsigned *i, unsigned *n);

#endif
