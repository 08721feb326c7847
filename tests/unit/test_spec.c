/* Unit tests of the spec parser (src/driver/spec.c) against fake experiments of our own,
 * through gpmc_spec_parse_with(), so they do not depend on the real registry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/rng.h"
#include "gpmc/spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fake experiments */

enum { P_N, P_K, P_ENSEMBLE, P_EPS, P_PAIRS, P_TOL, NPARAMS };

static const gpmc_param_def fake_params[] = {
    {"n", GPMC_PARAM_INT, NULL, 1, 1e6, NULL, 0, "dimension"},
    {"k", GPMC_PARAM_INT, "5", 1, 1e5, NULL, 0, "latent dimension"},
    {"ensemble", GPMC_PARAM_CHOICE, "gaussian", 0, 0, "gaussian|truncated", 0, "weights"},
    {"eps", GPMC_PARAM_REAL_LIST, "0.1,0.2", 0, 1e3, NULL, 0, "thresholds"},
    {"pairs", GPMC_PARAM_INT, "100", 1, 1e9, NULL, GPMC_PARAM_NOHASH, "search budget"},
    {"tol", GPMC_PARAM_REAL, "0.5", 0, 1, NULL, 0, "tolerance"},
};

static int fake_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    long n = gpmc_point_int_at(pt, P_N), k = gpmc_point_int_at(pt, P_K);
    if (k > n) {
        snprintf(msg, msglen, "k = %ld must be <= n = %ld", k, n);
        return 1;
    }
    return 0;
}

static const gpmc_experiment fake = {
    .name = "fake",
    .summary = "a fake experiment for the spec tests",
    .params = fake_params,
    .nparams = NPARAMS,
    .check = fake_check,
};

/* A second one for BOOL axes and integer lists, without a check(). */
static const gpmc_param_def other_params[] = {
    {"store", GPMC_PARAM_BOOL, "false", 0, 1, NULL, 0, "store matrices"},
    {"widths", GPMC_PARAM_INT_LIST, "700,600", 1, 1e5, NULL, 0, "layer widths"},
    {"x", GPMC_PARAM_REAL, "1", -10, 10, NULL, 0, "a real"},
    {"y", GPMC_PARAM_REAL, "2", 0, 100, NULL, 0, "another real"},
};

static const gpmc_experiment other = {
    .name = "other",
    .summary = "bools and int lists",
    .params = other_params,
    .nparams = 4,
};

static const gpmc_experiment *const registry[] = {&fake, &other, NULL};

/* ---------------------------------------------------------------- helpers */

static int parse(gpmc_spec *s, const char *text, char **ov, size_t nov)
{
    gpmc_error_clear();
    return gpmc_spec_parse_with(s, registry, "t.ini", text, ov, nov);
}

static void parse_ok(gpmc_spec *s, const char *text, char **ov, size_t nov)
{
    int st = parse(s, text, ov, nov);
    if (st != GPMC_OK)
        fail_msg("unexpected error: %s\n--- spec:\n%s", gpmc_error_message(), text);
}

/* The value of parameter `i` at point p. */
static double at(const gpmc_spec *s, size_t p, size_t i)
{
    gpmc_value v[16];
    assert_true(s->exp->nparams <= 16);
    gpmc_spec_point_values(s, p, v);
    return v[i].num;
}

static uint64_t key_at(const gpmc_spec *s, size_t p)
{
    gpmc_value v[16];
    gpmc_spec_point_values(s, p, v);
    return gpmc_spec_point_key(s->exp, v);
}

static void assert_axis(const gpmc_axis *ax, const double *want, size_t n)
{
    assert_int_equal(ax->n, n);
    for (size_t i = 0; i < n; i++)
        if (ax->values[i] != want[i])
            fail_msg("value %zu: got %.17g, want %.17g", i, ax->values[i], want[i]);
}

#define HEAD "[run]\nexperiment = fake\n"

/* ---------------------------------------------------------------- grids */

