/* The shared supremum search (include/gpmc/search.h) on a toy objective over triples
 * (x, y, z) in R^k whose supremum is known, independently of any condition:
 *
 *     f(x, y, z) = relu(x.c0) + relu(y.c1) + z.c2,  c_j unit vectors, sup = 3 (x = c0, ...),
 *
 * with x and y gated by the hyperplanes {c0^perp, c1^perp} (crossing one switches a term
 * on) and aimed with D = sum_j c_j c_j^T. Checked:
 *  - the best value is one the objective returned for the tuple reported (a lower bound),
 *    and the search gets close to the supremum; the budgets add up;
 *  - the tie {0, 0, 2}: the objective sees one pointer for x and y, the tied witness has
 *    y = x bitwise, and its value is at most sup over x = y (2 relu(x.c) + 1 <= 1 + 2 c);
 *  - the same stream gives the same bests, bitwise; a bad plan is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K 4

typedef struct {
    double c[3][K];  /* the targets, rows of the normals too (the first two) */
    long calls, aliased;
} toy;

static double toy_value(const toy *o, const double *x, const double *y, const double *z)
{
    double a = 0, b = 0, c = 0;
    for (size_t i = 0; i < K; i++) {
        a += x[i] * o->c[0][i];
        b += y[i] * o->c[1][i];
        c += z[i] * o->c[2][i];
    }
    return (a > 0 ? a : 0) + (b > 0 ? b : 0) + c;
}

static int toy_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    toy *o = ctx;
    o->calls++;
    o->aliased += t[1] == t[0];
    for (size_t b = 0; b < nb; b++)
        val[b] = toy_value(o, t[0] + b * K, t[1] + b * K, t[2] + b * K);
    return GPMC_OK;
}

static int toy_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    const toy *o = ctx;
    (void)slot;
    (void)t;
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            d[i * K + j] = 0;
            for (size_t c = 0; c < 3; c++)
                d[i * K + j] += o->c[c][i] * o->c[c][j];
        }
    return GPMC_OK;
}

typedef struct {
    toy o;
    gpmc_search *s;
    gpmc_stream st;
    gpmc_search_plan plan;
} fixture;

static const size_t tie_xy[3] = {0, 0, 2};
static const unsigned char gated[3] = {1, 1, 0};

static void open_fixture(fixture *f, size_t search)
{
    memset(f, 0, sizeof *f);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(r);
    gpmc_rng_seek(r, 7, 1, 0, 9);
    for (size_t c = 0; c < 3; c++)
        gpmc_rng_unit_vector(r, f->o.c[c], K);
    gpmc_rng_free(r);
    gpmc_search_objective obj = {.m = 3, .k = K, .batch = 64, .nnormals = 2, .gated = gated,
                                 .ctx = &f->o, .eval = toy_eval, .aim = toy_aim};
    f->s = gpmc_search_alloc(&obj);
    assert_non_null(f->s);
    gpmc_search_set_normals(f->s, &f->o.c[0][0], 2);
    f->st = (gpmc_stream){.r = gpmc_rng_alloc(), .seed = 3, .point_key = 5, .trial = 0};
    assert_non_null(f->st.r);
    f->plan = (gpmc_search_plan){.random = 100, .angles = 40, .angle_a = 0, .angle_b = 1,
                                 .search = search, .tie = tie_xy, .substream = 1};
}

static void close_fixture(fixture *f)
{
    gpmc_search_free(f->s);
    gpmc_rng_free(f->st.r);
}

static void test_close_to_sup(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 3000);
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    const double *t, *td;
    double best = gpmc_search_best(f.s, 0, &t), bt = gpmc_search_best(f.s, 1, &td);
    assert_true(best == toy_value(&f.o, t, t + K, t + 2 * K)); /* attained, not estimated */
    assert_true(best > 2.9 && best <= 3 + 1e-12);
    assert_int_equal(gpmc_search_evaluated(f.s), 100 + 40 + 3000);
    /* tied: y = x exactly, and no better than the tied supremum 1 + 2 cos(angle c0 c1 / 2)
     * (the x = y maximum of relu(x.c0) + relu(x.c1) is |c0 + c1| when c0.c1 > 0). */
    assert_memory_equal(td, td + K, K * sizeof(double));
    double cc = 0;
    for (size_t i = 0; i < K; i++)
        cc += (f.o.c[0][i] + f.o.c[1][i]) * (f.o.c[0][i] + f.o.c[1][i]);
    double bound = 1 + fmax(sqrt(cc), 1);
    assert_true(bt == toy_value(&f.o, td, td + K, td + 2 * K));
    assert_true(bt <= bound + 1e-12 && bt > bound - 0.1);
    assert_true(f.o.aliased > 0 && f.o.aliased < f.o.calls);
    close_fixture(&f);
}

static void test_reproducible_and_plan(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 500);
    double v[2][2], tup[2][3 * K];
    for (int rep = 0; rep < 2; rep++) {
        gpmc_rng_seek(f.st.r, 3, 5, 0, 0);
        assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
        const double *t;
        v[rep][1] = gpmc_search_best(f.s, 1, NULL);
        v[rep][0] = gpmc_search_best(f.s, 0, &t);
        memcpy(tup[rep], t, sizeof tup[rep]);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]);
    assert_memory_equal(tup[0], tup[1], sizeof tup[0]);
    static const size_t bad_tie[3] = {0, 2, 2}; /* points forwards */
    f.plan.tie = bad_tie;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    static const size_t z_is_y[3] = {0, 1, 1}; /* an ungated vector may copy a gated one */
    f.plan.tie = z_is_y;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    f.plan.tie = NULL;
    f.plan.angle_b = 0; /* the stratified angle needs two vectors */
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    close_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_to_sup),
        cmocka_unit_test(test_reproducible_and_plan),
    };
    return cmocka_run_group_tests_name("search", tests, NULL, NULL);
}
