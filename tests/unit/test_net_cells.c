/* The latent-space boundaries of a ReLU network's pieces (net_cells.h): at x, the normal
 * of unit i of layer l is nu = Lambda_{l-1,x}^T w_{l,i}, so nu.x is the unit's
 * pre-activation (w_{l,i}.G_{l-1}(x), by G_{l-1}(x) = Lambda_{l-1,x} x), and moving x just
 * across that hyperplane, along nu, flips that unit and no other when the step is smaller
 * than the distance to every other boundary. A plausible wrong variant, the normals after
 * masking (Lambda_{l,x}^T w_{l,i} style: the inactive units' columns zeroed), is rejected:
 * it gives nu.x = 0 for every inactive unit while its pre-activation is negative.
 * Tolerance: nu.x and the pre-activation are the same sums in different orders, within
 * 2 gamma_m |nu_abs|.|x| (m the widths crossed); asserted as 1e-12 here, where every
 * |Lambda| entry is O(1) and m <= 100 (gamma_m |.| ~ 1e-14). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/net.h"
#include "gpmc/net_cells.h"
#include "gpmc/rng.h"

#include <math.h>
#include <stdlib.h>

enum { D = 3, K = 4 };
static const size_t WIDTH[D + 1] = {K, 12, 30, 9};

static void test_normals_are_the_pieces_boundaries(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_net *net = gpmc_net_alloc(D, WIDTH);
    assert_non_null(net);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_net_cells *c = gpmc_net_cells_alloc(net);
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 1);
    assert_non_null(c);
    assert_non_null(tr);
    size_t nmax = gpmc_net_cells_max(WIDTH, D);
    assert_int_equal(nmax, 12 + 30 + 9);
    double *nu = malloc(nmax * (K + 1) * sizeof *nu), x[K], pre[30];
    int inactive_seen = 0;
    for (int rep = 0; rep < 20; rep++) {
        gpmc_rng_unit_vector(r, x, K);
        size_t count = 0;
        gpmc_net_cells_set_layers(c, D);
        assert_int_equal(gpmc_net_cells_normals(c, x, nu, &count), 0);
        assert_int_equal(count, nmax);
        gpmc_net_forward(net, x, 1, tr);
        size_t row = 0;
        for (size_t l = 1; l <= D; l++) {
            size_t w = WIDTH[l], in = WIDTH[l - 1];
            for (size_t i = 0; i < w; i++) { /* the pre-activation from the trace */
                pre[i] = 0;
                for (size_t a = 0; a < in; a++)
                    pre[i] += net->W[l - 1][i * in + a] * tr->act[l - 1][a];
            }
            for (size_t i = 0; i < w; i++, row++) {
                double nx = dot(nu + row * K, x, K);
                assert_true(fabs(nx - pre[i]) <= 1e-12);
                inactive_seen += pre[i] < -1e-3; /* where the masked variant gives 0 */
            }
        }
        /* Crossing the nearest boundary flips exactly that unit. */
        size_t best = 0;
        double bd = INFINITY;
        for (size_t i = 0; i < count; i++) {
            double d = fabs(dot(nu + i * K, x, K)) / norm(nu + i * K, K);
            if (d < bd)
                bd = d, best = i;
        }
        const double *v = nu + best * K;
        double a = dot(v, x, K), wn = dot(v, v, K), step = (-copysign(1e-9, a) * sqrt(wn) - a) / wn;
        double x2[K];
        for (size_t q = 0; q < K; q++)
            x2[q] = x[q] + step * v[q];
        double *nu2 = malloc(nmax * K * sizeof *nu2);
        gpmc_net_cells_normals(c, x2, nu2, &count);
        for (size_t i = 0; i < count; i++) {
            double before = dot(nu + i * K, x, K), after = dot(nu2 + i * K, x2, K);
            if (i == best)
                assert_true(before * after < 0);
            else
                assert_true(before * after > 0);
        }
        /* The first layers only, and the lifted rows (rric's): the same normals, zeros
         * past k (nu2 still holds the stride-K normals at x2). */
        gpmc_net_cells_set_layers(c, 2);
        gpmc_net_cells_set_stride(c, K + 1);
        assert_int_equal(gpmc_net_cells_normals(c, x2, nu, &count), 0);
        assert_int_equal(count, 12 + 30);
        for (size_t i = 0; i < count; i++) {
            assert_true(nu[i * (K + 1) + K] == 0);
            for (size_t q = 0; q < K; q++)
                assert_true(nu[i * (K + 1) + q] == nu2[i * K + q]);
        }
        free(nu2);
        gpmc_net_cells_set_stride(c, K);
    }
    assert_true(inactive_seen > 50); /* the masked variant would have failed there */
    free(nu);
    gpmc_net_trace_free(tr);
    gpmc_net_cells_free(c);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normals_are_the_pieces_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
