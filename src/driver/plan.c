#include "gpmc/plan.h"
#include "gpmc/error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same_layout(const gpmc_layout *a, const gpmc_layout *b)
{
    if (a->total != b->total || a->nfields != b->nfields)
        return 0;
    for (size_t f = 0; f < a->nfields; f++)
        if (a->len[f] != b->len[f] || a->rank[f] != b->rank[f] || a->offset[f] != b->offset[f] ||
            (a->len[f] && memcmp(a->dims[f], b->dims[f], sizeof a->dims[f]) != 0))
            return 0; /* a disabled field (len 0) has no shape to compare */
    return 1;
}

/* The layouts seen last are checked first: in a Cartesian grid equal shapes come in runs
 * (the slow axes) or in short cycles (a fast axis), so a few recent ones catch them. */
enum { RECENT = 16 };

int gpmc_plan_init(gpmc_plan *plan, const gpmc_spec *spec, unsigned shard_i, unsigned shard_n)
{
    memset(plan, 0, sizeof *plan);
    plan->spec = spec;
    plan->exp = spec->exp;
    plan->P = gpmc_spec_npoints(spec);
    plan->T = (size_t)spec->trials;
    plan->shard_i = shard_i;
    plan->shard_n = shard_n ? shard_n : 1;
    size_t np = plan->exp->nparams, cap = 4;
    gpmc_value *v = calloc(np + 1, sizeof *v);
    plan->keys = calloc(plan->P + 1, sizeof *plan->keys);
    plan->layout_of = calloc(plan->P + 1, sizeof *plan->layout_of);
    plan->layouts = calloc(cap, sizeof *plan->layouts);
    if (!v || !plan->keys || !plan->layout_of || !plan->layouts) {
        free(v);
        gpmc_plan_free(plan);
        return gpmc_error(GPMC_ENOMEM, "plan", "out of memory for %zu points", plan->P);
    }
    for (size_t p = 0; p < plan->P; p++) {
        gpmc_spec_point_values(spec, p, v);
        plan->keys[p] = gpmc_spec_point_key(plan->exp, v);
        gpmc_layout lay;
        int st = gpmc_layout_init(&lay, plan->exp, v);
        if (st) {
            free(v);
            gpmc_plan_free(plan);
            return st;
        }
        size_t found = plan->nlayouts;
        for (size_t j = plan->nlayouts; j > 0 && plan->nlayouts - j < RECENT; j--)
            if (same_layout(&plan->layouts[j - 1], &lay)) {
                found = j - 1;
                break;
            }
        if (found < plan->nlayouts) {
            gpmc_layout_free(&lay);
        } else {
            if (plan->nlayouts == cap || plan->nlayouts >= UINT32_MAX) {
                gpmc_layout *nl = plan->nlayouts < UINT32_MAX
                                      ? realloc(plan->layouts, 2 * cap * sizeof *nl) : NULL;
                if (!nl) {
                    gpmc_layout_free(&lay);
                    free(v);
                    gpmc_plan_free(plan);
                    return gpmc_error(GPMC_ENOMEM, "plan", "out of memory for %zu points", plan->P);
                }
                plan->layouts = nl;
                cap *= 2;
            }
            plan->layouts[plan->nlayouts++] = lay;
            if (lay.total > plan->max_record)
                plan->max_record = lay.total;
        }
        plan->layout_of[p] = (uint32_t)found;
    }
    free(v);
    return GPMC_OK;
}

void gpmc_plan_free(gpmc_plan *plan)
{
    if (plan->layouts)
        for (size_t i = 0; i < plan->nlayouts; i++)
            gpmc_layout_free(&plan->layouts[i]);
    free(plan->layouts);
    free(plan->layout_of);
    free(plan->keys);
    memset(plan, 0, sizeof *plan);
}

gpmc_point gpmc_plan_point(const gpmc_plan *plan, size_t p, gpmc_value *vals)
{
    gpmc_spec_point_values(plan->spec, p, vals);
    gpmc_point pt = {plan->exp, p, vals, plan->keys[p]};
    return pt;
}

size_t gpmc_plan_bytes(const gpmc_plan *plan)
{
    size_t nf = plan->exp->nfields;
    size_t per_layout = sizeof(gpmc_layout) + nf * (2 * sizeof(size_t) + sizeof(int) +
                                                    GPMC_MAX_RANK * sizeof(size_t));
    return plan->P * (sizeof *plan->keys + sizeof *plan->layout_of) + plan->nlayouts * per_layout;
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
