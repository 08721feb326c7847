/* The order in which rank 0 hands out tasks: largest expected trial first (cost.h), so a
 * sweep whose cost grows along its grid does not end waiting on its biggest tasks. The
 * trials of a point go out together (a rank's workspace is reused). One probe trial of
 * every unmeasured point goes out first, so that every point's own cost is learned early
 * (a declared cost orders the points until then); without a declared cost, until a point's
 * first trial is back its trials go out in turns with the other unknown points. On resume
 * the finished trials are the measurements. Only the order changes: a trial's result
 * depends on its stream alone. */
#ifndef GPMC_DISPATCH_H
#define GPMC_DISPATCH_H

#include "gpmc/cost.h"

#include <math.h>

typedef struct {
    double key;  /* expected seconds of one trial (NaN: unknown, goes first) */
    size_t p;
} gpmc_ranked_point;

typedef struct {
    const gpmc_results *res;
    gpmc_cost cost;
    size_t *trials;             /* the undone trials of the shard, grouped by point */
    size_t *start, *next;       /* [P + 1], [P]: a point's trials, and the next to send */
    gpmc_ranked_point *order;   /* points not yet fully sent: unknown cost, then largest */
    size_t norder, head;
    size_t unknown, turn;       /* order[0, unknown): unknown cost, sent in turns */
    size_t probe;               /* probes: next point to consider (P: probing is over) */
    size_t left;                /* tasks not yet sent */
    double *est;                /* [P] scratch of the cost model */
    int stale;                  /* results arrived since the order was last computed */
    int calibrated;             /* est is in seconds (something has been measured) */
    double sorted_at, sort_seconds;
} gpmc_dispatch;

/* Tasks of res's shard that are not done; res must outlive d (its results are read to
 * learn costs). GPMC_OK or GPMC_ENOMEM. */
int gpmc_dispatch_init(gpmc_dispatch *d, const gpmc_results *res);
void gpmc_dispatch_free(gpmc_dispatch *d);
/* The next task; 0 when every task has been sent. */
int gpmc_dispatch_next(gpmc_dispatch *d, size_t *p, size_t *t);
/* Expected seconds of a trial of p by the order's current model; NaN while unknown (or
 * known only in the declared cost's own unit, before anything was measured). */
static inline double gpmc_dispatch_seconds(const gpmc_dispatch *d, size_t p)
{
    return d->calibrated ? d->est[p] : (double)NAN;
}
/* A result arrived: the order is recomputed before a later task is chosen, at most as
 * often as keeps the recomputation under ~10% of rank 0's time. */
static inline void gpmc_dispatch_learned(gpmc_dispatch *d) { d->stale = 1; }

#endif
