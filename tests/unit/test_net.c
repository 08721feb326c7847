/* ReLU networks: the batched forward pass, the piecewise-linear structure G_j(x) =
 * Lambda_{j,x} x, the adjoint pair Lambda / Lambda^T, positive homogeneity and the weight
 * distributions.
 *
 * Floating-point tolerances follow the standard bound for a length-m dot product,
 * |fl(a.b) - a.b| <= gamma_m |a|.|b| with gamma_m = m EPS/(1 - m EPS). Through the layers
 * (with the activation pattern of the trace held fixed) the errors add up along every
 * path, so a product with Lambda_{j,x} computed two ways differs by at most
 * 2 gamma_m |Lambda_{j,x}| |v| with m the sum of the widths crossed; |Lambda| |v| is
 * itself computed with gpmc_net_lambda on the entrywise absolute value of the network. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include "gpmc/error.h"
#include "gpmc/net.h"
#include "gpmc/rng.h"
#include "gpmc/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS DBL_EPSILON
#define NSE 5.0
#define SEED UINT64_C(0x4e7)


static double gamma_m(size_t m) { return (double)m * EPS / (1 - (double)m * EPS); }

enum { D = 4, K = 6, B = 7, WMAX = 70 };
/* An intermediate layer narrower than those around it: `out` of a Lambda product may be
 * smaller than the layers before it. */
static const size_t WIDTH[D + 1] = {K, 50, WMAX, 3, 40};

typedef struct {
    gpmc_net *net, *abs; /* the network and its entrywise absolute value */
    gpmc_net_trace *tr;
    gsl_rng *r;
    double x[B * K];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->net = gpmc_net_alloc(D, WIDTH);
    f->abs = gpmc_net_alloc(D, WIDTH);
    f->tr = gpmc_net_trace_alloc(f->net, B);
    f->r = gpmc_rng_alloc();
    if (!f->net || !f->abs || !f->tr || !f->r)
        return -1;
    gpmc_rng_seek(f->r, SEED, 1, 0, 0);
    gpmc_net_sample(f->net, f->r, GPMC_WEIGHTS_GAUSSIAN);
    for (size_t i = 0; i < D; i++)
        for (size_t e = 0; e < WIDTH[i + 1] * WIDTH[i]; e++)
            f->abs->W[i][e] = fabs(f->net->W[i][e]);
    gpmc_rng_gaussian(f->r, 1.0, f->x, B * K);
    gpmc_net_forward(f->net, f->x, B, f->tr);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gpmc_net_free(f->net);
    gpmc_net_free(f->abs);
    gpmc_net_trace_free(f->tr);
    gpmc_rng_free(f->r);
    free(f);
    return 0;
}

static size_t widths_before(size_t j)
{
    size_t m = 0;
    for (size_t i = 0; i < j; i++)
        m += WIDTH[i];
    return m;
}

/* The batched forward pass (one GEMM per layer) equals the textbook loop
 * relu(sum_l W_il a_l) layer by layer, given the same input to the layer; both are within
 * gamma_n sum_l |W_il||a_l| of the exact value and relu is 1-Lipschitz. */
static void test_forward_equals_the_naive_loop(void **state)
{
    fixture *f = *state;
    for (size_t e = 0; e < B * K; e++)
        assert_true(f->tr->act[0][e] == f->x[e]);
    for (size_t j = 1; j <= D; j++) {
        size_t rows = WIDTH[j], cols = WIDTH[j - 1];
        const double *W = f->net->W[j - 1];
        for (size_t b = 0; b < B; b++) {
            const double *a = f->tr->act[j - 1] + b * cols;
            for (size_t i = 0; i < rows; i++) {
                double z = 0, za = 0;
                for (size_t l = 0; l < cols; l++) {
                    z += W[i * cols + l] * a[l];
                    za += fabs(W[i * cols + l] * a[l]);
                }
                assert_close(f->tr->act[j][b * rows + i], fmax(z, 0), 2 * gamma_m(cols) * za);
            }
        }
    }
}

/* A batch of b < capacity rows fills the first b rows, and every row is the network of
 * that row alone (a batch of one), within the same rounding bound. */
static void test_partial_batch_matches_single_rows(void **state)
{
    fixture *f = *state;
    gpmc_net_trace *one = gpmc_net_trace_alloc(f->net, 1);
    double bound[WMAX], scratch[WMAX], ax[K];
    assert_non_null(one);
    gpmc_net_forward(f->net, f->x, 3, f->tr);
    for (size_t b = 0; b < 3; b++) {
        gpmc_net_forward(f->net, f->x + b * K, 1, one);
        for (size_t i = 0; i < K; i++)
            ax[i] = fabs(f->x[b * K + i]);
        gpmc_net_lambda(f->abs, f->tr, b, D, ax, bound, scratch);
        for (size_t i = 0; i < WIDTH[D]; i++)
            assert_close(f->tr->act[D][b * WIDTH[D] + i], one->act[D][i],
                         2 * gamma_m(widths_before(D)) * bound[i]);
    }
    gpmc_net_forward(f->net, f->x, B, f->tr);
    gpmc_net_trace_free(one);
}