static void test_list_axis(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, HEAD "[grid]\nk = 5, 10,20\n[params]\nn = 100\n", NULL, 0);
    assert_ptr_equal(s.exp, &fake);
    assert_int_equal(s.trials, 10);
    assert_true(s.seed == 1);
    assert_int_equal(s.naxes, 1);
    assert_int_equal(s.axes[0].param, P_K);
    assert_true(s.axes[0].ratio_of == GPMC_NO_PARAM);
    assert_int_equal(s.axes[0].line, 4);
    assert_axis(&s.axes[0], (double[]){5, 10, 20}, 3);
    assert_int_equal(gpmc_spec_npoints(&s), 3);
    assert_true(at(&s, 2, P_K) == 20);
    assert_true(at(&s, 2, P_N) == 100);
    gpmc_spec_free(&s);

    /* choice and real lists */
    parse_ok(&s, HEAD "[grid]\nensemble = truncated, gaussian\ntol = 0.25, 1e-3\n[params]\nn=9\n",
             NULL, 0);
    assert_axis(&s.axes[0], (double[]){1, 0}, 2);
    assert_axis(&s.axes[1], (double[]){0.25, 1e-3}, 2);
    gpmc_spec_free(&s);

    /* bool axis, int list */
    parse_ok(&s, "[run]\nexperiment = other\n[grid]\nstore = yes, off\n[params]\nwidths = 7, 8,9\n",
             NULL, 0);
    assert_axis(&s.axes[0], (double[]){1, 0}, 2);
    assert_int_equal(s.fixed[1].len, 3);
    assert_true(s.fixed[1].list[0] == 7 && s.fixed[1].list[2] == 9);
    gpmc_spec_free(&s);
}

static void test_linear_range(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, HEAD "[grid]\nn = 100:1000:100\ntol = 0.1:0.5:0.1\n", NULL, 0);
    assert_axis(&s.axes[0], (double[]){100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}, 10);
    assert_axis(&s.axes[1], (double[]){0.1, 0.2, 0.3, 0.4, 0.5}, 5);
    assert_int_equal(gpmc_spec_npoints(&s), 50);
    gpmc_spec_free(&s);

    /* stop not on the step; a single value */
    parse_ok(&s, HEAD "[grid]\nn = 10:20:4\nk = 3:3:1\n", NULL, 0);
    assert_axis(&s.axes[0], (double[]){10, 14, 18}, 3);
    assert_axis(&s.axes[1], (double[]){3}, 1);
    gpmc_spec_free(&s);
}

static void test_log_range(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, HEAD "[grid]\nn = log:10:1000:3\ntol = log:0.001:1:4\n", NULL, 0);
    assert_axis(&s.axes[0], (double[]){10, 100, 1000}, 3);
    assert_axis(&s.axes[1], (double[]){0.001, 0.01, 0.1, 1}, 4);
    gpmc_spec_free(&s);

    /* integers: 10^(i/7) rounded, duplicates (1.39 -> 1) dropped */
    parse_ok(&s, HEAD "[grid]\nn = log:1:10:8\n[params]\nk = 1\n", NULL, 0);
    assert_axis(&s.axes[0], (double[]){1, 2, 3, 4, 5, 7, 10}, 7);
    gpmc_spec_free(&s);

    /* the header's example: 8 values from 10 to 1000, endpoints exact */
    parse_ok(&s, HEAD "[grid]\nn = log:10:1000:8\n", NULL, 0);
    assert_axis(&s.axes[0], (double[]){10, 19, 37, 72, 139, 268, 518, 1000}, 8);
    gpmc_spec_free(&s);
}

