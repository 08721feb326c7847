/* The closed forms of MATH.md, each checked against an independent computation or a
 * Monte Carlo estimate. Monte Carlo tolerances are 5 standard errors estimated from the
 * samples themselves; exact identities get floating-point tolerances from the number of
 * roundings involved (EPS = DBL_EPSILON is one relative rounding). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/net.h"
#include "gpmc/rng.h"
#include "gpmc/stats.h"
#include "gpmc/theory.h"

#include <float.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define EPS DBL_EPSILON
#define NSE 5.0 /* Monte Carlo tolerance in standard errors */
#define SEED UINT64_C(0x7e0c4f2d)
#define KMAX 16



static void scale_to_unit(double *a, size_t n)
{
    double s = 1 / norm(a, n);
    for (size_t i = 0; i < n; i++)
        a[i] *= s;
}

static void matvec(const double *m, const double *v, size_t k, double *out)
{
    for (size_t i = 0; i < k; i++)
        out[i] = dot(m + i * k, v, k);
}

/* A unit vector xh, a unit vector zh orthogonal to it, and y = 0.7 (cos t xh + sin t zh),
 * a pair at angle t (up to rounding) in a random plane of R^k. */
static void make_pair(gsl_rng *r, size_t k, double t, double *xh, double *zh, double *y)
{
    gpmc_rng_gaussian(r, 1.0, xh, k);
    scale_to_unit(xh, k);
    gpmc_rng_gaussian(r, 1.0, zh, k);
    double c = dot(xh, zh, k);
    for (size_t i = 0; i < k; i++)
        zh[i] -= c * xh[i];
    scale_to_unit(zh, k);
    for (size_t i = 0; i < k; i++)
        y[i] = 0.7 * (cos(t) * xh[i] + sin(t) * zh[i]);
}

/* --- the angle ------------------------------------------------------------------------ */

/* In the coordinate plane the pair (3 e1, (cos t, sin t)/2) has angle t up to the
 * rounding of cos t and sin t. Each step of the half-angle formula (normalise, add or
 * subtract, norm, atan2) is a few relative roundings without cancellation, so the result
 * is within 16 EPS t even at t = 1e-6, where arccos(<x^, y^>) keeps only ~4 digits. */
static void test_angle_is_relatively_accurate(void **state)
{
    (void)state;
    const double ts[] = {1e-6, 1e-3, 0.5, 1.0, 2.0, 3.0, PI - 1e-3, PI - 1e-6};
    double x[4] = {3, 0, 0, 0}, y[4] = {0};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        y[0] = 0.5 * cos(ts[i]);
        y[1] = 0.5 * sin(ts[i]);
        assert_close(gpmc_angle(x, y, 4), ts[i], 16 * EPS * ts[i]);
    }
    /* Exact parallels and antiparallels (power-of-two multiples normalise exactly). */
    double u[3] = {0.3, -1.2, 2.5}, v[3];
    for (size_t i = 0; i < 3; i++)
        v[i] = 4 * u[i];
    assert_true(gpmc_angle(u, v, 3) == 0);
    for (size_t i = 0; i < 3; i++)
        v[i] = -2 * u[i];
    assert_close(gpmc_angle(u, v, 3), PI, 2 * EPS * PI);
    assert_true(isnan(gpmc_angle(u, (double[3]){0, 0, 0}, 3)));
}

/* --- M and Q -------------------------------------------------------------------------- */

/* M x^ = y^, M y^ = x^, M z = 0 for z orthogonal to the plane, M symmetric. Entries of
 * M x^ are length-k sums of O(1) products: 16 k EPS covers them and the construction.
 * The plane of a near-parallel (or near-antipodal) pair is itself defined by its
 * floating-point inputs only to EPS / sin t, so the complement is checked to that. */
