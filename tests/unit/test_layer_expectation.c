/* E[W_{j,+,a}^T W_{j,+,b}] = Q_{a,b} at every layer j of a ReLU network, with a = G_{j-1}(x),
 * b = G_{j-1}(y) the layer's inputs (MATH.md: the WDC and R2WDC of W_j compare against
 * Q at the layer inputs, not at the latent x, y).
 *
 * A 3-layer network R^K -> R^N1 -> R^N2 -> R^N3 is sampled once; for j = 1, 2, 3 its first
 * j - 1 layers stay fixed (they give a, b) and W_j (N(0, 1/n_j) entries, gpmc_net_sample
 * on a one-layer net of widths n_{j-1} -> n_j) is drawn S times. Rows i with w_i.a > 0 and
 * w_i.b > 0 contribute w_i w_i^T; each contributes Q_{a,b} / n_j in expectation, so the sum
 * over the n_j rows has mean Q_{a,b}.
 *
 * Tolerance: every entry's sample mean is within Z standard errors (estimated from the S
 * draws) of Q. With S = 20000 the mean is normal to good accuracy (the draws have finite
 * fourth moments) and the SE is estimated to ~1%; the entries are not independent, so a
 * union (Bonferroni) bound over all E = K^2 + N1^2 + N2^2 = 260 entries gives a false-failure
 * probability <= E * 2 (1 - Phi(5)) = 260 * 5.7e-7 = 1.5e-4. Rounding is negligible: each
 * entry sums n_j <= 12 products (relative 1e-15 against SEs of ~1e-3).
 *
 * Wrong variants, each asserted to fail the same test (some entry beyond Z SE) at j >= 2:
 *  - the angle not iterated: (pi - t)/(2 pi) I + sin(t)/(2 pi) M_{a^<->b^} with t the
 *    latent angle of x, y instead of the angle of a, b (ReLU layers shrink the angle, so
 *    t > angle(a, b));
 *  - the rows not normalised by n_j: n_j Q_{a,b} (the expectation for N(0, 1) entries).
 * (Q at the latent x, y itself is K x K, not n_{j-1} x n_{j-1}: the latent-angle variant is
 * its form at the layer's size.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/net.h"
#include "gpmc/rng.h"
#include "gpmc/theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z 5.0
#define SEED UINT64_C(0x1a7e)
#define PI 3.14159265358979323846 /* M_PI is XSI, not C11 */

enum { D = 3, K = 4, S = 20000, WMAX = 12 };
static const size_t WIDTH[D + 1] = {K, 12, 10, 9};

/* Per-entry sample mean and standard error of W_+a^T W_+b over S draws of a layer
 * n_in -> n_out. mean, se: n_in x n_in. */
static void layer_gram_moments(const double *a, const double *b, size_t n_in, size_t n_out,
                               uint64_t stream, double *mean, double *se)
{
    const size_t w[2] = {n_in, n_out};
    gpmc_net *layer = gpmc_net_alloc(1, w);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(layer);
    assert_non_null(r);
    double *s1 = calloc(n_in * n_in, sizeof *s1), *s2 = calloc(n_in * n_in, sizeof *s2);
    double *g = malloc(n_in * n_in * sizeof *g);
    assert_true(s1 && s2 && g);
    for (size_t t = 0; t < S; t++) {
        gpmc_rng_seek(r, SEED, stream, t, 0);
        gpmc_net_sample(layer, r, GPMC_WEIGHTS_GAUSSIAN);
        memset(g, 0, n_in * n_in * sizeof *g);
        for (size_t i = 0; i < n_out; i++) {
            const double *wi = layer->W[0] + i * n_in;
            if (!(dot(wi, a, n_in) > 0 && dot(wi, b, n_in) > 0))
                continue;
            for (size_t p = 0; p < n_in; p++)
                for (size_t q = 0; q < n_in; q++)
                    g[p * n_in + q] += wi[p] * wi[q];
        }
        for (size_t e = 0; e < n_in * n_in; e++)
            s1[e] += g[e], s2[e] += g[e] * g[e];
    }
    for (size_t e = 0; e < n_in * n_in; e++) {
        mean[e] = s1[e] / S;
        double var = (s2[e] - S * mean[e] * mean[e]) / (S - 1);
        se[e] = sqrt(fmax(var, 0) / S);
    }
    free(s1), free(s2), free(g);
    gpmc_rng_free(r);
    gpmc_net_free(layer);
}

