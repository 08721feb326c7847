/* Layer 2's near value over every pair of cells (include/gpmc/r2wdc_pieces.h), against the
 * R2WDC evaluator (r2wdc_eval.h) at every pair of the listed cells' points:
 *
 *  - the cells: k = 3, n_1 = 10 in general position has 2 sum_{i<3} C(9, i) = 92 cells,
 *    while gpmc_wdc_cells gives 112 points (the variant without the deduplication by mask
 *    is rejected); the listed masks are distinct, and every mask of 200000 random points
 *    is among them;
 *  - the value: pieces(x, y) equals the largest evaluator near value over all 92^2 pairs
 *    (x1, x3) = (p_c, p_c') at the same (x, y) (so the Frobenius screen skips no maximum),
 *    and the tuple of gpmc_r2wdc_pieces_tuple attains it. Two variants fall short and are
 *    rejected: x1 and x3 in one cell (c = c'), and x1, x3 in the cells of x and y. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/net.h"
#include "gpmc/r2wdc_eval.h"
#include "gpmc/r2wdc_pieces.h"
#include "gpmc/rng.h"

#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U (DBL_EPSILON / 2)
enum { K = 3, N1 = 10, N2 = 8, CELLS = 92, B = 16 };

static gpmc_net *sample_net(gsl_rng *r)
{
    size_t width[3] = {K, N1, N2};
    gpmc_net *net = gpmc_net_alloc(2, width);
    assert_non_null(net);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    return net;
}

static void mask_of(const gpmc_net *net, const double *x, unsigned char *m)
{
    for (size_t i = 0; i < N1; i++)
        m[i] = dot(net->W[0] + i * K, x, K) > 0;
}

static void test_cells(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 41, 0, 0, 0);
    gpmc_net *net = sample_net(r);
    gpmc_r2wdc_pieces *p = gpmc_r2wdc_pieces_alloc(net, 4096, B);
    assert_non_null(p);
    assert_null(gpmc_r2wdc_pieces_alloc(net, 111, B)); /* 112 points: above the cap */
    size_t n;
    assert_int_equal(gpmc_r2wdc_pieces_set(p, &n), GPMC_OK);
    assert_int_equal(gpmc_r2wdc_pieces_count(K, N1), 112);
    assert_int_equal(n, CELLS); /* not 112: a cell's second point is dropped */
    const double *pts = gpmc_r2wdc_pieces_points(p);
    unsigned char masks[CELLS][N1], m[N1];
    for (size_t c = 0; c < n; c++) {
        mask_of(net, pts + c * K, masks[c]);
        for (size_t c2 = 0; c2 < c; c2++)
            assert_memory_not_equal(masks[c], masks[c2], N1);
    }
    for (int i = 0; i < 200000; i++) {
        double x[K];
        gpmc_rng_unit_vector(r, x, K);
        mask_of(net, x, m);
        size_t c = 0;
        while (c < n && memcmp(masks[c], m, N1) != 0)
            c++;
        assert_true(c < n);
    }
    gpmc_r2wdc_pieces_free(p);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

static void test_value(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 43, 0, 0, 0);
    gpmc_net *net = sample_net(r);
    gpmc_r2wdc_pieces *p = gpmc_r2wdc_pieces_alloc(net, 4096, B);
    gpmc_r2wdc_eval *ev = gpmc_r2wdc_eval_alloc(net, B);
    assert_non_null(p);
    assert_non_null(ev);
    size_t n;
    assert_int_equal(gpmc_r2wdc_pieces_set(p, &n), GPMC_OK);
    const double *pts = gpmc_r2wdc_pieces_points(p);
    double t6[6][B * K], val[B], near[B], tup[6 * K];
    const double *t[6] = {t6[0], t6[1], t6[2], t6[3], t6[4], t6[5]};
    int short_same_cell = 0, short_own = 0;
    /* both sides form B_c^T D B_c' from O(1) matrices by sums of <= n_1 + n_2 products and
     * take a backward-stable singular value: O((n_1 + n_2) u) each (as test_r2wdc) */
    double tol = 1e3 * (N1 + N2) * U;
    for (int pair = 0; pair < 7; pair++) {
        double x[K], y[K], v;
        gpmc_rng_unit_vector(r, x, K);
        if (pair == 0)
            memcpy(y, x, sizeof y); /* the diagonal */
        else
            gpmc_rng_unit_vector(r, y, K);
        assert_int_equal(gpmc_r2wdc_pieces_eval(p, x, y, 1, &v), GPMC_OK);
        unsigned char mx[N1], my[N1], mc[N1];
        mask_of(net, x, mx);
        mask_of(net, y, my);
        double all = 0, same = 0, own = -1;
        for (size_t c = 0; c < n; c++)
            for (size_t c2 = 0; c2 < n; c2 += B) {
                size_t nb = n - c2 < B ? n - c2 : B;
                for (size_t b = 0; b < nb; b++)
                    for (size_t a = 0; a < K; a++) {
                        t6[0][b * K + a] = x[a];
                        t6[1][b * K + a] = y[a];
                        t6[2][b * K + a] = pts[c * K + a];
                        t6[3][b * K + a] = -pts[c * K + a];
                        t6[4][b * K + a] = pts[(c2 + b) * K + a];
                        t6[5][b * K + a] = -pts[(c2 + b) * K + a];
                    }
                assert_int_equal(gpmc_r2wdc_eval_tuples(ev, 2, t, nb, val, NULL, near), GPMC_OK);
                for (size_t b = 0; b < nb; b++) {
                    all = fmax(all, near[b]);
                    if (c2 + b == c)
                        same = fmax(same, near[b]);
                    mask_of(net, pts + c * K, mc);
                    int cx = !memcmp(mc, mx, N1);
                    mask_of(net, pts + (c2 + b) * K, mc);
                    if (cx && !memcmp(mc, my, N1))
                        own = near[b];
                }
            }
        assert_close(v, all, tol);
        short_same_cell += same < v - tol;
        assert_true(own >= 0); /* x's and y's cells are listed */
        short_own += own < v - tol;
        double tv, tn;
        assert_int_equal(gpmc_r2wdc_pieces_tuple(p, x, y, tup, &tv), GPMC_OK);
        assert_true(tv == v);
        const double *tt[6];
        for (size_t q = 0; q < 6; q++) {
            tt[q] = tup + q * K;
            assert_close(norm(tt[q], K), 1, 1e-15);
        }
        assert_int_equal(gpmc_r2wdc_eval_tuples(ev, 2, tt, 1, val, NULL, &tn), GPMC_OK);
        assert_close(tn, v, tol);
        print_message("pair %d: pieces %.6f, all %zu^2 cell pairs %.6f, same cell %.6f, cells "
                      "of x, y %.6f\n", pair, v, n, all, same, own);
    }
    assert_true(short_same_cell >= 1);
    assert_true(short_own >= 6);
    gpmc_r2wdc_eval_free(ev);
    gpmc_r2wdc_pieces_free(p);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_value),
    };
    return cmocka_run_group_tests_name("r2wdc_pieces", tests, NULL, NULL);
}