static void test_M_swaps_the_pair_and_kills_the_complement(void **state)
{
    (void)state;
    const size_t k = 6;
    const double ts[] = {1e-6, 0.3, 1.5, 2.8, PI - 1e-6};
    double xh[KMAX], zh[KMAX], y[KMAX], yh[KMAX], w[KMAX], out[KMAX], M[KMAX * KMAX];
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 1, 0, 0);
    const double tol = 16 * (double)k * EPS;
    for (size_t n = 0; n < sizeof ts / sizeof *ts; n++) {
        double t = ts[n];
        make_pair(r, k, t, xh, zh, y);
        memcpy(yh, y, k * sizeof *y);
        scale_to_unit(yh, k);
        gpmc_theory_M(xh, y, k, M); /* the scale of y must not matter */
        matvec(M, xh, k, out);
        for (size_t i = 0; i < k; i++)
            assert_close(out[i], yh[i], tol);
        matvec(M, yh, k, out);
        for (size_t i = 0; i < k; i++)
            assert_close(out[i], xh[i], tol);
        gpmc_rng_gaussian(r, 1.0, w, k);
        double cx = dot(w, xh, k), cz = dot(w, zh, k);
        for (size_t i = 0; i < k; i++)
            w[i] -= cx * xh[i] + cz * zh[i];
        scale_to_unit(w, k);
        matvec(M, w, k, out);
        for (size_t i = 0; i < k; i++)
            assert_close(out[i], 0, tol / sin(t));
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                assert_true(M[i * k + j] == M[j * k + i]);
    }
    gpmc_rng_free(r);
}

/* The limits MATH.md fixes: theta = 0 gives x^ x^T, theta = pi gives -x^ x^T.
 * Power-of-two multiples make the pair exactly parallel or antiparallel. */
static void test_M_limits_at_0_and_pi(void **state)
{
    (void)state;
    const size_t k = 5;
    double x[5] = {1.0, -2.0, 0.5, 3.0, -0.25}, xh[5], y[5], M[25];
    memcpy(xh, x, sizeof x);
    scale_to_unit(xh, k);
    const double sgn[2] = {1, -1}, mult[2] = {4, -2};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < k; i++)
            y[i] = mult[s] * x[i];
        gpmc_theory_M(x, y, k, M);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                assert_close(M[i * k + j], sgn[s] * xh[i] * xh[j], 8 * EPS);
    }
}

/* Q_{x,x} = I/2 and Q_{x,-x} = 0 (no row is active on both x and -x); `scale` is a
 * plain factor. At theta = pi the only residue is sin(fl(pi))/(2 pi) ~ 2e-17 < EPS. */
static void test_Q_on_the_diagonal_and_antipodes(void **state)
{
    (void)state;
    const size_t k = 4;
    double x[4] = {0.2, 1.7, -0.9, 0.4}, y[4], Q[16], Q2[16];
    for (size_t i = 0; i < k; i++)
        y[i] = 3 * x[i];
    gpmc_theory_Q(x, x, k, 1.0, Q);
    gpmc_theory_Q(x, y, k, 1.0, Q2);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            assert_close(Q[i * k + j], i == j ? 0.5 : 0.0, 4 * EPS);
            assert_close(Q2[i * k + j], i == j ? 0.5 : 0.0, 4 * EPS);
        }
    for (size_t i = 0; i < k; i++)
        y[i] = -2 * x[i];
    gpmc_theory_Q(x, y, k, 1.0, Q);
    for (size_t i = 0; i < k * k; i++)
        assert_close(Q[i], 0.0, EPS);
    gpmc_theory_Q(x, x, k, 0.8, Q);
    for (size_t i = 0; i < k; i++)
        assert_close(Q[i * k + i], 0.4, 4 * EPS);
}

/* E[sum_i 1{w_i.x > 0} 1{w_i.y > 0} w_i w_i^T] = Q_{x,y} for n rows w_i ~ N(0, I_k/n):
 * T independent n x k matrices, each trial's k x k sum is one sample, every entry of
 * the sample mean within 5 standard errors of Q (plus 8 EPS for Q's own rounding, which
 * matters only where the samples are all exactly zero, as at theta = pi). */
