/* The exact WDC supremum at k = 2 (include/gpmc/wdc_exact2.h).
 *
 * Arcs. Row w_i at angle phi_i is active at x = (cos a, sin a) iff a lies in the open
 * half-circle (phi_i - pi/2, phi_i + pi/2): its on/off events cut the circle into N arcs
 * (N = 2 x nonzero rows; a zero row is never active). On the arc pair (A_i, A_j) the
 * masked Gram G = sum over rows active on both of w w^T is constant. At an event point a
 * row is inactive (strict >), which is the mask of one of the two adjacent arcs (for
 * distinct events), so the supremum is the maximum over the N^2 CLOSED rectangles of the
 * smooth deviation with the rectangle's G. (Assumed: no row's on event coincides with
 * another's off event, i.e. no w_j = -c w_i; that has probability 0 for Gaussian and
 * truncated rows, and there the point itself has a mask of neither neighbour. Coinciding
 * events of parallel rows are fine: zero-width arcs.)
 *
 * The closed form (k = 2). For theta in (0, pi), M_{x<->y} of MATH.md is the reflection
 * across the bisector of x and y, [[cos s, sin s], [sin s, -cos s]] with s = a + b, and
 * theta = arccos(cos u), sin theta = |sin u|, u = a - b. A symmetric 2 x 2 matrix
 * c I + [[p, q], [q, -p]] has norm |c| + |p + iq|, so
 *     F(a, b) = |c(u)| + |v - r(u) e^{is}|,
 *     c(u) = (g00 + g11)/2 - alpha (pi - theta)/(2 pi),  v = (g00 - g11)/2 + i g01,
 *     r(u) = alpha |sin u| / (2 pi).
 * For fixed u, s ranges over I(u) = [max(2a0 - u, 2b0 + u), min(2a1 - u, 2b1 + u)], and
 * |v - r e^{is}|^2 = |v|^2 + r^2 - 2 r |v| cos(s - arg v) is largest at the point of I(u)
 * nearest arg v + pi (mod 2 pi), else at an end of I(u): g(u) = max over s, in closed form.
 * One variable u in [a0 - b1, a1 - b0] remains.
 *
 * The bound. Split u at a0 - b0 and a1 - b1 (where the ends of I(u) turn) and at the
 * multiples of pi (where theta and |sin u| turn). On a piece: c is linear in u, so |c| is
 * convex; the ends of I(u) are linear, so s = lam(u) + t (mu(u) - lam(u)) is linear in u
 * for each t in [0, 1] with slope s' in [-1, 1], and z_t(u) = v - r(u) e^{i s} has
 *     |z''| <= |r''| + 2 |r'| |s'| + r s'^2 <= 4 alpha / (2 pi) = K = 2 alpha / pi.
 * |z_t(u0)| = Re(w* z_t(u0)) for a unit w, and Re(w* z_t) has second derivative <= K, so
 * |z_t| lies below its chord plus K (u - u1)(u2 - u)/2; so does g = max_t |z_t| (take the
 * t optimal at u0; the chord of |z_t| lies below that of g), and so does F = |c| + g. On
 * [u1, u2] therefore  F <= max_s [chord(s) + K s (h - s)/2],  h = u2 - u1 (quad_ub).
 * A branch and bound bisects every piece whose bound exceeds best (1 + RTOL); a whole
 * rectangle is skipped first if F(u_mid) + L h/2 does not, L = 3 alpha/(2 pi) (|c|' <=
 * alpha/(2 pi); g' <= |r'| + r |s'| <= 2 alpha/(2 pi) as the ends of I(u) move at speed 1).
 * So sup <= best (1 + RTOL) + rounding: `upper`.
 *
 * The witness. The maximiser (u, s) gives a = (s + u)/2, b = (s - u)/2, possibly on the
 * rectangle's boundary, where the evaluator would see the neighbouring mask: each angle
 * is moved DELTA = 1e-11 rad inside its arc (F is 3 alpha/(2 pi)-Lipschitz in each of a,
 * b, so this costs <= 3 alpha DELTA / pi < 1e-11), leaving every row's |w.x| >= |w| 1e-11,
 * far above the rounding of w.x (~1e-16 |w|). The reported eps is gpmc_wdc_eval_pairs at
 * that pair: eps >= sup - RTOL sup - 1e-11 - rounding, within RTOL_TOTAL = 1e-9 of the sup
 * whenever sup >= 0.0125 (always, in practice: eps_WDC ~ sqrt(k log n / n) >> 0.0125 for
 * the n this mode allows).
 *
 * The diagonal x = y: u = 0, Q = alpha I/2, so F = ||G_ii - alpha I/2|| is constant on
 * each arc: the maximum over the N arcs, witness at the arc's midpoint.
 *
 * Rounding: each G entry is a sum of at most 3 n' terms of size <= |w|^2 (one direct sum
 * per x arc, then one +- update per event), so it is within 9 n' eps S (S = sum |w_i|^2);
 * `upper` adds (20 n' + 100) eps (1 + S) for that, the closed form and the evaluator.
 *
 * Cost: N^2 rectangles, O(1) each (one update of G, one or a few closed-form values),
 * plus O(n) per x arc: O(n^2) time, O(n) memory. */
