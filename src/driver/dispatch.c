#include "gpmc/dispatch.h"
#include "gpmc/error.h"
#include "gpmc/runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Unknown costs first (a task of unknown size is safest early), then largest first; ties
 * in grid order, so a grid without cost differences goes out point-major as before. */
static int by_cost(const void *a, const void *b)
{
    const gpmc_ranked_point *x = a, *y = b;
    int xu = isnan(x->key), yu = isnan(y->key);
    if (xu != yu)
        return xu ? -1 : 1;
    if (!xu && x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->p > y->p) - (x->p < y->p);
}

static void rank_points(gpmc_dispatch *d)
{
    double t0 = gpmc_now();
    d->calibrated = gpmc_cost_estimate(&d->cost, d->res, d->est, NULL) > 0;
    size_t kept = 0; /* drop the points whose every trial has gone out */
    for (size_t i = d->head; i < d->norder; i++) {
        size_t p = d->order[i].p;
        if (d->next[p] < d->start[p + 1])
            d->order[kept++] = (gpmc_ranked_point){d->est[p], p};
    }
    d->head = 0;
    d->norder = kept;
    qsort(d->order, d->norder, sizeof *d->order, by_cost);
    d->unknown = 0;
    while (d->unknown < d->norder && isnan(d->order[d->unknown].key))
        d->unknown++;
    d->sorted_at = gpmc_now();
    d->sort_seconds = d->sorted_at - t0;
    d->stale = 0;
}

int gpmc_dispatch_init(gpmc_dispatch *d, const gpmc_results *res)
{
    const gpmc_plan *plan = res->plan;
    size_t P = plan->P, T = plan->T, todo = gpmc_results_todo(res);
    memset(d, 0, sizeof *d);
    d->res = res;
    int st = gpmc_cost_init(&d->cost, plan);
    if (st)
        return st;
    d->trials = malloc((todo + 1) * sizeof *d->trials);
    d->start = malloc((P + 1) * sizeof *d->start);
    d->next = malloc((P + 1) * sizeof *d->next);
    d->order = malloc((P + 1) * sizeof *d->order);
    d->est = malloc((P + 1) * sizeof *d->est);
    if (!d->trials || !d->start || !d->next || !d->order || !d->est) {
        gpmc_dispatch_free(d);
        return gpmc_error(GPMC_ENOMEM, "scheduler", "out of memory for %zu tasks", todo);
    }
    for (size_t p = 0; p < P; p++) {
        d->start[p] = d->next[p] = d->left;
        for (size_t t = 0; t < T; t++)
            if (gpmc_plan_in_shard(plan, p, t) && !res->done[p * T + t])
                d->trials[d->left++] = t;
        if (d->left > d->start[p])
            d->order[d->norder++] = (gpmc_ranked_point){NAN, p};
    }
    d->start[P] = d->left;
    /* Probes even with a declared cost: a declared cost is a model of the trial (wdc's
     * misses the eigensolver's share at small n: the ETA was 0.35-0.65x the truth from
     * it), a probe is the trial itself; they go out first, so they cost no tail. */
    d->probe = 0;
    rank_points(d);
    return GPMC_OK;
}

void gpmc_dispatch_free(gpmc_dispatch *d)
{
    gpmc_cost_free(&d->cost);
    free(d->trials);
    free(d->start);
    free(d->next);
    free(d->order);
    free(d->est);
    memset(d, 0, sizeof *d);
}

static int point_has_measured_trial(const gpmc_dispatch *d, size_t p)
{
    const gpmc_plan *plan = d->res->plan;
    for (size_t t = 0; t < plan->T; t++)
        if (d->res->done[p * plan->T + t])
            return 1;
    return 0;
}

static void take(gpmc_dispatch *d, size_t p, size_t *pp, size_t *t)
{
    *pp = p;
    *t = d->trials[d->next[p]++];
    d->left--;
}

int gpmc_dispatch_next(gpmc_dispatch *d, size_t *p, size_t *t)
{
    if (d->left == 0)
        return 0;
    const size_t P = d->res->plan->P;
    while (d->probe < P) {
        size_t q = d->probe++;
        /* Measured on an earlier run (resume) or by a probe already back: no probe. */
        if (d->next[q] == d->start[q] && d->next[q] < d->start[q + 1] &&
            !point_has_measured_trial(d, q)) {
            take(d, q, p, t);
            return 1;
        }
    }
    if (d->stale && gpmc_now() - d->sorted_at >= 10 * d->sort_seconds)
        rank_points(d);
    /* Points of unknown cost (probes still out) take turns, a trial each: going through
     * them in grid order would send every trial of the small ones before the large ones
     * on a sweep whose cost grows along the grid, and the run would wait on its tail. */
    for (size_t tries = 0; tries < d->unknown; tries++) {
        size_t q = d->order[d->turn++ % d->unknown].p;
        if (d->next[q] < d->start[q + 1]) {
            take(d, q, p, t);
            return 1;
        }
    }
    if (d->head < d->unknown)
        d->head = d->unknown; /* every unknown point is fully sent */
    while (d->head < d->norder) {
        size_t q = d->order[d->head].p;
        if (d->next[q] < d->start[q + 1]) {
            take(d, q, p, t);
            return 1;
        }
        d->head++;
    }
    return 0; /* unreachable while left > 0 */
}