static void test_Q_is_the_expectation_of_the_active_gram(void **state)
{
    (void)state;
    enum { K = 3, N = 40, T = 5000 };
    const double ts[] = {0.0, PI / 6, PI / 2, 2.0, PI - 0.05, PI - 1e-3, PI};
    double xh[K], zh[K], y[K], W[N * K], S[K * K], Q[K * K];
    gpmc_moments mom[K * K];
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t a = 0; a < sizeof ts / sizeof *ts; a++) {
        gpmc_rng_seek(r, SEED, 2, a, 0);
        make_pair(r, K, ts[a], xh, zh, y);
        if (ts[a] == 0 || ts[a] == PI) /* exact pairs, not rounded cos/sin constructions */
            for (size_t i = 0; i < K; i++)
                y[i] = (ts[a] == 0 ? 2 : -2) * xh[i];
        gpmc_theory_Q(xh, y, K, 1.0, Q);
        for (size_t e = 0; e < K * K; e++)
            gpmc_moments_init(&mom[e]);
        for (int t = 0; t < T; t++) {
            gpmc_rng_gaussian(r, 1 / sqrt((double)N), W, N * K);
            memset(S, 0, sizeof S);
            for (int i = 0; i < N; i++) {
                const double *w = W + i * K;
                if (dot(w, xh, K) > 0 && dot(w, y, K) > 0)
                    for (int p = 0; p < K; p++)
                        for (int q = 0; q < K; q++)
                            S[p * K + q] += w[p] * w[q];
            }
            for (size_t e = 0; e < K * K; e++)
                gpmc_moments_add(&mom[e], S[e]);
        }
        double worst = 0, worst_se = 0, sin_term = 0, max_se = 0;
        for (size_t e = 0; e < K * K; e++) {
            double se = gpmc_moments_std(&mom[e]) / sqrt((double)T);
            assert_close(mom[e].mean, Q[e], NSE * se + 8 * EPS);
            if (fabs(mom[e].mean - Q[e]) > worst) {
                worst = fabs(mom[e].mean - Q[e]);
                worst_se = se;
            }
            double iso = e % (K + 1) == 0 ? (PI - ts[a]) / (2 * PI) : 0;
            if (fabs(Q[e] - iso) > sin_term)
                sin_term = fabs(Q[e] - iso);
            if (se > max_se)
                max_se = se;
        }
        print_message("Q MC: theta = %.4f, max |mean - Q| = %.2e (%.2f SE), sin term %.3f\n",
                      ts[a], worst, worst_se > 0 ? worst / worst_se : 0.0, sin_term);
        /* The test has power: away from 0 and pi, dropping the sin(theta) M term of Q
         * would move some entry by far more than the tolerance. */
        if (ts[a] > 0.1 && ts[a] < 3)
            assert_true(sin_term > 4 * NSE * max_se);
    }
    gpmc_rng_free(r);
}

/* --- g -------------------------------------------------------------------------------- */

/* g(0) = 0, g(pi) = pi/2, 0 <= g(t) <= t, g increasing, and near 0 the series
 * g(t) = t - t^2/(3 pi) - t^3/(18 pi^2) + R with |R| <= t^4/100 (the t^4 coefficient is
 * -0.00767, computed with mpmath): at t = 1e-6 this pins g to 8 EPS relative, where the
 * arccos form would have lost half the digits. */
static void test_g_exact_values_and_small_angles(void **state)
{
    (void)state;
    assert_true(gpmc_theory_g(0) == 0);
    assert_close(gpmc_theory_g(PI), PI / 2, 4 * EPS);
    const double ts[] = {1e-9, 1e-6, 1e-4, 1e-2};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        double t = ts[i], s = t - t * t / (3 * PI) - t * t * t / (18 * PI * PI);
        assert_close(gpmc_theory_g(t), s, pow(t, 4) / 100 + 8 * EPS * t);
    }
    double prev = 0;
    for (int i = 1; i <= 1000; i++) {
        double t = PI * i / 1000, g = gpmc_theory_g(t);
        assert_true(g > prev && g <= t);
        /* the textbook formula, accurate away from t = 0 */
        assert_close(g, acos(((PI - t) * cos(t) + sin(t)) / PI), 64 * EPS / sin(g));
        prev = g;
    }
}

/* g(theta) is the angle between relu(Wx) and relu(Wy) for W with N(0, 1/n) entries, as
 * n grows. Each trial's angle is one sample, a smooth function of row averages, so its
 * bias is second order in the per-trial fluctuation, O(sd^2), while the tolerance is
 * 5 SE = 5 sd/sqrt(T): the test checks that sd^2 < SE/10, so the bias cannot use up the
 * tolerance. Exact pairs (y = 2x and y = -2x) give exactly 0 and orthogonal outputs, so
 * those samples have no spread and get 8 EPS pi. */