#include "gpmc/wdc_exact2.h"
#include "gpmc/error.h"
#include "gpmc/sizes.h"

#include <float.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"
#define TWO_PI (2 * GPMC_PI)
#define DELTA 1e-11
/* Deepest bisection: h below 4 pi 2^-60 ~ 1e-17 cannot improve on the bound any more. */
#define DEPTH 60
#define MAXBRK 16

struct gpmc_wdc_exact2 {
    size_t n;
    size_t *rows;        /* n': the nonzero rows */
    double *ang;         /* N: event e = 2r (on) / 2r+1 (off) of nonzero row r, in [0, 2pi) */
    size_t *perm;        /* N: events by angle */
    size_t *pos;         /* N: sorted position of event e */
    unsigned char *act0; /* n': mask on arc 0 */
    unsigned char *acta; /* n': mask on the x arc */
};

size_t gpmc_wdc_exact2_bytes(size_t n)
{
    size_t b = gpmc_size_mul(n, sizeof(size_t));                       /* rows */
    b = gpmc_size_add(b, gpmc_size_mul(gpmc_size_mul(2, n), sizeof(double)));
    b = gpmc_size_add(b, gpmc_size_mul(gpmc_size_mul(4, n), sizeof(size_t)));
    return gpmc_size_add(b, gpmc_size_mul(2, n));
}

void gpmc_wdc_exact2_free(gpmc_wdc_exact2 *ex)
{
    if (!ex)
        return;
    free(ex->rows);
    free(ex->ang);
    free(ex->perm);
    free(ex->pos);
    free(ex->act0);
    free(ex->acta);
    free(ex);
}

gpmc_wdc_exact2 *gpmc_wdc_exact2_alloc(size_t n)
{
    if (n == 0 || gpmc_wdc_exact2_bytes(n) == SIZE_MAX)
        return NULL;
    gpmc_wdc_exact2 *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->n = n;
    ex->rows = malloc(n * sizeof(size_t));
    ex->ang = malloc(2 * n * sizeof(double));
    ex->perm = malloc(2 * n * sizeof(size_t));
    ex->pos = malloc(2 * n * sizeof(size_t));
    ex->act0 = malloc(n);
    ex->acta = malloc(n);
    if (!ex->rows || !ex->ang || !ex->perm || !ex->pos || !ex->act0 || !ex->acta) {
        gpmc_wdc_exact2_free(ex);
        return NULL;
    }
    return ex;
}

/* t mod 2 pi in [0, 2 pi). */
static double mod2pi(double t)
{
    double m = fmod(t, TWO_PI);
    return m < 0 ? m + TWO_PI : m;
}

/* One rectangle: its angles and the constants of its closed form. */
typedef struct {
    double a0, a1, b0, b1;
    double m0, vx, vy, vabs, tau, alpha;
} rect;

static void rect_set(rect *R, const double g[3], double alpha)
{
    R->alpha = alpha;
    R->m0 = 0.5 * (g[0] + g[2]);
    R->vx = 0.5 * (g[0] - g[2]);
    R->vy = g[1];
    R->vabs = hypot(R->vx, R->vy);
    R->tau = atan2(R->vy, R->vx) + GPMC_PI; /* the s farthest from v */
}

/* F at u maximised over s in I(u); *sig the maximising s. */
static double f_at(const rect *R, double u, double *sig)
{
    double t = fmod(fabs(u), TWO_PI);
    if (t > GPMC_PI)
        t = TWO_PI - t; /* theta = arccos(cos u) */
    double c = R->m0 - R->alpha * (GPMC_PI - t) / TWO_PI;
    double r = R->alpha * fabs(sin(u)) / TWO_PI;
    double lam = fmax(2 * R->a0 - u, 2 * R->b0 + u), mu = fmin(2 * R->a1 - u, 2 * R->b1 + u);
    if (mu < lam)
        mu = lam; /* rounding at a corner */
    double s = lam + mod2pi(R->tau - lam), z;
    if (s <= mu) {
        z = R->vabs + r;
    } else {
        double zl = hypot(R->vx - r * cos(lam), R->vy - r * sin(lam));
        double zm = hypot(R->vx - r * cos(mu), R->vy - r * sin(mu));
        s = zl >= zm ? lam : mu;
        z = fmax(zl, zm);
    }
    *sig = s;
    return fabs(c) + z;
}