static void test_ratio_axis(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, HEAD "[grid]\nk = 5, 10\nn/k = log:2:8:3\n", NULL, 0);
    assert_int_equal(s.naxes, 2);
    assert_int_equal(s.axes[1].param, P_N);
    assert_int_equal(s.axes[1].ratio_of, P_K);
    assert_axis(&s.axes[1], (double[]){2, 4, 8}, 3); /* the ratios, as written */
    assert_int_equal(gpmc_spec_npoints(&s), 6);
    const double n[] = {10, 20, 40, 20, 40, 80}, k[] = {5, 5, 5, 10, 10, 10};
    for (size_t p = 0; p < 6; p++) {
        assert_true(at(&s, p, P_N) == n[p]);
        assert_true(at(&s, p, P_K) == k[p]);
    }
    gpmc_spec_free(&s);

    /* ratio before its denominator in the file, a fixed denominator, rounding */
    parse_ok(&s, HEAD "[grid]\nn/k = 1.5, 3\n[params]\nk = 5\n", NULL, 0);
    assert_true(at(&s, 0, P_N) == 8); /* round(7.5) */
    assert_true(at(&s, 1, P_N) == 15);
    gpmc_spec_free(&s);

    /* close ratios are fine while the rounded values differ (duplicates: test_errors) */
    parse_ok(&s, HEAD "[params]\nk = 5\n[grid]\nn/k = 2, 2.1, 2.3\n", NULL, 0);
    assert_true(at(&s, 0, P_N) == 10);
    assert_true(at(&s, 1, P_N) == 11); /* round(10.5) */
    assert_true(at(&s, 2, P_N) == 12); /* round(11.5) */
    gpmc_spec_free(&s);

    /* a real parameter as a ratio: no rounding */
    parse_ok(&s, "[run]\nexperiment = other\n[grid]\nx/y = 2.5, 0.125\n", NULL, 0);
    assert_true(at(&s, 0, 2) == 5);
    assert_true(at(&s, 1, 2) == 0.25);
    gpmc_spec_free(&s);
    assert_int_not_equal(parse(&s, "[run]\nexperiment = other\n[grid]\nx/store = 2.5\n", NULL, 0),
                         GPMC_OK); /* store is a bool: not a ratio denominator */
    assert_non_null(strstr(gpmc_error_message(), "t.ini:4:"));
    gpmc_spec_free(&s);
}

static void test_point_order(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, HEAD "[grid]\nn = 10, 20\nensemble = gaussian, truncated\nk = 1, 2, 3\n", NULL,
             0);
    assert_int_equal(gpmc_spec_npoints(&s), 12);
    for (size_t p = 0; p < 12; p++) {
        assert_true(at(&s, p, P_N) == (p < 6 ? 10 : 20));
        assert_true(at(&s, p, P_ENSEMBLE) == (double)((p / 3) % 2));
        assert_true(at(&s, p, P_K) == (double)(p % 3 + 1));
        assert_true(at(&s, p, P_TOL) == 0.5);
    }
    gpmc_spec_free(&s);
}

static void test_defaults_and_fixed(void **state)
{
    (void)state;
    gpmc_spec s;
    parse_ok(&s, "; comment\n[run]\nexperiment = fake\ntrials = 7\nseed = 18446744073709551615\n"
                 "[params]\n  n = 50   ; inline comment\nensemble = truncated  # another\n",
             NULL, 0);
    assert_int_equal(s.trials, 7);
    assert_true(s.seed == UINT64_MAX);
    assert_int_equal(s.naxes, 0);
    assert_int_equal(gpmc_spec_npoints(&s), 1);
    assert_true(s.fixed[P_N].num == 50);
    assert_true(s.fixed[P_K].num == 5);
    assert_true(s.fixed[P_ENSEMBLE].num == 1);
    assert_int_equal(s.fixed[P_EPS].len, 2);
    assert_true(s.fixed[P_EPS].list[0] == 0.1 && s.fixed[P_EPS].list[1] == 0.2);
    assert_true(s.fixed[P_PAIRS].num == 100);
    assert_true(s.fixed[P_TOL].num == 0.5);
    assert_non_null(strstr(s.text, "seed = 18446744073709551615"));
    assert_string_equal(s.path, "t.ini");
    gpmc_spec_free(&s);
    gpmc_spec_free(&s); /* freeing twice is harmless */

    /* a list longer than inih's default 200-character line */
    char text[2048];
    size_t pos = (size_t)snprintf(text, sizeof text, HEAD "[params]\nn = 30\neps = ");
    for (int i = 0; i < GPMC_LIST_MAX; i++)
        pos += (size_t)snprintf(text + pos, sizeof text - pos, "%s%d.125", i ? ", " : "", i);
    snprintf(text + pos, sizeof text - pos, "\ntol = 0.25\n");
    parse_ok(&s, text, NULL, 0);
    assert_int_equal(s.fixed[P_EPS].len, GPMC_LIST_MAX);
    assert_true(s.fixed[P_EPS].list[GPMC_LIST_MAX - 1] == GPMC_LIST_MAX - 1 + 0.125);
    assert_true(s.fixed[P_TOL].num == 0.25);
    gpmc_spec_free(&s);
}

