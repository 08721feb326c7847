/* Statistics over trials (stats.h). */
#include "gpmc/stats.h"
#include "gpmc/error.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void gpmc_moments_init(gpmc_moments *m)
{
    m->n = 0;
    m->mean = 0;
    m->m2 = 0;
    m->min = INFINITY;
    m->max = -INFINITY;
}

/* Welford's update: accumulating squared deviations from the running mean, rather than
 * raw squares, keeps the variance accurate when the mean is large against the spread
 * (sum x^2 - n mean^2 would cancel away every digit). */
void gpmc_moments_add(gpmc_moments *m, double x)
{
    m->n++;
    double delta = x - m->mean;
    m->mean += delta / (double)m->n;
    m->m2 += delta * (x - m->mean);
    if (x < m->min)
        m->min = x;
    if (x > m->max)
        m->max = x;
}

double gpmc_moments_var(const gpmc_moments *m)
{
    return m->n < 2 ? NAN : m->m2 / (double)(m->n - 1);
}

double gpmc_moments_std(const gpmc_moments *m) { return sqrt(gpmc_moments_var(m)); }

double gpmc_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0 || isnan(q))
        return NAN;
    /* GSL indexes with q (n - 1) unchecked, so q outside [0, 1] would read out of bounds. */
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    double v = gsl_stats_quantile_from_sorted_data(sorted, 1, n, q);
    /* GSL interpolates as (1 - d) x_i + d x_{i+1}, which can round outside [x_i, x_{i+1}]
     * (q05 of three equal values came out 1 ulp above the max): clamp to the bracket. */
    size_t i = (size_t)floor(q * (double)(n - 1));
    double lo = sorted[i < n ? i : n - 1], hi = sorted[i + 1 < n ? i + 1 : n - 1];
    return v < lo ? lo : v > hi ? hi : v;
}

void gpmc_sort(double *a, size_t n)
{
    if (n > 1)
        gsl_sort(a, 1, n);
}

/* ---- Clopper-Pearson ---- */

/* P(X >= k | p) = I_p(k, n-k+1) (lower limit) or P(X <= k | p) = 1 - I_p(k+1, n-k) (upper
 * limit), minus the target a/2. Both are monotone in p and GSL's incomplete beta converges
 * for every (k, n) where its inverse may not (GSL 2.7's betainv fails for e.g. k = 16,
 * n = 500), so the limits are found by bracketing on [0, 1] with Brent's method. */
typedef struct {
    double a, b, target;
    int upper;
} tail_eq;

static double tail_residual(double p, void *vp)
{
    const tail_eq *t = vp;
    return t->upper ? gsl_cdf_beta_Q(p, t->a, t->b) - t->target
                    : gsl_cdf_beta_P(p, t->a, t->b) - t->target;
}

/* Relative tolerance in p, not absolute: near p = 0 a tail moves by n per unit of p, so an
 * absolute 1e-12 would leave the defining equation off by 1e-8 at n = 10^4. */
#define CP_RELTOL (4 * DBL_EPSILON)
#define CP_MAXITER 400

static int tail_root(tail_eq *t, double *root)
{
    gsl_function F = {tail_residual, t};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s)
        return gpmc_error(GPMC_ENOMEM, "clopper-pearson", "out of memory");
    /* The residual is -a/2 at one end and 1 - a/2 at the other: a bracket by construction. */
    int st = gsl_root_fsolver_set(s, &F, 0.0, 1.0), converged = 0;
    double x = NAN;
    for (int it = 0; st == GSL_SUCCESS && !converged && it < CP_MAXITER; it++) {
        st = gsl_root_fsolver_iterate(s);
        x = gsl_root_fsolver_root(s);
        double lo = gsl_root_fsolver_x_lower(s), hi = gsl_root_fsolver_x_upper(s);
        converged = st == GSL_SUCCESS && (tail_residual(x, t) == 0 || hi - lo <= CP_RELTOL * lo);
    }
    gsl_root_fsolver_free(s);
    if (!converged || !(x >= 0 && x <= 1))
        return gpmc_error(GPMC_ENUM, "clopper-pearson",
                          "no root of the binomial tail for k = %g, n = %g (GSL status %d)",
                          t->a - (t->upper ? 1 : 0), t->a + t->b - 1, st);
    *root = x;
    return GPMC_OK;
}