static void test_g_is_the_angle_after_one_relu_layer(void **state)
{
    (void)state;
    enum { K = 4, N = 20000, T = 40 };
    const double ts[] = {0.0, 0.3, 1.0, 2.0, 3.0, PI};
    double xh[K], zh[K], y[K];
    double *W = malloc(N * K * sizeof *W), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    assert_non_null(W);
    assert_non_null(a);
    assert_non_null(b);
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t s = 0; s < sizeof ts / sizeof *ts; s++) {
        gpmc_rng_seek(r, SEED, 3, s, 0);
        make_pair(r, K, ts[s], xh, zh, y);
        if (ts[s] == 0 || ts[s] == PI)
            for (size_t i = 0; i < K; i++)
                y[i] = (ts[s] == 0 ? 2 : -2) * xh[i];
        gpmc_moments m;
        gpmc_moments_init(&m);
        for (int t = 0; t < T; t++) {
            gpmc_rng_gaussian(r, 1 / sqrt((double)N), W, N * K);
            for (int i = 0; i < N; i++) {
                a[i] = fmax(dot(W + i * K, xh, K), 0);
                b[i] = fmax(dot(W + i * K, y, K), 0);
            }
            gpmc_moments_add(&m, gpmc_angle(a, b, N));
        }
        double se = gpmc_moments_std(&m) / sqrt((double)T), g = gpmc_theory_g(ts[s]);
        print_message("g MC: theta = %.4f, g = %.5f, mean angle = %.5f, SE = %.1e\n", ts[s],
                      g, m.mean, se);
        assert_close(m.mean, g, NSE * se + 8 * EPS * PI);
        assert_true(gpmc_moments_var(&m) <= 0.1 * se);
    }
    gpmc_rng_free(r);
    free(W);
    free(a);
    free(b);
}

/* --- rho_d ---------------------------------------------------------------------------- */

/* Hand values: rho_1 = 0 (theta_0 = pi), rho_2 = 1/pi (theta_1 = g(pi) = pi/2),
 * rho_3 = (1 - arccos(1/pi)/pi)/pi + sqrt(1 - 1/pi^2)/pi (theta_2 = arccos(1/pi)). */
static void test_rho_hand_values(void **state)
{
    (void)state;
    assert_close(gpmc_theory_rho(1), 0.0, EPS);
    assert_close(gpmc_theory_rho(2), 1 / PI, 4 * EPS);
    double t2 = acos(1 / PI);
    assert_close(gpmc_theory_rho(3), (1 - t2 / PI) / PI + sqrt(1 - 1 / (PI * PI)) / PI,
                 16 * EPS);
}

/* rho_d from its definition, computed independently: the angles by the textbook arccos
 * form of g, the sum of explicit products. The arccos form carries an absolute error of
 * ~EPS/sin(theta) per step, which the recursion (|g'| <= 1) accumulates to at most
 * d EPS / sin(theta_d); rho is a sum of d terms each Lipschitz in every angle with
 * constant <= d/pi, hence the d^2 EPS / sin(theta_d) tolerance. */
static void test_rho_matches_its_definition(void **state)
{
    (void)state;
    enum { D = 60 };
    double th[D];
    for (int d = 1; d <= D; d++) {
        th[0] = PI;
        for (int i = 1; i < d; i++) {
            double t = th[i - 1];
            th[i] = acos(((PI - t) * cos(t) + sin(t)) / PI);
        }
        double rho = 0;
        for (int i = 0; i < d; i++) {
            double p = sin(th[i]) / PI;
            for (int j = i + 1; j < d; j++)
                p *= (PI - th[j]) / PI;
            rho += p;
        }
        double tol = 8.0 * d * d * EPS / sin(th[d - 1] > 0.5 ? 0.5 : th[d - 1]);
        assert_close(gpmc_theory_rho(d), rho, tol);
    }
}

/* rho_d increases with d and stays below 1, so it converges; the limit is 1: by
 * d = 1e5 fewer than 1e-8 remain. */
static void test_rho_increases_to_one(void **state)
{
    (void)state;
    double prev = gpmc_theory_rho(1);
    for (int d = 2; d <= 2000; d++) {
        double rho = gpmc_theory_rho(d);
        assert_true(rho > prev && rho < 1);
        prev = rho;
    }
    double far = gpmc_theory_rho(100000);
    print_message("rho: rho_2000 = 1 - %.3e, rho_1e5 = 1 - %.3e\n", 1 - prev, 1 - far);
    assert_true(far > prev && 1 - far < 1e-8);
}

/* --- h_{x,x0} ------------------------------------------------------------------------- */

/* h vanishes at x = x0 and at x = -rho_d x0. At -rho_d x0 the computed angle is pi up to
 * a rounding, which enters P_0 and S at O(EPS) and each of the d steps adds a few
 * roundings: 2^d |h| <= 16 d EPS |x0|. */