/* max over entries of |mean - expected| / se (se > 0 checked). */
static double worst_z(const double *mean, const double *se, const double *expected, size_t n)
{
    double worst = 0;
    for (size_t e = 0; e < n * n; e++) {
        assert_true(se[e] > 0);
        double z = fabs(mean[e] - expected[e]) / se[e];
        worst = z > worst ? z : worst;
    }
    return worst;
}

static void test_mean_active_gram_is_Q_at_the_layer_inputs(void **state)
{
    (void)state;
    gpmc_net *net = gpmc_net_alloc(D, WIDTH);
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 2);
    gsl_rng *r = gpmc_rng_alloc();
    assert_true(net && tr && r);
    gpmc_rng_seek(r, SEED, 0, 0, 0);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    /* x, y at latent angle 2 rad; each layer shrinks the angle (g(2) = 1.43). */
    double xy[2 * K] = {1, 0, 0, 0, cos(2.0), sin(2.0), 0, 0};
    gpmc_net_forward(net, xy, 2, tr);
    const double theta_xy = gpmc_angle(xy, xy + K, K);

    static double mean[WMAX * WMAX], se[WMAX * WMAX], Q[WMAX * WMAX], wrong[WMAX * WMAX],
        Mab[WMAX * WMAX];
    for (size_t j = 1; j <= D; j++) {
        size_t n_in = WIDTH[j - 1], n_out = WIDTH[j];
        const double *a = tr->act[j - 1], *b = tr->act[j - 1] + n_in; /* G_{j-1}(x), (y) */
        assert_true(norm(a, n_in) > 0 && norm(b, n_in) > 0); /* the angle is defined */
        layer_gram_moments(a, b, n_in, n_out, j, mean, se);
        gpmc_theory_Q(a, b, n_in, 1.0, Q);
        double z = worst_z(mean, se, Q, n_in);
        print_message("layer %zu (%zu -> %zu): angle(a, b) = %.3f (latent %.3f), "
                      "max |mean - Q|/SE = %.2f\n",
                      j, n_in, n_out, gpmc_angle(a, b, n_in), theta_xy, z);
        assert_true(z <= Z);
        if (j == 1)
            continue; /* a, b = x, y: the variants below coincide with Q or differ trivially */

        /* Wrong: Q's coefficients at the latent angle, not the angle of a, b. */
        double theta_ab = gpmc_angle(a, b, n_in);
        assert_true(theta_xy - theta_ab > 0.3); /* the layers did shrink the angle */
        gpmc_theory_M(a, b, n_in, Mab);
        for (size_t p = 0; p < n_in; p++)
            for (size_t q = 0; q < n_in; q++)
                wrong[p * n_in + q] = ((p == q) * (PI - theta_xy) + sin(theta_xy) *
                                       Mab[p * n_in + q]) / (2 * PI);
        double zw = worst_z(mean, se, wrong, n_in);
        print_message("  latent-angle variant: max z = %.1f\n", zw);
        assert_true(zw > Z);

        /* Wrong: N(0, 1) rows, n_j Q. */
        for (size_t e = 0; e < n_in * n_in; e++)
            wrong[e] = (double)n_out * Q[e];
        zw = worst_z(mean, se, wrong, n_in);
        print_message("  n_j Q variant: max z = %.1f\n", zw);
        assert_true(zw > Z);
    }
    gpmc_rng_free(r);
    gpmc_net_trace_free(tr);
    gpmc_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_active_gram_is_Q_at_the_layer_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