static int cp_compute(size_t k, size_t n, double level, double *lo, double *hi)
{
    double a2 = (1 - level) / 2, dn = (double)n;
    int st = GPMC_OK;
    /* k = 0: (1 - hi)^n = a/2; k = n: lo^n = a/2 (exact, no root finding). */
    if (k == 0)
        *lo = 0;
    else if (k == n)
        *lo = exp(log(a2) / dn);
    else {
        tail_eq t = {(double)k, dn - (double)k + 1, a2, 0};
        st = tail_root(&t, lo);
    }
    if (k == n)
        *hi = 1;
    else if (k == 0)
        *hi = -expm1(log(a2) / dn);
    else if (!st) {
        tail_eq t = {(double)k + 1, dn - (double)k, a2, 1};
        st = tail_root(&t, hi);
    }
    return st;
}

/* Intervals depend only on (k, n, level): a summary of 10^6 points with one trial count
 * computes each of its n + 1 intervals once. A few n at a time (run, shards, thresholds). */
#define CP_CACHE_SLOTS 8

typedef struct {
    size_t n;
    double level;
    double *lo, *hi;  /* [n + 1] */
    uint8_t *have;    /* [n + 1] 0 unknown, 1 computed */
} cp_slot;

static cp_slot cp_cache[CP_CACHE_SLOTS];
static size_t cp_next;

static cp_slot *cp_slot_for(size_t n, double level)
{
    for (size_t i = 0; i < CP_CACHE_SLOTS; i++)
        if (cp_cache[i].have && cp_cache[i].n == n && cp_cache[i].level == level)
            return &cp_cache[i];
    if (n >= SIZE_MAX / sizeof(double) - 1)
        return NULL;
    cp_slot *s = &cp_cache[cp_next];
    cp_next = (cp_next + 1) % CP_CACHE_SLOTS;
    free(s->lo);
    free(s->hi);
    free(s->have);
    s->lo = malloc((n + 1) * sizeof *s->lo);
    s->hi = malloc((n + 1) * sizeof *s->hi);
    s->have = calloc(n + 1, 1);
    if (!s->lo || !s->hi || !s->have) {
        free(s->lo);
        free(s->hi);
        free(s->have);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    s->n = n;
    s->level = level;
    return s;
}

int gpmc_clopper_pearson(size_t k, size_t n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!(level > 0 && level < 1))
        return gpmc_error(GPMC_EINVAL, "clopper-pearson", "level %g is not in (0, 1)", level);
    if (k > n)
        return gpmc_error(GPMC_EINVAL, "clopper-pearson", "k = %zu successes of n = %zu", k, n);
    if (n == 0)
        return GPMC_OK; /* no trial: no interval (NaN), not an error */
    cp_slot *s = cp_slot_for(n, level);
    if (s && s->have[k]) {
        *lo = s->lo[k];
        *hi = s->hi[k];
        return GPMC_OK;
    }
    /* Record GSL errors instead of aborting, whoever called us, and trust no value
     * computed while one was raised. */
    gsl_error_handler_t *prev = gsl_set_error_handler(gpmc_gsl_record);
    unsigned long errors = gpmc_gsl_error_count();
    int st = cp_compute(k, n, level, lo, hi);
    gsl_set_error_handler(prev);
    if (!st && gpmc_gsl_error_count() != errors)
        st = gpmc_error(GPMC_ENUM, "clopper-pearson", "k = %zu, n = %zu: %s", k, n,
                        gpmc_gsl_last_error());
    if (!st && !(*lo >= 0 && *lo <= *hi && *hi <= 1))
        st = gpmc_error(GPMC_ENUM, "clopper-pearson", "k = %zu, n = %zu: interval [%g, %g]",
                        k, n, *lo, *hi);
    if (st) {
        *lo = *hi = NAN;
        return st;
    }
    if (s) {
        s->lo[k] = *lo;
        s->hi[k] = *hi;
        s->have[k] = 1;
    }
    return GPMC_OK;
}

void gpmc_stats_cache_clear(void)
{
    for (size_t i = 0; i < CP_CACHE_SLOTS; i++) {
        free(cp_cache[i].lo);
        free(cp_cache[i].hi);
        free(cp_cache[i].have);
        memset(&cp_cache[i], 0, sizeof cp_cache[i]);
    }
    cp_next = 0;
}