double gpmc_wdc_exact2_closed(const double g[3], double alpha, double a, double b)
{
    rect R = {.a0 = a, .a1 = a, .b0 = b, .b1 = b};
    rect_set(&R, g, alpha);
    double s;
    return f_at(&R, a - b, &s);
}

/* Max over s in [0, h] of the chord from f1 to f2 plus K s (h - s)/2. */
static double quad_ub(double f1, double f2, double h, double K)
{
    if (!(h > 0) || !(K * h > 0))
        return fmax(f1, f2);
    double s = 0.5 * h + (f2 - f1) / (K * h);
    s = s < 0 ? 0 : s > h ? h : s;
    return f1 + (f2 - f1) * s / h + 0.5 * K * s * (h - s);
}

typedef struct {
    double best, u, s; /* best F found, its u and s */
    rect at;           /* its rectangle */
    double capped;     /* largest bound left when DEPTH stopped a bisection */
    size_t fevals;
} bnb_state;

static void consider(bnb_state *st, const rect *R, double f, double u, double s)
{
    st->fevals++;
    if (f > st->best) {
        st->best = f;
        st->u = u;
        st->s = s;
        st->at = *R;
    }
}

typedef struct {
    double p, q, fp, fq;
    int d;
} interval;

/* Branch and bound on the piece [p, q] of one rectangle. */
static void bnb_piece(bnb_state *st, const rect *R, double p, double q, double K)
{
    interval stack[DEPTH + 2]; /* depth first: at most one pending sibling per level */
    double s, fp = f_at(R, p, &s);
    consider(st, R, fp, p, s);
    double fq = f_at(R, q, &s);
    consider(st, R, fq, q, s);
    size_t top = 0;
    stack[top++] = (interval){p, q, fp, fq, 0};
    while (top > 0) {
        interval e = stack[--top];
        double ub = quad_ub(e.fp, e.fq, e.q - e.p, K);
        if (ub <= st->best * (1 + GPMC_WDC_EXACT2_RTOL))
            continue;
        if (e.d >= DEPTH) {
            st->capped = fmax(st->capped, ub);
            continue;
        }
        double m = 0.5 * (e.p + e.q), fm = f_at(R, m, &s);
        consider(st, R, fm, m, s);
        stack[top++] = (interval){m, e.q, fm, e.fq, e.d + 1};
        stack[top++] = (interval){e.p, m, e.fp, fm, e.d + 1};
    }
}

static void bnb_rect(bnb_state *st, const rect *R)
{
    double ul = R->a0 - R->b1, uh = R->a1 - R->b0, alpha = R->alpha;
    double K = 2 * alpha / GPMC_PI, L = 3 * alpha / TWO_PI, s;
    double fc = f_at(R, 0.5 * (ul + uh), &s);
    consider(st, R, fc, 0.5 * (ul + uh), s);
    if (fc + 0.5 * L * (uh - ul) <= st->best * (1 + GPMC_WDC_EXACT2_RTOL))
        return;
    double brk[MAXBRK];
    size_t nb = 0;
    brk[nb++] = ul;
    brk[nb++] = uh;
    double c0 = R->a0 - R->b0, c1 = R->a1 - R->b1;
    if (c0 > ul && c0 < uh)
        brk[nb++] = c0;
    if (c1 > ul && c1 < uh)
        brk[nb++] = c1;
    for (double kk = ceil(ul / GPMC_PI); kk * GPMC_PI < uh && nb < MAXBRK; kk++)
        if (kk * GPMC_PI > ul)
            brk[nb++] = kk * GPMC_PI;
    for (size_t i = 1; i < nb; i++) /* insertion sort of a handful */
        for (size_t j = i; j > 0 && brk[j - 1] > brk[j]; j--) {
            double t = brk[j];
            brk[j] = brk[j - 1];
            brk[j - 1] = t;
        }
    for (size_t i = 0; i + 1 < nb; i++)
        bnb_piece(st, R, brk[i], brk[i + 1], K);
}

/* G += sign w w^T (packed g00, g01, g11). */
static void gram_add(double g[3], const double *w, double sign)
{
    g[0] += sign * w[0] * w[0];
    g[1] += sign * w[0] * w[1];
    g[2] += sign * w[1] * w[1];
}

/* An angle inside [lo, hi], DELTA (or half the width) from either end. */
static double inside(double t, double lo, double hi)
{
    double d = fmin(DELTA, 0.5 * (hi - lo));
    return fmin(fmax(t, lo + d), hi - d);
}

