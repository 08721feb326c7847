/* What a run will hold in memory, estimated from the plan before any compute, against what
 * this node allows: the smallest of physical memory, the cgroup limit and SLURM's memory
 * limit (SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU x SLURM_CPUS_ON_NODE). A spec that cannot
 * fit is refused (exit 2) with the estimate, instead of failing at an allocation later. */
#ifndef GPMC_MEMORY_H
#define GPMC_MEMORY_H

#include "gpmc/plan.h"

typedef struct {
    double rank0;      /* bytes on rank 0: results, the writer's copies, a workspace, buffers */
    double worker;     /* bytes on each other rank: a workspace and its send buffers */
    double node;       /* rank 0's node: rank0 + (local ranks - 1) x worker */
    double limit;      /* the node's limit; <= 0 if unknown */
    char limit_source[64]; /* "physical memory", "cgroup memory.max", "SLURM_MEM_PER_NODE" */
} gpmc_memory_estimate;

/* Estimate for `plan` run by `local_ranks` ranks on rank 0's node. */
void gpmc_memory_estimate_plan(const gpmc_plan *plan, int local_ranks, gpmc_memory_estimate *est);
/* GPMC_OK if the estimate fits the limit, else GPMC_EINVAL with a message giving both. */
int gpmc_memory_check(const gpmc_memory_estimate *est, const char *where);

#endif
