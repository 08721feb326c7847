/* The search's annealed ascents (include/gpmc/search.h, gpmc_search_plan.smooth_starts).
 *
 * Why: the objectives are constant in their masks between hyperplanes, so the climb's
 * steps and flips see a landscape of many small cells, and a run ends in whichever basin
 * its draws reach. Replacing each mask by a logistic gate of width tau (the objective's
 * smooth callback) merges neighbouring cells into one smooth landscape whose gradient
 * points across many hyperplanes at once; tau falls to 0.01 of the rows' scale, so the
 * ascent ends in one cell, where the exact objective is then evaluated. Measured on the
 * WDC at k = 10 (40 matrices, n 40 and 200, seeds 781-782, 8 ascents of 300 steps): the
 * best ascent reached a median 1.005 of what the climb finds with 30x the default budget,
 * up to 1.11; at k = 3, 5 a median 0.89, 0.90 (so the WDC uses them from k = 8 on).
 *
 * The gates bias the surrogate at large tau: for a pair at angle theta the masked Gram's
 * isotropic part (pi - theta) / (2 pi) becomes E[gate(Z1/tau) gate(Z2/tau)], 0.21 below
 * it at theta = 0 and 0.21 above at pi (tau = 1), so within ~30 steps the WDC's ascents
 * sit at theta ~ 0 or ~ pi. Those at pi come back to the wide angles of the best pairs
 * (1.5-2.2 rad) as tau falls, those at 0 stay on the diagonal x = y (k = 10, n = 200:
 * half of them ended within 0.01 rad of it), which the tied stage searches anyway; so at
 * step smooth_untie the latter are reflected to the former (search.h).
 *
 * Steps are normalised over the tuple (an angle, not a gradient length: the surrogate's
 * gradient grows as 1/tau), falling geometrically with tau: measured against Adam on the
 * same 20 matrices, the same best values; 150 steps instead of 300 lost 0.03 at the
 * median start. */
#include "search_internal.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"

#include <math.h>
#include <string.h>

#define TAU_FIRST 1.0
#define TAU_LAST 0.01
#define STEP_FIRST 0.1
#define STEP_LAST 0.002

/* Vector b of the ascents within UNTIE_ANGLE of vector a is reflected (search.h). */
#define UNTIE_ANGLE 0.1

static void untie(gpmc_search *s, size_t nb, const gpmc_search_plan *pl)
{
    size_t k = s->k, B = s->batch;
    for (size_t b = 0; b < nb; b++) {
        const double *xa = s->buf + (pl->angle_a * B + b) * k;
        double *xb = s->buf + (pl->angle_b * B + b) * k;
        if (gpmc_dot(xa, xb, k) > cos(UNTIE_ANGLE))
            for (size_t c = 0; c < k; c++)
                xb[c] = -xb[c];
    }
}

int gpmc_search_smooth_walk(gpmc_search *s, gsl_rng *r, size_t nb, const gpmc_search_plan *pl)
{
    size_t m = s->m, k = s->k, B = s->batch, steps = pl->smooth_steps;
    const double *t[GPMC_SEARCH_MAX_TUPLE];
    double *grad[GPMC_SEARCH_MAX_TUPLE];
    for (size_t j = 0; j < m; j++) {
        t[j] = s->buf + j * B * k;
        grad[j] = s->grad + j * B * k;
    }
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < m; j++)
            gpmc_search_draw_unit(s, r, s->buf + (j * B + b) * k);
    for (size_t i = 0; i < steps; i++) {
        int st = gpmc_stream_poll(s->stream);
        if (st != GPMC_OK)
            return st;
        if (i > 0 && i == pl->smooth_untie)
            untie(s, nb, pl);
        double f = steps > 1 ? (double)i / (double)(steps - 1) : 1;
        double tau = TAU_FIRST * pow(TAU_LAST / TAU_FIRST, f);
        double step = STEP_FIRST * pow(STEP_LAST / STEP_FIRST, f);
        if ((st = s->obj.smooth(s->obj.ctx, t, nb, tau, s->val, grad)) != GPMC_OK)
            return st;
        s->evaluated += nb;
        for (size_t b = 0; b < nb; b++) {
            double norm2 = 0;
            for (size_t j = 0; j < m; j++) { /* the gradient on the sphere */
                double *x = s->buf + (j * B + b) * k, *g = grad[j] + b * k;
                double gx = gpmc_dot(g, x, k);
                for (size_t c = 0; c < k; c++)
                    g[c] -= gx * x[c];
                norm2 += gpmc_dot(g, g, k);
            }
            if (!(norm2 > 0) || !isfinite(norm2))
                continue; /* flat (every gate saturated) or a failed gradient: stay */
            double sc = step / sqrt(norm2);
            for (size_t j = 0; j < m; j++) {
                double *x = s->buf + (j * B + b) * k, *g = grad[j] + b * k;
                for (size_t c = 0; c < k; c++)
                    x[c] += sc * g[c];
                gpmc_search_normalize(x, k);
            }
        }
    }
    return GPMC_OK;
}