static void test_h_vanishes_at_x0_and_minus_rho_x0(void **state)
{
    (void)state;
    enum { K = 5 };
    double x0[K], x[K], h[K];
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 4, 0, 0);
    for (int d = 1; d <= 12; d++) {
        gpmc_rng_gaussian(r, 1.0, x0, K);
        double n0 = norm(x0, K), rho = gpmc_theory_rho(d);
        gpmc_theory_h(x0, x0, K, d, h);
        assert_close(ldexp(norm(h, K), d), 0.0, 16 * d * EPS * n0);
        for (int i = 0; i < K; i++)
            x[i] = -rho * x0[i];
        gpmc_theory_h(x, x0, K, d, h);
        assert_close(ldexp(norm(h, K), d), 0.0, 16 * d * EPS * n0);
    }
    gpmc_rng_free(r);
}

/* For d = 1 the expectation of the gradient is known exactly from Q:
 * E[W_{+,x}^T (W_{+,x} x - W_{+,x0} x0)] = Q_{x,x} x - Q_{x,x0} x0 = x/2 - Q_{x,x0} x0,
 * an independent route to h (M x0 = |x0| x^ turns the sin term into MATH.md's). */
static void test_h_one_layer_equals_the_Q_expression(void **state)
{
    (void)state;
    enum { K = 6 };
    double x0[K], x[K], h[K], Q[K * K], Qx0[K];
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 5, 0, 0);
    for (int rep = 0; rep < 20; rep++) {
        gpmc_rng_gaussian(r, 1.0, x0, K);
        gpmc_rng_gaussian(r, 1.0, x, K);
        gpmc_theory_h(x, x0, K, 1, h);
        gpmc_theory_Q(x, x0, K, 1.0, Q);
        matvec(Q, x0, K, Qx0);
        double sc = fmax(norm(x, K), norm(x0, K));
        for (int i = 0; i < K; i++)
            assert_close(h[i], 0.5 * x[i] - Qx0[i], 16 * K * EPS * sc);
    }
    gpmc_rng_free(r);
}

/* Concentration of the gradient: for a d-layer network with N(0, 1/n_i) weights,
 * v_{x,x0} = Lambda_{d,x}^T (Lambda_{d,x} x - Lambda_{d,x0} x0) approaches h_{x,x0}, and
 * D = 2^d |v - h| / max(|x|, |x0|) falls as the widths grow (the WDC's concentration,
 * of order n^{-1/2}). The statement tested: the mean of D over R draws at width 800 is
 * below its mean at width 50 by more than 5 standard errors of the difference. */
static double concentration(size_t n, int draws, double *se)
{
    enum { K = 10, D = 2 };
    size_t width[D + 1] = {K, n, n};
    gpmc_net *net = gpmc_net_alloc(D, width);
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 2);
    assert_non_null(net);
    assert_non_null(tr);
    double xs[2 * K], u[800], v[K], h[K], scratch[800];
    assert_true(n <= 800);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_moments m;
    gpmc_moments_init(&m);
    for (int t = 0; t < draws; t++) {
        gpmc_rng_seek(r, SEED, 6 + n, (uint64_t)t, 0);
        gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
        gpmc_rng_gaussian(r, 1.0, xs, 2 * K); /* row 0: x, row 1: x0 */
        gpmc_net_forward(net, xs, 2, tr);
        for (size_t i = 0; i < n; i++)
            u[i] = tr->act[D][i] - tr->act[D][n + i];
        gpmc_net_lambda_t(net, tr, 0, D, u, v, scratch);
        gpmc_theory_h(xs, xs + K, K, D, h);
        for (int i = 0; i < K; i++)
            v[i] -= h[i];
        gpmc_moments_add(&m, ldexp(norm(v, K), D) / fmax(norm(xs, K), norm(xs + K, K)));
    }
    gpmc_rng_free(r);
    gpmc_net_trace_free(tr);
    gpmc_net_free(net);
    *se = gpmc_moments_std(&m) / sqrt((double)draws);
    return m.mean;
}

static void test_h_is_the_concentrated_gradient(void **state)
{
    (void)state;
    enum { R = 30 };
    double se_small, se_wide;
    double small = concentration(50, R, &se_small), wide = concentration(800, R, &se_wide);
    print_message("concentration 2^d|v-h|/max|x|: n=50: %.4f +- %.4f, n=800: %.4f +- %.4f, "
                  "ratio %.3f (n^-1/2 predicts %.3f)\n",
                  small, se_small, wide, se_wide, wide / small, sqrt(50.0 / 800.0));
    assert_true(small - wide > NSE * sqrt(se_small * se_small + se_wide * se_wide));
}