/* ---------------------------------------------------------------- overrides */

static void test_overrides(void **state)
{
    (void)state;
    gpmc_spec s;
    const char *text = HEAD "trials = 3\n[grid]\nk = 1, 2\nn/k = 2, 4\n[params]\ntol = 0.1\n";
    char *ov1[] = {"trials=5", "run.seed=3", "grid.k=5,10", "tol = 0.75", "ensemble=truncated"};
    parse_ok(&s, text, ov1, 5);
    assert_int_equal(s.trials, 5);
    assert_true(s.seed == 3);
    assert_int_equal(s.noverrides, 5);
    assert_string_equal(s.overrides[2], "grid.k=5,10");
    assert_ptr_not_equal(s.overrides[2], ov1[2]);
    assert_int_equal(s.naxes, 2);
    assert_int_equal(s.axes[0].param, P_K); /* keeps its place */
    assert_axis(&s.axes[0], (double[]){5, 10}, 2);
    assert_int_equal(s.axes[0].line, 0);
    assert_true(s.fixed[P_TOL].num == 0.75);
    assert_true(s.fixed[P_ENSEMBLE].num == 1);
    assert_true(at(&s, 3, P_N) == 40);
    gpmc_spec_free(&s);

    /* a bare key set in [grid] stays there; n replaces the ratio n/k */
    char *ov2[] = {"n=100", "k=7"};
    parse_ok(&s, text, ov2, 2);
    assert_int_equal(s.naxes, 2);
    assert_int_equal(s.axes[0].param, P_K);
    assert_axis(&s.axes[0], (double[]){7}, 1);
    assert_int_equal(s.axes[1].param, P_N);
    assert_true(s.axes[1].ratio_of == GPMC_NO_PARAM);
    assert_axis(&s.axes[1], (double[]){100}, 1);
    gpmc_spec_free(&s);

    /* params.k moves k out of the grid; a new ratio goes to [grid] */
    char *ov3[] = {"params.k=4", "n/k=3"};
    parse_ok(&s, text, ov3, 2);
    assert_int_equal(s.naxes, 1);
    assert_true(s.fixed[P_K].num == 4);
    assert_true(at(&s, 0, P_N) == 12);
    gpmc_spec_free(&s);

    /* a bare parameter absent from the file goes to [params]; experiment to [run] */
    char *ov4[] = {"n=30", "experiment=fake", "seed=9"};
    parse_ok(&s, "[run]\nexperiment = other\n", ov4, 3);
    assert_ptr_equal(s.exp, &fake);
    assert_true(s.fixed[P_N].num == 30);
    assert_true(s.seed == 9);
    gpmc_spec_free(&s);

    /* later overrides win */
    char *ov5[] = {"n=30", "n=40"};
    parse_ok(&s, HEAD, ov5, 2);
    assert_true(s.fixed[P_N].num == 40);
    gpmc_spec_free(&s);
}

/* ---------------------------------------------------------------- point keys */