int gpmc_wdc_exact2_run(gpmc_wdc_exact2 *ex, const double *w, double alpha, gpmc_wdc_eval *ev,
                        gpmc_wdc_exact2_result *res)
{
    memset(res, 0, sizeof *res);
    size_t nr = 0;
    double S = 0;
    for (size_t i = 0; i < ex->n; i++) {
        const double *wi = w + 2 * i;
        if (wi[0] == 0 && wi[1] == 0)
            continue;
        double phi = atan2(wi[1], wi[0]);
        ex->ang[2 * nr] = mod2pi(phi - 0.5 * GPMC_PI);
        ex->ang[2 * nr + 1] = mod2pi(phi + 0.5 * GPMC_PI);
        ex->rows[nr++] = i;
        S += wi[0] * wi[0] + wi[1] * wi[1];
    }
    size_t N = 2 * nr;
    const size_t *perm = ex->perm;
    /* Arc j = [beta(j), beta(j + 1)], after event perm[j]; no rows: one arc, the circle. */
#define BETA(j) (N == 0 ? (j) * TWO_PI : (j) < N ? ex->ang[perm[j]] : ex->ang[perm[0]] + TWO_PI)
    size_t arcs = N == 0 ? 1 : N;
    if (N > 0) {
        gsl_sort_index(ex->perm, ex->ang, 1, N);
        for (size_t j = 0; j < N; j++)
            ex->pos[perm[j]] = j;
        /* Row r is active on arc 0 iff, stepping back from position 0, its last event
         * was the on one. */
        for (size_t r = 0; r < nr; r++)
            ex->act0[r] = (N - ex->pos[2 * r]) % N < (N - ex->pos[2 * r + 1]) % N;
    }

    bnb_state st = {.best = -1, .capped = -INFINITY};
    /* The diagonal: G_ii on each arc, updated event by event. */
    double gd[3] = {0, 0, 0}, best_diag = -1, mid_diag = 0;
    for (size_t r = 0; r < nr; r++)
        if (ex->act0[r])
            gram_add(gd, w + 2 * ex->rows[r], 1);
    for (size_t i = 0; i < arcs; i++) {
        if (i > 0) {
            size_t e = perm[i];
            gram_add(gd, w + 2 * ex->rows[e / 2], e % 2 == 0 ? 1 : -1);
        }
        double f = fabs(0.5 * (gd[0] + gd[2]) - 0.5 * alpha) +
                   hypot(0.5 * (gd[0] - gd[2]), gd[1]);
        double a0 = BETA(i), a1 = BETA(i + 1);
        if (f > best_diag) {
            best_diag = f;
            mid_diag = 0.5 * (a0 + a1);
        }
        if (f > st.best) { /* seeds the pair search: u = 0 */
            rect R = {.a0 = a0, .a1 = a1, .b0 = a0, .b1 = a1};
            rect_set(&R, gd, alpha);
            st.best = f, st.u = 0, st.s = a0 + a1, st.at = R;
        }
    }

    /* The pairs: x on arc i, y on arc j. */
    if (N > 0)
        memcpy(ex->acta, ex->act0, nr);
    for (size_t i = 0; i < arcs; i++) {
        if (i > 0) {
            size_t e = perm[i];
            ex->acta[e / 2] = e % 2 == 0;
        }
        double g[3] = {0, 0, 0};
        for (size_t r = 0; r < nr; r++)
            if (ex->acta[r] && ex->act0[r])
                gram_add(g, w + 2 * ex->rows[r], 1);
        rect R = {.a0 = BETA(i), .a1 = BETA(i + 1)};
        for (size_t j = 0; j < arcs; j++) {
            if (j > 0) {
                size_t e = perm[j], r = e / 2;
                if (ex->acta[r])
                    gram_add(g, w + 2 * ex->rows[r], e % 2 == 0 ? 1 : -1);
            }
            R.b0 = BETA(j);
            R.b1 = BETA(j + 1);
            rect_set(&R, g, alpha);
            bnb_rect(&st, &R);
        }
    }
#undef BETA

    double round = (20.0 * (double)nr + 100) * DBL_EPSILON * (1 + S);
    res->arcs = arcs;
    res->fevals = st.fevals;
    res->best_closed = st.best;
    res->upper = fmax(st.best * (1 + GPMC_WDC_EXACT2_RTOL), st.capped) + round;
    res->upper_diag = best_diag + round;
    const rect *B = &st.at;
    double a = inside(0.5 * (st.s + st.u), B->a0, B->a1);
    double b = inside(0.5 * (st.s - st.u), B->b0, B->b1);
    res->x[0] = cos(a), res->x[1] = sin(a);
    res->y[0] = cos(b), res->y[1] = sin(b);
    res->xd[0] = cos(mid_diag), res->xd[1] = sin(mid_diag);
    int rc = gpmc_wdc_eval_pairs(ev, res->x, res->y, 1, &res->eps);
    if (rc == GPMC_OK)
        rc = gpmc_wdc_eval_pairs(ev, res->xd, res->xd, 1, &res->eps_diag);
    return rc;
}
