/* The dispatch order (dispatch.c): every undone task of the shard goes out exactly once;
 * without a declared cost one probe of every unmeasured point goes first, points of unknown
 * cost then take turns, and once costs are measured the largest go first with a point's
 * trials together; with a declared cost (wdc) the probes, then the largest declared.
 * The wrong variant each test rejects is named in it (grid order, the old point-major
 * order, probing a point measured on an earlier run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gpmc/dispatch.h"
#include "gpmc/spec.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    gpmc_spec spec;
    gpmc_plan plan;
    gpmc_results res;
    gpmc_dispatch d;
} fixture;

static void setup(fixture *f, const char *text)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(gpmc_spec_parse(&f->spec, "t.ini", text, NULL, 0), GPMC_OK);
    assert_int_equal(gpmc_plan_init(&f->plan, &f->spec, 0, 1), GPMC_OK);
    assert_int_equal(gpmc_results_init(&f->res, &f->plan), GPMC_OK);
}

static void teardown(fixture *f)
{
    gpmc_dispatch_free(&f->d);
    gpmc_results_free(&f->res);
    gpmc_plan_free(&f->plan);
    gpmc_spec_free(&f->spec);
}

/* A finished trial of point p lasting `secs`, as the scheduler stores it. */
static void finish(fixture *f, size_t p, size_t t, double secs)
{
    double *rec = calloc(gpmc_plan_layout(&f->plan, p)->total + 1, sizeof *rec);
    gpmc_results_put(&f->res, p, t, rec, secs, 1);
    free(rec);
    gpmc_dispatch_learned(&f->d);
    f->d.sort_seconds = 0; /* the test wants the order recomputed at once */
}

static const char *synthetic4 = "[run]\nexperiment = synthetic\ntrials = 5\nseed = 1\n"
                                "[grid]\nseconds = 1, 2, 3, 4\n";

static void test_every_task_once_probes_first_then_largest(void **state)
{
    (void)state;
    fixture f;
    setup(&f, synthetic4);
    assert_int_equal(gpmc_dispatch_init(&f.d, &f.res), GPMC_OK);
    int seen[4][5] = {{0}};
    size_t p, t;
    /* Probes: one per point, grid order. */
    for (size_t q = 0; q < 4; q++) {
        assert_true(gpmc_dispatch_next(&f.d, &p, &t));
        assert_int_equal(p, q);
        seen[p][t]++;
    }
    /* Nothing back yet: the unknown points take turns (point-major would send 0, 0, ...). */
    for (size_t q = 0; q < 4; q++) {
        assert_true(gpmc_dispatch_next(&f.d, &p, &t));
        assert_int_equal(p, q);
        seen[p][t]++;
    }
    /* The probes come back: point q took q + 1 seconds. Now largest first, a point's
     * trials together: 3, 3, 3, 2, 2, 2, 1, ... (grid order would give 0 first). */
    for (size_t q = 0; q < 4; q++)
        finish(&f, q, 0, (double)(q + 1));
    for (size_t q = 4; q-- > 0;)
        for (int i = 0; i < 3; i++) {
            assert_true(gpmc_dispatch_next(&f.d, &p, &t));
            assert_int_equal(p, q);
            seen[p][t]++;
        }
    assert_false(gpmc_dispatch_next(&f.d, &p, &t));
    for (size_t q = 0; q < 4; q++)
        for (size_t u = 0; u < 5; u++)
            assert_int_equal(seen[q][u], 1);
    teardown(&f);
}

static void test_resume_skips_done_and_measured(void **state)
{
    (void)state;
    fixture f;
    setup(&f, synthetic4);
    /* An earlier run finished trials 0 and 3 of point 1 (0.5 s each) and trial 2 of point
     * 3 (9 s): no probe for them (re-probing a measured point is the wrong variant), and
     * point 3 goes first, point 1 last among the measured. */
    double *rec = calloc(gpmc_plan_layout(&f.plan, 0)->total + 1, sizeof *rec);
    gpmc_results_put(&f.res, 1, 0, rec, 0.5, 0);
    gpmc_results_put(&f.res, 1, 3, rec, 0.5, 0);
    gpmc_results_put(&f.res, 3, 2, rec, 9.0, 0);
    free(rec);
    assert_int_equal(gpmc_dispatch_init(&f.d, &f.res), GPMC_OK);
    size_t p, t;
    assert_true(gpmc_dispatch_next(&f.d, &p, &t));
    assert_int_equal(p, 0);
    assert_true(gpmc_dispatch_next(&f.d, &p, &t));
    assert_int_equal(p, 2);
    finish(&f, 0, 0, 2.0); /* the probes of 0 and 2 come back */
    finish(&f, 2, 0, 4.0);
    size_t order[32], n = 0;
    while (gpmc_dispatch_next(&f.d, &p, &t)) {
        assert_false(f.res.done[p * 5 + t]);
        order[n++] = p;
    }
    /* left: point 3 (9 s) x4, point 2 (4 s) x4, point 0 (2 s) x4, point 1 (0.5 s) x3 */
    assert_int_equal(n, 15);
    size_t expect[15] = {3, 3, 3, 3, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(order[i], expect[i]);
    teardown(&f);
}

static void test_declared_cost_orders_before_measurements(void **state)
{
    (void)state;
    fixture f;
    /* wdc declares a cost growing with n: after the probes (grid order), the largest n
     * first while nothing is measured (unknown-cost turns would give 0, 1, 2). */
    setup(&f, "[run]\nexperiment = wdc\ntrials = 2\nseed = 1\n[grid]\nn = 20, 80, 40\n"
              "[params]\nk = 3\npairs = 10\nsearch = 0\nangles = 0\n");
    assert_int_equal(gpmc_dispatch_init(&f.d, &f.res), GPMC_OK);
    assert_non_null(f.d.cost.declared);
    size_t p, t, expect[6] = {0, 1, 2, 1, 2, 0};
    for (size_t i = 0; i < 6; i++) {
        assert_true(gpmc_dispatch_next(&f.d, &p, &t));
        assert_int_equal(p, expect[i]);
    }
    assert_false(gpmc_dispatch_next(&f.d, &p, &t));
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once_probes_first_then_largest),
        cmocka_unit_test(test_resume_skips_done_and_measured),
        cmocka_unit_test(test_declared_cost_orders_before_measurements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