static void test_point_key(void **state)
{
    (void)state;
    gpmc_spec a, b, c, d;
    parse_ok(&a, HEAD "[params]\nn = 10\nk = 5\n", NULL, 0);
    parse_ok(&b, HEAD "[grid]\nk = 5\nn/k = 2\n", NULL, 0);
    parse_ok(&c, HEAD "[grid]\nn = 30, 20, 10\ntol = 0.5, 0.1\n[params]\npairs = 5000\n", NULL, 0);
    parse_ok(&d, HEAD "[grid]\nn/k = 2, 4\n[params]\nk = 5\n", NULL, 0);
    uint64_t ka = key_at(&a, 0);
    assert_true(key_at(&b, 0) == ka);    /* n given directly or through a ratio */
    assert_true(key_at(&c, 4) == ka);    /* other points, and the NOHASH budget, do not matter */
    assert_true(key_at(&d, 0) == ka);
    assert_true(key_at(&c, 5) != ka);    /* tol is hashed */
    assert_true(key_at(&c, 0) != key_at(&c, 2));
    assert_true(key_at(&d, 1) != ka);

    /* the documented chain: experiment name, then name=canonical value in table order */
    uint64_t h = gpmc_hash_str(GPMC_HASH_INIT, "fake");
    h = gpmc_hash_str(h, "n=10");
    h = gpmc_hash_str(h, "k=5");
    h = gpmc_hash_str(h, "ensemble=gaussian");
    h = gpmc_hash_str(h, "eps=0.10000000000000001,0.20000000000000001");
    h = gpmc_hash_str(h, "tol=0.5");
    assert_true(ka == h);
    gpmc_spec_free(&a);
    gpmc_spec_free(&b);
    gpmc_spec_free(&c);
    gpmc_spec_free(&d);
}

static void test_value_format(void **state)
{
    (void)state;
    char buf[128];
    gpmc_value v = {.num = 10};
    gpmc_value_format(&fake_params[P_N], &v, buf, sizeof buf);
    assert_string_equal(buf, "10");
    v.num = 0.25;
    gpmc_value_format(&fake_params[P_TOL], &v, buf, sizeof buf);
    assert_string_equal(buf, "0.25");
    v.num = 1;
    gpmc_value_format(&fake_params[P_ENSEMBLE], &v, buf, sizeof buf);
    assert_string_equal(buf, "truncated");
    gpmc_value_format(&other_params[0], &v, buf, sizeof buf);
    assert_string_equal(buf, "true");
    v.num = 0;
    gpmc_value_format(&other_params[0], &v, buf, sizeof buf);
    assert_string_equal(buf, "false");
    gpmc_value w = {.len = 2, .list = {700, 600}};
    gpmc_value_format(&other_params[1], &w, buf, sizeof buf);
    assert_string_equal(buf, "700,600");
    w.list[0] = 0.5;
    gpmc_value_format(&fake_params[P_EPS], &w, buf, sizeof buf);
    assert_string_equal(buf, "0.5,600");
    gpmc_value_format(&fake_params[P_EPS], &w, buf, 4); /* truncated, terminated */
    assert_string_equal(buf, "0.5");
}

/* ---------------------------------------------------------------- errors */

typedef struct {
    const char *name;
    const char *text;
    const char *where; /* must appear: "t.ini:<line>:" or "t.ini:" when no line applies */
    const char *key;   /* must appear as 'key' */
    const char *what;  /* must appear too */
} bad_case;