/* G is piecewise linear: G_j(x) = Lambda_{j,x} x for every j = 0..d and every row. */
static void test_G_is_Lambda_times_x(void **state)
{
    fixture *f = *state;
    double out[WMAX], bound[WMAX], scratch[WMAX], ax[K];
    for (size_t b = 0; b < B; b++) {
        const double *x = f->x + b * K;
        for (size_t i = 0; i < K; i++)
            ax[i] = fabs(x[i]);
        for (size_t j = 0; j <= D; j++) {
            gpmc_net_lambda(f->net, f->tr, b, j, x, out, scratch);
            gpmc_net_lambda(f->abs, f->tr, b, j, ax, bound, scratch);
            double g = 2 * gamma_m(widths_before(j));
            for (size_t i = 0; i < WIDTH[j]; i++)
                assert_close(out[i], f->tr->act[j][b * WIDTH[j] + i], g * bound[i]);
        }
    }
}

/* Lambda^T is the adjoint of Lambda: <Lambda u, w> = <u, Lambda^T w> for random u, w.
 * Both sides approximate w^T Lambda u along the same paths, so they agree within
 * 2 gamma_m <|w|, |Lambda| |u|>, m = the sum of all widths crossed (dot product included). */
static void test_Lambda_T_is_the_adjoint(void **state)
{
    fixture *f = *state;
    double u[K], au[K], w[WMAX], lu[WMAX], bound[WMAX], ltw[K], scratch[WMAX];
    size_t live[D + 1] = {0};
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j <= D; j++) {
            size_t n = WIDTH[j];
            gpmc_rng_gaussian(f->r, 1.0, u, K);
            gpmc_rng_gaussian(f->r, 1.0, w, n);
            for (size_t i = 0; i < K; i++)
                au[i] = fabs(u[i]);
            gpmc_net_lambda(f->net, f->tr, b, j, u, lu, scratch);
            gpmc_net_lambda_t(f->net, f->tr, b, j, w, ltw, scratch);
            gpmc_net_lambda(f->abs, f->tr, b, j, au, bound, scratch);
            double lhs = 0, rhs = 0, scale = 0;
            for (size_t i = 0; i < n; i++) {
                lhs += lu[i] * w[i];
                scale += bound[i] * fabs(w[i]);
            }
            for (size_t i = 0; i < K; i++)
                rhs += u[i] * ltw[i];
            assert_close(lhs, rhs, 2 * gamma_m(widths_before(j + 1)) * scale);
            live[j] += scale > 0;
        }
    /* A row whose narrow layer is all inactive has Lambda = 0 and both sides exactly 0;
     * every depth must also be checked on rows where Lambda is not 0. */
    for (size_t j = 0; j <= D; j++)
        assert_true(live[j] > 0);
}

/* G(c x) = c G(x) for c > 0. Scaling by a power of two commutes with every rounding
 * (no overflow or underflow here), so for c = 4 and 1/4 the equality is exact; for
 * c = 3.7 both sides are within gamma_m c |Lambda||x| of the exact value, plus one
 * rounding for forming c x and one for c G(x). */
static void test_G_is_positively_homogeneous(void **state)
{
    fixture *f = *state;
    gpmc_net_trace *tc = gpmc_net_trace_alloc(f->net, B);
    assert_non_null(tc);
    double cx[B * K], bound[WMAX], scratch[WMAX], ax[K];
    const double cs[] = {4.0, 0.25, 3.7};
    const size_t n = WIDTH[D];
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        for (size_t e = 0; e < B * K; e++)
            cx[e] = cs[c] * f->x[e];
        gpmc_net_forward(f->net, cx, B, tc);
        for (size_t b = 0; b < B; b++) {
            for (size_t i = 0; i < K; i++)
                ax[i] = fabs(f->x[b * K + i]);
            gpmc_net_lambda(f->abs, f->tr, b, D, ax, bound, scratch);
            for (size_t i = 0; i < n; i++) {
                double lhs = tc->act[D][b * n + i], rhs = cs[c] * f->tr->act[D][b * n + i];
                if (c < 2)
                    assert_true(lhs == rhs);
                else
                    assert_close(lhs, rhs,
                                 (2 * gamma_m(widths_before(D)) + 2 * EPS) * cs[c] * bound[i]);
            }
        }
    }
    gpmc_net_trace_free(tc);
}