/* --- alpha of truncated rows ---------------------------------------------------------- */

/* Closed forms for small k, independent of the chi-square CDF: for k = 1,
 * E[w^2 1{|w| <= 3}] = erf(3/sqrt 2) - 6 phi(3); for k = 2, P(chi2_4 <= 18) = 1 - 10 e^-9.
 * Tolerances from GSL's own error estimate of the incomplete gamma function. */
static void test_alpha_closed_forms(void **state)
{
    (void)state;
    gsl_sf_result P, E;
    assert_int_equal(gsl_sf_gamma_inc_P_e(1.5, 4.5, &P), 0);
    assert_int_equal(gsl_sf_erf_e(3 / sqrt(2.0), &E), 0);
    double phi3 = exp(-4.5) / sqrt(2 * PI);
    assert_close(gpmc_theory_alpha_truncated(1), E.val - 6 * phi3,
                 4 * (P.err + E.err) + 8 * EPS);
    assert_int_equal(gsl_sf_gamma_inc_P_e(2.0, 9.0, &P), 0);
    assert_close(gpmc_theory_alpha_truncated(2), 1 - 10 * exp(-9.0), 4 * P.err + 8 * EPS);
}

/* E[sum_i 1{|w_i| <= 3 sqrt(k/n)} w_i w_i^T] = alpha I for n rows w_i ~ N(0, I_k/n):
 * the trace / k of each trial's sum is a sample; the mean is within 5 SE of alpha and
 * the off-diagonal entry's mean within 5 SE of 0. For k = 1 the truncation removes 2.9%
 * of the mass, which the test resolves (|mean - 1| > 5 SE). */
static void test_alpha_is_the_truncated_second_moment(void **state)
{
    (void)state;
    enum { N = 25, T = 40000 };
    double W[N * 3];
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t k = 1; k <= 3; k++) {
        gpmc_rng_seek(r, SEED, 7, k, 0);
        gpmc_moments diag, off;
        gpmc_moments_init(&diag);
        gpmc_moments_init(&off);
        double sigma = 1 / sqrt((double)N), radius = 3 * sqrt((double)k / N);
        for (int t = 0; t < T; t++) {
            gpmc_rng_truncated_rows(r, sigma, radius, N, k, W);
            double tr = 0, o = 0;
            for (size_t i = 0; i < N; i++) {
                for (size_t p = 0; p < k; p++)
                    tr += W[i * k + p] * W[i * k + p];
                if (k > 1)
                    o += W[i * k] * W[i * k + 1];
            }
            gpmc_moments_add(&diag, tr / (double)k);
            gpmc_moments_add(&off, o);
        }
        double se = gpmc_moments_std(&diag) / sqrt((double)T), alpha =
            gpmc_theory_alpha_truncated(k);
        print_message("alpha MC: k = %zu, alpha = %.5f, mean = %.5f, SE = %.1e\n", k, alpha,
                      diag.mean, se);
        assert_close(diag.mean, alpha, NSE * se);
        if (k > 1)
            assert_close(off.mean, 0.0, NSE * gpmc_moments_std(&off) / sqrt((double)T));
        if (k == 1)
            assert_true(fabs(diag.mean - 1) > NSE * se);
    }
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_angle_is_relatively_accurate),
        cmocka_unit_test(test_M_swaps_the_pair_and_kills_the_complement),
        cmocka_unit_test(test_M_limits_at_0_and_pi),
        cmocka_unit_test(test_Q_on_the_diagonal_and_antipodes),
        cmocka_unit_test(test_Q_is_the_expectation_of_the_active_gram),
        cmocka_unit_test(test_g_exact_values_and_small_angles),
        cmocka_unit_test(test_g_is_the_angle_after_one_relu_layer),
        cmocka_unit_test(test_rho_hand_values),
        cmocka_unit_test(test_rho_matches_its_definition),
        cmocka_unit_test(test_rho_increases_to_one),
        cmocka_unit_test(test_h_vanishes_at_x0_and_minus_rho_x0),
        cmocka_unit_test(test_h_one_layer_equals_the_Q_expression),
        cmocka_unit_test(test_h_is_the_concentrated_gradient),
        cmocka_unit_test(test_alpha_closed_forms),
        cmocka_unit_test(test_alpha_is_the_truncated_second_moment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