static const bad_case bad[] = {
    {"syntax", HEAD "[grid]\nn 10\n", "t.ini:4:", NULL, "syntax error"},
    {"bad section header", HEAD "[grid\nn = 1\n", "t.ini:3:", NULL, "syntax error"},
    {"unknown run key", HEAD "trails = 3\n", "t.ini:3:", "trails", "did you mean 'trials'"},
    {"unknown section", HEAD "[parms]\nn = 3\n", "t.ini:3:", "parms", "unknown section"},
    {"empty unknown section", HEAD "[params]\nn = 3\n[grdi]\n", "t.ini:5:", "grdi",
     "unknown section"},
    {"key outside sections", "n = 3\n" HEAD, "t.ini:1:", "n", "outside any section"},
    {"unknown parameter", HEAD "[params]\nn = 3\nensembel = gaussian\n", "t.ini:5:", "ensembel",
     "did you mean 'ensemble'"},
    {"unknown grid parameter", HEAD "[grid]\nm = 3\n", "t.ini:4:", "m", "unknown parameter"},
    {"run key in params", HEAD "[params]\ntrials = 3\n", "t.ini:4:", "trials", "[run]"},
    {"not an integer", HEAD "[params]\nn = abc\n", "t.ini:4:", "n", "'abc' is not an integer"},
    {"trailing junk", HEAD "[params]\nn = 10x\n", "t.ini:4:", "n", "not an integer"},
    {"real for int", HEAD "[params]\nn = 1e3\n", "t.ini:4:", "n", "not an integer"},
    {"not a number", HEAD "[params]\nn = 3\ntol = 0.5.1\n", "t.ini:5:", "tol", "not a number"},
    {"not finite", HEAD "[params]\nn = 3\ntol = nan\n", "t.ini:5:", "tol", "finite"},
    {"bad choice", HEAD "[params]\nn = 3\nensemble = normal\n", "t.ini:5:", "ensemble",
     "gaussian|truncated"},
    {"bad bool", "[run]\nexperiment = other\n[params]\nstore = maybe\n", "t.ini:4:", "store",
     "not a boolean"},
    {"below min", HEAD "[params]\nn = 3\nk = 0\n", "t.ini:5:", "k", "below the minimum 1"},
    {"above max", HEAD "[params]\nn = 2000000\n", "t.ini:4:", "n", "above the maximum 1000000"},
    {"list element", HEAD "[params]\nn = 3\neps = 0.1, x\n", "t.ini:5:", "eps", "element 2"},
    {"list element range", HEAD "[params]\nn = 3\neps = 0.1, 5000\n", "t.ini:5:", "eps",
     "above the maximum"},
    {"empty list element", HEAD "[params]\nn = 3\neps = 0.1,,0.2\n", "t.ini:5:", "eps",
     "empty element"},
    {"empty value", HEAD "[params]\nn =\n", "t.ini:4:", "n", "empty value"},
    {"empty grid value", HEAD "[grid]\nn =\n", "t.ini:4:", "n", "empty value"},
    {"empty grid element", HEAD "[grid]\nn = 1, ,3\n", "t.ini:4:", "n", "empty element"},
    {"grid element range", HEAD "[grid]\nn = 5, 0\n", "t.ini:4:", "n", "below the minimum"},
    {"list param in grid", HEAD "[grid]\neps = 0.1, 0.2\n[params]\nn=3\n", "t.ini:4:", "eps",
     "cannot be a grid axis"},
    {"range syntax", HEAD "[grid]\nn = 100:1000\n", "t.ini:4:", "n", "bad range"},
    {"range number", HEAD "[grid]\nn = 100:x:10\n", "t.ini:4:", "n", "bad range"},
    {"range step", HEAD "[grid]\nn = 100:1000:0\n", "t.ini:4:", "n", "step must be > 0"},
    {"range order", HEAD "[grid]\nn = 1000:100:10\n", "t.ini:4:", "n", "start is greater"},
    {"range bounds", HEAD "[grid]\nn = 0:100:10\n", "t.ini:4:", "n", "below the minimum"},
    {"range of choices", HEAD "[grid]\nensemble = 1:2:1\n[params]\nn=1\n", "t.ini:4:", "ensemble",
     "numeric"},
    {"log syntax", HEAD "[grid]\nn = log:10:1000\n", "t.ini:4:", "n", "bad range"},
    {"log count", HEAD "[grid]\nn = log:10:1000:1\n", "t.ini:4:", "n", "count"},
    {"log sign", HEAD "[grid]\ntol = log:0:1:3\n[params]\nn=1\n", "t.ini:4:", "tol", "> 0"},
    {"range too long", HEAD "[grid]\nn = 1:1000000:1\n", "t.ini:4:", "n", "limit"},
    {"duplicate value", HEAD "[grid]\nn = 10, 20, 10\n", "t.ini:4:", "n", "appears twice"},
    {"twice in params", HEAD "[params]\nn = 3\nn = 4\n", "t.ini:5:", "n", "t.ini:4"},
    {"grid and params", HEAD "[grid]\nn = 3, 4\n[params]\nn = 4\n", "t.ini:6:", "n", "t.ini:4"},
    {"axis and ratio", HEAD "[grid]\nn = 3, 4\nn/k = 2\n", "t.ini:5:", "n/k", "already set"},
    {"run key twice", HEAD "trials = 3\ntrials = 4\n", "t.ini:4:", "trials", "twice"},
    {"missing experiment", "[run]\ntrials = 3\n[params]\nn = 3\n", "t.ini: ", "experiment",
     "known experiments: fake, other"},
    {"unknown experiment", "[run]\nexperiment = wdcc\n", "t.ini:2:", "experiment",
     "unknown experiment 'wdcc'"},
    {"trials zero", HEAD "trials = 0\n", "t.ini:3:", "trials", ">= 1"},
    {"trials junk", HEAD "trials = 3.5\n", "t.ini:3:", "trials", "not an integer"},
    {"seed negative", HEAD "seed = -1\n", "t.ini:3:", "seed", "unsigned"},
    {"seed too big", HEAD "seed = 18446744073709551616\n", "t.ini:3:", "seed", "unsigned"},
    {"required", HEAD "[params]\nk = 3\n", "t.ini: ", "n", "required"},
    {"ratio in params", HEAD "[params]\nn/k = 2\n", "t.ini:4:", "n/k", "[grid]"},
    {"ratio unknown", HEAD "[grid]\nn/q = 2\n", "t.ini:4:", "n/q", "unknown parameter 'q'"},
    {"ratio of itself", HEAD "[grid]\nn/n = 2\n", "t.ini:4:", "n/n", "itself"},
    {"ratio of ratio", HEAD "[grid]\nk/n = 1\nn/k = 2\n", "t.ini:4:", "k/n", "ratio"},
    {"ratio bad value", HEAD "[grid]\nn/k = 2, two\n", "t.ini:4:", "n/k", "not a number"},
    {"ratio out of range", HEAD "[grid]\nk = 100, 1000\nn/k = 2000\n", "t.ini:5:", "n/k",
     "above the maximum 1000000"},
    {"ratio gives zero", HEAD "[grid]\nn/k = 0.01\n", "t.ini:4:", "n/k", "below the minimum 1"},
    {"ratio rounding repeats n", HEAD "[grid]\nk = 1, 2\nn/k = 1, 1.2, 1.4\n", "t.ini:5:", "n/k",
     "ratios 1, 1.2 and 1.4 at k = 1 all give n = 1"},
    {"ratio rounding repeats n, later k", HEAD "[grid]\nk = 1, 2\nn/k = 1, 1.2, 1.4\n", "t.ini:5:",
     "n/k", "also at k = 2"},
    {"real ratio of zero", "[run]\nexperiment = other\n[params]\ny = 0\n[grid]\nx/y = 1, 2\n",
     "t.ini:6:", "x/y", "ratios 1 and 2 at y = 0 both give x = 0"},
    {"ratio rounding, fixed k", HEAD "[params]\nk = 5\n[grid]\nn/k = 2, 2.05, 3\n", "t.ini:6:",
     "n/k", "ratios 2 and 2.05 at k = 5 both give n = 10"},
    {"check k > n", HEAD "[params]\nn = 3\nk = 10\n", "t.ini:5:", "k", "t.ini:4"},
    {"check on grid point", HEAD "[grid]\nn = 5, 10, 20\n[params]\nk = 8\n", "t.ini:6:", "k",
     "n=5"},
    {"check via ratio", HEAD "[params]\nk = 10\n[grid]\nn/k = 0.5, 1, 2\n", "t.ini:4:", "k",
     "n/k at t.ini:6"},
};

