#include "gpmc/plan.h"
#include "gpmc/error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int gpmc_plan_init(gpmc_plan *plan, const gpmc_spec *spec, unsigned shard_i, unsigned shard_n)
{
    memset(plan, 0, sizeof *plan);
    plan->spec = spec;
    plan->exp = spec->exp;
    plan->P = gpmc_spec_npoints(spec);
    plan->T = (size_t)spec->trials;
    plan->shard_i = shard_i;
    plan->shard_n = shard_n ? shard_n : 1;
    size_t np = plan->exp->nparams;
    plan->values = calloc(plan->P * np + 1, sizeof *plan->values);
    plan->keys = calloc(plan->P + 1, sizeof *plan->keys);
    plan->layouts = calloc(plan->P + 1, sizeof *plan->layouts);
    if (!plan->values || !plan->keys || !plan->layouts) {
        gpmc_plan_free(plan);
        return gpmc_error(GPMC_ENOMEM, "plan", "out of memory for %zu points", plan->P);
    }
    for (size_t p = 0; p < plan->P; p++) {
        gpmc_value *v = plan->values + p * np;
        gpmc_spec_point_values(spec, p, v);
        plan->keys[p] = gpmc_spec_point_key(plan->exp, v);
        int st = gpmc_layout_init(&plan->layouts[p], plan->exp, v);
        if (st) {
            gpmc_plan_free(plan);
            return st;
        }
        if (plan->layouts[p].total > plan->max_record)
            plan->max_record = plan->layouts[p].total;
    }
    return GPMC_OK;
}

void gpmc_plan_free(gpmc_plan *plan)
{
    if (plan->layouts)
        for (size_t p = 0; p < plan->P; p++)
            gpmc_layout_free(&plan->layouts[p]);
    free(plan->layouts);
    free(plan->values);
    free(plan->keys);
    memset(plan, 0, sizeof *plan);
}

gpmc_point gpmc_plan_point(const gpmc_plan *plan, size_t p)
{
    gpmc_point pt = {plan->exp, p, plan->values + p * plan->exp->nparams, plan->keys[p]};
    return pt;
}

int gpmc_plan_in_shard(const gpmc_plan *plan, size_t p, size_t t)
{
    return (p * plan->T + t) % plan->shard_n == plan->shard_i;
}

/* One parser for --shard and a file's `shard` attribute: "i/N", decimal, 0 <= i < N,
 * N <= UINT_MAX; signs, spaces and trailing text are refused (sscanf's %u would wrap
 * "1/-3" to 1/4294967293 and read "0/0" as a shard). */
int gpmc_plan_parse_shard(const char *text, unsigned *i, unsigned *n)
{
    const char *c = text ? text : "";
    unsigned long v[2];
    for (int part = 0; part < 2; part++) {
        if (*c < '0' || *c > '9')
            return gpmc_error(GPMC_EINVAL, "shard", "'%s' is not i/N with 0 <= i < N", text ? text : "");
        char *end;
        errno = 0;
        v[part] = strtoul(c, &end, 10);
        if (errno || v[part] > UINT_MAX || *end != (part ? '\0' : '/'))
            return gpmc_error(GPMC_EINVAL, "shard", "'%s' is not i/N with 0 <= i < N", text);
        c = end + 1;
    }
    if (v[1] == 0 || v[0] >= v[1])
        return gpmc_error(GPMC_EINVAL, "shard", "'%s' is not i/N with 0 <= i < N", text);
    *i = (unsigned)v[0];
    *n = (unsigned)v[1];
    return GPMC_OK;
}
