/* Shared parts of the experiment interface: parameter look-up, record layouts, streams. */
#include "gpmc/experiment.h"
#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t gpmc_param_index(const gpmc_experiment *exp, const char *name)
{
    for (size_t i = 0; i < exp->nparams; i++)
        if (strcmp(exp->params[i].name, name) == 0)
            return i;
    return exp->nparams;
}

const gpmc_value *gpmc_point_value(const gpmc_point *pt, const char *name)
{
    size_t i = gpmc_param_index(pt->exp, name);
    if (i == pt->exp->nparams) {
        /* A programming error in an experiment's tables, not a user error. */
        fprintf(stderr, "gpmc: internal error: experiment '%s' has no parameter '%s'\n",
                pt->exp->name, name);
        abort();
    }
    return &pt->values[i];
}

long gpmc_point_int(const gpmc_point *pt, const char *name) { return (long)gpmc_point_value(pt, name)->num; }

double gpmc_point_real(const gpmc_point *pt, const char *name) { return gpmc_point_value(pt, name)->num; }

void gpmc_stream_substream(gpmc_stream *s, uint32_t sub)
{
    gpmc_rng_seek(s->r, s->seed, s->point_key, s->trial, sub);
}

const gpmc_experiment *gpmc_experiment_find(const char *name)
{
    for (size_t i = 0; gpmc_experiments[i]; i++)
        if (strcmp(gpmc_experiments[i]->name, name) == 0)
            return gpmc_experiments[i];
    return NULL;
}

/* One dimension token of a field shape: an integer parameter name, a literal, or "#name"
 * for the length of a list parameter (per-layer arrays of a network given as a list). */
static int shape_dim(const gpmc_experiment *exp, const gpmc_value *values, const char *tok,
                     size_t len, const char *field, size_t *out)
{
    char name[64];
    if (len == 0 || len >= sizeof name)
        return gpmc_error(GPMC_EINVAL, exp->name, "field '%s': bad shape", field);
    memcpy(name, tok, len);
    name[len] = '\0';
    char *end;
    long lit = strtol(name, &end, 10);
    if (*end == '\0') {
        *out = lit > 0 ? (size_t)lit : 0;
        return GPMC_OK;
    }
    if (name[0] == '#') {
        size_t i = gpmc_param_index(exp, name + 1);
        if (i == exp->nparams || (exp->params[i].type != GPMC_PARAM_INT_LIST &&
                                  exp->params[i].type != GPMC_PARAM_REAL_LIST))
            return gpmc_error(GPMC_EINVAL, exp->name,
                              "field '%s': shape names '%s', not the length of a list parameter",
                              field, name);
        *out = values[i].len;
        return GPMC_OK;
    }
    size_t i = gpmc_param_index(exp, name);
    if (i == exp->nparams || exp->params[i].type != GPMC_PARAM_INT)
        return gpmc_error(GPMC_EINVAL, exp->name,
                          "field '%s': shape names '%s', not an integer parameter", field, name);
    *out = values[i].num > 0 ? (size_t)values[i].num : 0;
    return GPMC_OK;
}

int gpmc_layout_init(gpmc_layout *lay, const gpmc_experiment *exp, const gpmc_value *values)
{
    size_t nf = exp->nfields;
    memset(lay, 0, sizeof *lay);
    lay->nfields = nf;
    lay->offset = calloc(nf ? nf : 1, sizeof *lay->offset);
    lay->len = calloc(nf ? nf : 1, sizeof *lay->len);
    lay->rank = calloc(nf ? nf : 1, sizeof *lay->rank);
    lay->dims = calloc(nf ? nf : 1, sizeof *lay->dims);
    if (!lay->offset || !lay->len || !lay->rank || !lay->dims) {
        gpmc_layout_free(lay);
        return gpmc_error(GPMC_ENOMEM, exp->name, "out of memory for the record layout");
    }
    size_t total = 0;
    for (size_t f = 0; f < nf; f++) {
        const gpmc_field_def *fd = &exp->fields[f];
        size_t len = 1;
        if (fd->shape) {
            int enabled = 1;
            if (fd->when) {
                size_t w = gpmc_param_index(exp, fd->when);
                enabled = w < exp->nparams && values[w].num != 0;
            }
            const char *s = fd->shape;
            while (*s) {
                const char *comma = strchr(s, ',');
                size_t tl = comma ? (size_t)(comma - s) : strlen(s);
                if (lay->rank[f] == GPMC_MAX_RANK) {
                    gpmc_layout_free(lay);
                    return gpmc_error(GPMC_EINVAL, exp->name, "field '%s': rank > %d",
                                      fd->name, GPMC_MAX_RANK);
                }
                int st = shape_dim(exp, values, s, tl, fd->name, &lay->dims[f][lay->rank[f]]);
                if (st) {
                    gpmc_layout_free(lay);
                    return st;
                }
                len *= lay->dims[f][lay->rank[f]++];
                s += tl + (comma != NULL);
            }
            if (!enabled)
                len = 0;
        }
        lay->offset[f] = total;
        lay->len[f] = len;
        total += len;
    }
    lay->total = total;
    return GPMC_OK;
}

void gpmc_layout_free(gpmc_layout *lay)
{
    free(lay->offset);
    free(lay->len);
    free(lay->rank);
    free(lay->dims);
    memset(lay, 0, sizeof *lay);
}
