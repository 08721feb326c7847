/* Independent references for the WDC tests (plain loops, MATH.md's e1/e2 formula for Q,
 * LAPACK's dsyev): shared by test_wdc.c and test_wdc_exact2.c. Include after <cmocka.h>. */
#ifndef GPMC_TEST_WDC_REF_H
#define GPMC_TEST_WDC_REF_H

#include "gpmc/error.h"
#include "gpmc/wdc_eval.h"
#include "gpmc/wdc_exact2.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#define PI 3.14159265358979323846

/* ---- independent reference computations (plain loops) ------------------------------ */

/* Q_{x,y} for unit x, y from MATH.md's definition: e1 = x, e2 = (y - cos t x)/sin t,
 * M = cos t (e1e1^T - e2e2^T) + sin t (e1e2^T + e2e1^T), Q = (pi-t)/2pi I + sin t/2pi M.
 * The angle from Kahan's 2 atan2(|x - y|, |x + y|) (accurate near 0 and pi). */
static inline void ref_Q(const double *x, const double *y, size_t k, double alpha, double *q)
{
    double sd = 0, ss = 0;
    for (size_t i = 0; i < k; i++) {
        sd += (x[i] - y[i]) * (x[i] - y[i]);
        ss += (x[i] + y[i]) * (x[i] + y[i]);
    }
    double t = 2 * atan2(sqrt(sd), sqrt(ss)), c = cos(t), s = sin(t);
    double e2[512], ne = 0;
    assert_true(k <= 512);
    for (size_t i = 0; i < k; i++) {
        e2[i] = y[i] - c * x[i];
        ne += e2[i] * e2[i];
    }
    ne = sqrt(ne);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double m = 0;
            if (ne > 0 && s > 0) {
                double a = e2[i] / ne, b = e2[j] / ne;
                m = c * (x[i] * x[j] - a * b) + s * (x[i] * b + a * x[j]);
            }
            q[i * k + j] = alpha * ((i == j ? (PI - t) / (2 * PI) : 0) + s / (2 * PI) * m);
        }
}

/* ||sum_i 1{w_i.x > 0} 1{w_i.y > 0} w_i w_i^T - alpha Q_{x,y}|| with plain loops and
 * LAPACK's dsyev; *margin = min_i |w_i.x|, |w_i.y| over rows with |w_i| > 0 (how far the
 * pair is from flipping a mask under rounding). */
static inline double ref_dev(const double *w, size_t n, size_t k, double alpha, const double *x,
                      const double *y, double *margin)
{
    double *d = calloc(k * k, sizeof *d), *q = malloc(k * k * sizeof *q), *ev = malloc(k * sizeof *ev);
    double mg = INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double *wi = w + i * k;
        double zx = 0, zy = 0, nw = 0;
        for (size_t j = 0; j < k; j++) {
            zx += wi[j] * x[j];
            zy += wi[j] * y[j];
            nw += wi[j] * wi[j];
        }
        if (nw > 0)
            mg = fmin(mg, fmin(fabs(zx), fabs(zy)));
        if (zx > 0 && zy > 0)
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < k; b++)
                    d[a * k + b] += wi[a] * wi[b];
    }
    ref_Q(x, y, k, alpha, q);
    for (size_t i = 0; i < k * k; i++)
        d[i] -= q[i];
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)k, d, (lapack_int)k, ev), 0);
    double nrm = fmax(fabs(ev[0]), fabs(ev[k - 1]));
    if (margin)
        *margin = mg;
    free(d), free(q), free(ev);
    return nrm;
}

/* min_i |w_i.x| / |w_i| over the nonzero rows: the angle (in radians, for small values)
 * from x to the nearest row hyperplane, i.e. how far x is from flipping a mask. */
static inline double ref_margin(const double *w, size_t n, size_t k, const double *x)
{
    double mg = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double z = 0, nw = 0;
        for (size_t j = 0; j < k; j++)
            z += w[i * k + j] * x[j], nw += w[i * k + j] * w[i * k + j];
        if (nw > 0)
            mg = fmin(mg, fabs(z) / sqrt(nw));
    }
    return mg;
}

/* Rounding budget of a deviation computed two ways: each entry of the masked Gram is a
 * sum of up to n products, error <= n eps sum_i |w_i|^2 in any order of summation;
 * Q and the eigenvalues add O(k eps). */
static inline double dev_tol(const double *w, size_t n, size_t k)
{
    double s = 0;
    for (size_t i = 0; i < n * k; i++)
        s += w[i] * w[i];
    return 4 * (double)(n + k) * DBL_EPSILON * (1 + s);
}

/* The k = 2 deviation on a G x G grid of (angle of x, angle of y) (diag_only: the G points
 * x = y), with plain loops and the 2 x 2 norm |mid| + radius: a lower bound on the sup. */
static inline double grid_sup(const double *w, size_t n, size_t G, double alpha, int diag_only)
{
    double *cx = malloc(G * sizeof *cx), *sx = malloc(G * sizeof *sx);
    unsigned char *act = malloc(G * n);
    for (size_t a = 0; a < G; a++) {
        double t = 2 * PI * (double)a / (double)G;
        cx[a] = cos(t);
        sx[a] = sin(t);
        for (size_t i = 0; i < n; i++)
            act[a * n + i] = w[2 * i] * cx[a] + w[2 * i + 1] * sx[a] > 0;
    }
    double best = 0;
    for (size_t a = 0; a < G; a++)
        for (size_t b = diag_only ? a : 0; b < (diag_only ? a + 1 : G); b++) {
            double g00 = 0, g01 = 0, g11 = 0;
            for (size_t i = 0; i < n; i++)
                if (act[a * n + i] && act[b * n + i]) {
                    double u = w[2 * i], v = w[2 * i + 1];
                    g00 += u * u;
                    g01 += u * v;
                    g11 += v * v;
                }
            /* In the plane, M reflects across the bisector of x and y: with x at angle
             * ta and y at tb, M = [[cos(ta+tb), sin(ta+tb)], [sin(ta+tb), -cos(ta+tb)]]. */
            double ta = 2 * PI * (double)a / (double)G, tb = 2 * PI * (double)b / (double)G;
            double th = fabs(ta - tb);
            if (th > PI)
                th = 2 * PI - th;
            double cs = cos(ta + tb), sn = sin(ta + tb);
            double qi = alpha * (PI - th) / (2 * PI), qm = alpha * sin(th) / (2 * PI);
            double d00 = g00 - qi - qm * cs, d11 = g11 - qi + qm * cs, d01 = g01 - qm * sn;
            double mid = 0.5 * (d00 + d11), rad = hypot(0.5 * (d00 - d11), d01);
            double nrm = fabs(mid) + rad; /* max |eigenvalue| of the 2 x 2 */
            if (nrm > best)
                best = nrm;
        }
    free(cx), free(sx), free(act);
    return best;
}

/* The exact k = 2 result (gpmc_wdc_exact2_run) on W (n x 2, row-major) with alpha. */
static inline gpmc_wdc_exact2_result ref_exact2(const double *w, size_t n, double alpha)
{
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, 2, 1);
    gpmc_wdc_exact2 *ex = gpmc_wdc_exact2_alloc(n);
    assert_non_null(ev);
    assert_non_null(ex);
    gpmc_wdc_eval_set_w(ev, w, alpha);
    gpmc_wdc_exact2_result res;
    assert_int_equal(gpmc_wdc_exact2_run(ex, w, alpha, ev, &res), GPMC_OK);
    gpmc_wdc_exact2_free(ex);
    gpmc_wdc_eval_free(ev);
    return res;
}

#endif