/* Lambda_{0,x} is the identity, both ways. */
static void test_Lambda_0_is_the_identity(void **state)
{
    fixture *f = *state;
    double v[K] = {1, -2, 3, -4, 5, -6}, out[K], scratch[WMAX];
    gpmc_net_lambda(f->net, f->tr, 0, 0, v, out, scratch);
    assert_memory_equal(out, v, sizeof v);
    gpmc_net_lambda_t(f->net, f->tr, 0, 0, v, out, scratch);
    assert_memory_equal(out, v, sizeof v);
}

/* Gaussian weights of a layer with `rows` rows have mean 0 and variance 1/rows: the
 * mean of the entries and of their squares within 5 standard errors (estimated from the
 * entries). The same stream position gives the same weights. */
static void test_gaussian_weights_have_variance_one_over_rows(void **state)
{
    (void)state;
    const size_t width[3] = {300, 200, 500};
    gpmc_net *net = gpmc_net_alloc(2, width), *again = gpmc_net_alloc(2, width);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(net);
    assert_non_null(again);
    gpmc_rng_seek(r, SEED, 2, 0, 0);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_rng_seek(r, SEED, 2, 0, 0);
    gpmc_net_sample(again, r, GPMC_WEIGHTS_GAUSSIAN);
    for (size_t i = 0; i < 2; i++) {
        size_t rows = width[i + 1], len = rows * width[i];
        assert_memory_equal(net->W[i], again->W[i], len * sizeof **net->W);
        gpmc_moments m, sq;
        gpmc_moments_init(&m);
        gpmc_moments_init(&sq);
        for (size_t e = 0; e < len; e++) {
            gpmc_moments_add(&m, net->W[i][e]);
            gpmc_moments_add(&sq, net->W[i][e] * net->W[i][e]);
        }
        double sqrt_n = sqrt((double)len);
        assert_close(m.mean, 0.0, NSE * gpmc_moments_std(&m) / sqrt_n);
        assert_close(sq.mean, 1.0 / (double)rows, NSE * gpmc_moments_std(&sq) / sqrt_n);
    }
    gpmc_rng_free(r);
    gpmc_net_free(net);
    gpmc_net_free(again);
}

/* Truncated rows: w 1{|w| <= 3 sqrt(cols/rows)}, w ~ N(0, I/rows). Every row is either
 * exactly zero or within the radius, and the fraction of zero rows is
 * P(chi2_cols > 9 cols) (= P(|z| > 3) = 0.0027 for one column), within 5 binomial
 * standard errors; with 40000 rows that fraction is resolved from 0 by 10 SE. */
static void test_truncated_rows_are_cut_at_three_typical_norms(void **state)
{
    (void)state;
    enum { ROWS = 40000 };
    const size_t width[2] = {1, ROWS};
    gpmc_net *net = gpmc_net_alloc(1, width);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(net);
    gpmc_rng_seek(r, SEED, 3, 0, 0);
    gpmc_net_sample(net, r, GPMC_WEIGHTS_TRUNCATED);
    double radius = 3 * sqrt(1.0 / ROWS), p = erfc(3 / sqrt(2.0));
    size_t zero = 0;
    for (size_t i = 0; i < ROWS; i++) {
        double w = net->W[0][i];
        if (w == 0)
            zero++;
        else
            assert_true(fabs(w) <= radius);
    }
    double frac = (double)zero / ROWS, se = sqrt(p * (1 - p) / ROWS);
    print_message("truncated rows: zero fraction %.5f, P(|z| > 3) = %.5f, SE %.1e\n", frac, p,
                  se);
    assert_close(frac, p, NSE * se);
    gpmc_rng_free(r);
    gpmc_net_free(net);
}

static void test_alloc_rejects_empty_shapes(void **state)
{
    (void)state;
    const size_t bad[3] = {4, 0, 3};
    assert_null(gpmc_net_alloc(2, bad));
    assert_non_null(strstr(gpmc_error_message(), "width[1]"));
    assert_null(gpmc_net_alloc(0, bad));
    gpmc_net_free(NULL);
    gpmc_net_trace_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward_equals_the_naive_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_batch_matches_single_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_G_is_Lambda_times_x, setup, teardown),
        cmocka_unit_test_setup_teardown(test_Lambda_T_is_the_adjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_G_is_positively_homogeneous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_Lambda_0_is_the_identity, setup, teardown),
        cmocka_unit_test(test_gaussian_weights_have_variance_one_over_rows),
        cmocka_unit_test(test_truncated_rows_are_cut_at_three_typical_norms),
        cmocka_unit_test(test_alloc_rejects_empty_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