static void test_errors(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *c = &bad[i];
        gpmc_spec s;
        int st = parse(&s, c->text, NULL, 0);
        const char *m = gpmc_error_message();
        char key[80] = "";
        if (c->key)
            snprintf(key, sizeof key, "'%s'", c->key);
        if (st != GPMC_EINVAL) {
            print_error("%s: status %d, want GPMC_EINVAL\n", c->name, st);
            failures++;
        } else if (strncmp(m, c->where, strlen(c->where)) || (c->key && !strstr(m, key)) ||
                   !strstr(m, c->what)) {
            print_error("%s: message \"%s\" lacks \"%s\", %s or \"%s\"\n", c->name, m, c->where,
                        key, c->what);
            failures++;
        }
        assert_null(s.exp); /* the spec is left empty on error */
        assert_null(s.text);
        gpmc_spec_free(&s);
    }
    assert_int_equal(failures, 0);
}

static void test_override_errors(void **state)
{
    (void)state;
    static const struct {
        const char *ov, *key, *what;
    } cases[] = {
        {"n=abc", "n", "'abc' is not an integer"},
        {"noequals", NULL, "key=value"},
        {"=3", NULL, "empty key"},
        {"foo.n=3", "n", "unknown section 'foo'"},
        {"trials=0", "trials", ">= 1"},
        {"grid.eps=0.1", "eps", "grid axis"},
        {"grid.n=", "n", "empty value"},
        {"m=3", "m", "unknown parameter"},
        {"run.n=3", "n", "unknown key in [run]"},
        {"k=50", "k", "must be <= n"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gpmc_spec s;
        char *ov[] = {"tol=0.3", (char *)cases[i].ov};
        int st = parse(&s, HEAD "[params]\nn = 10\n", ov, 2);
        const char *m = gpmc_error_message();
        char where[128], key[64] = "";
        snprintf(where, sizeof where, "command line (--set %s): ", cases[i].ov);
        if (cases[i].key)
            snprintf(key, sizeof key, "key '%s'", cases[i].key);
        if (st != GPMC_EINVAL || strncmp(m, where, strlen(where)) || !strstr(m, key) ||
            !strstr(m, cases[i].what)) {
            print_error("--set %s: status %d, message \"%s\"\n", cases[i].ov, st, m);
            failures++;
        }
        gpmc_spec_free(&s);
    }
    /* a check failure involving a file line and an override names both */
    gpmc_spec s;
    char *ov[] = {"k=20"};
    assert_int_equal(parse(&s, HEAD "[params]\nn = 10\n", ov, 1), GPMC_EINVAL);
    assert_non_null(strstr(gpmc_error_message(), "command line (--set k=20): key 'k'"));
    assert_non_null(strstr(gpmc_error_message(), "n at t.ini:4"));
    assert_int_equal(failures, 0);
}

static void test_load(void **state)
{
    (void)state;
    gpmc_spec s;
    /* unreadable: the message names the path */
    assert_int_not_equal(gpmc_spec_load(&s, "/nonexistent/spec.ini", NULL, 0), GPMC_OK);
    assert_non_null(strstr(gpmc_error_message(), "/nonexistent/spec.ini"));
    gpmc_spec_free(&s);

    /* gpmc_spec_load() uses the real registry, which may not hold our fakes: only check
     * that the file's text and line numbers come through. */
    char path[] = "/tmp/gpmc_test_spec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("# a comment\n[run]\nexperiment = no-such-experiment\n", f);
    fclose(f);
    assert_int_equal(gpmc_spec_load(&s, path, NULL, 0), GPMC_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "%s:3: key 'experiment'", path);
    assert_non_null(strstr(gpmc_error_message(), want));
    gpmc_spec_free(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_axis),
        cmocka_unit_test(test_linear_range),
        cmocka_unit_test(test_log_range),
        cmocka_unit_test(test_ratio_axis),
        cmocka_unit_test(test_point_order),
        cmocka_unit_test(test_defaults_and_fixed),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_point_key),
        cmocka_unit_test(test_value_format),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
