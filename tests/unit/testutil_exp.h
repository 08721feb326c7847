/* Driving one experiment directly, as the driver does: values in table order, layout,
 * workspace, stream, a NaN-filled record, then trial(). Shared by the experiment tests so
 * that each states only its own values and checks. Include after <cmocka.h>. */
#ifndef GPMC_TESTUTIL_EXP_H
#define GPMC_TESTUTIL_EXP_H

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room for any table's values (r2wdc has the most parameters). */
#define EXP_MAXP 32

static inline size_t exp_param(const gpmc_experiment *e, const char *name)
{
    size_t i = gpmc_param_index(e, name);
    if (i >= e->nparams)
        fail_msg("no param %s", name);
    return i;
}

static inline size_t exp_field(const gpmc_experiment *e, const char *name)
{
    for (size_t f = 0; f < e->nfields; f++)
        if (strcmp(e->fields[f].name, name) == 0)
            return f;
    fail_msg("no field %s", name);
    return 0;
}

/* The table's defaults: numbers and comma-separated lists, as a spec naming none gives. */
static inline void exp_defaults(const gpmc_experiment *e, gpmc_value *v)
{
    memset(v, 0, e->nparams * sizeof *v);
    for (size_t i = 0; i < e->nparams; i++) {
        const char *s = e->params[i].def;
        if (e->params[i].type == GPMC_PARAM_INT_LIST || e->params[i].type == GPMC_PARAM_REAL_LIST) {
            while (*s) {
                char *end;
                v[i].list[v[i].len++] = strtod(s, &end);
                s = *end == ',' ? end + 1 : end;
            }
        } else {
            v[i].num = strtod(s, NULL);
        }
    }
}

/* One prepared point. pt.values points into v, so an exp_run is not copied. */
typedef struct {
    const gpmc_experiment *e;
    gpmc_value v[EXP_MAXP];
    gpmc_point pt;
    gpmc_layout lay;
    void *ws;
    gpmc_stream s;
    gpmc_record rec;
} exp_run;

/* Copies the point's values v (e->nparams of them); the point must pass check(). */
static inline void exp_open(exp_run *r, const gpmc_experiment *e, const gpmc_value *v,
                            uint64_t key)
{
    assert_true(e->nparams <= EXP_MAXP);
    r->e = e;
    memcpy(r->v, v, e->nparams * sizeof *v);
    r->pt = (gpmc_point){.exp = e, .index = 0, .values = r->v, .key = key};
    char msg[256];
    if (e->check(&r->pt, msg, sizeof msg) != 0)
        fail_msg("check: %s", msg);
    assert_int_equal(gpmc_layout_init(&r->lay, e, r->v), GPMC_OK);
    r->ws = e->workspace_alloc(&r->pt);
    assert_non_null(r->ws);
    r->s = (gpmc_stream){.r = gpmc_rng_alloc(), .seed = 1, .point_key = key, .trial = 0};
    assert_non_null(r->s.r);
    r->rec = (gpmc_record){.layout = &r->lay, .data = malloc(r->lay.total * sizeof(double))};
    assert_non_null(r->rec.data);
}

/* Trial `trial` of seed `seed`, into a record first filled with NaN (so a field the trial
 * leaves unwritten shows). */
static inline void exp_trial(exp_run *r, uint64_t seed, uint64_t trial)
{
    for (size_t i = 0; i < r->lay.total; i++)
        r->rec.data[i] = NAN;
    r->s.seed = seed;
    r->s.trial = trial;
    gpmc_rng_seek(r->s.r, seed, r->s.point_key, trial, 0);
    int st = r->e->trial(&r->pt, &r->s, r->ws, &r->rec);
    if (st != GPMC_OK)
        fail_msg("trial: %s", gpmc_error_message());
}

static inline void exp_close(exp_run *r)
{
    r->e->workspace_free(r->ws);
    gpmc_rng_free(r->s.r);
    free(r->rec.data);
    gpmc_layout_free(&r->lay);
}

/* Field `name` of the last trial: its first element, or all of it. */
static inline const double *exp_arr(const exp_run *r, const char *name)
{
    return r->rec.data + r->lay.offset[exp_field(r->e, name)];
}

static inline double exp_get(const exp_run *r, const char *name) { return exp_arr(r, name)[0]; }

#endif
