/* The WDC's smoothed surrogate (gpmc_wdc_eval_smooth), which the search's annealed
 * ascents climb, against plain-loop references written here:
 *  - its value is |lambda| of sum_i gate(w_i.x/T) gate(w_i.y/T) w_i w_i^T - alpha Q, T =
 *    tau rms(w_i.x), to rounding, and tends to the deviation itself as tau -> 0;
 *  - its gradients are the derivatives of that value: central differences along random
 *    tangent directions agree to the differences' own error. A plausible wrong variant,
 *    the gradient without Q's part (the gates' alone), is told apart on nearly every
 *    direction, and so is one without the 1/sin^2 term of d(v^T Q v);
 *  - in the `wdc` experiment (k >= 8) the ascents' cost is inside `search`:
 *    pairs_evaluated = pairs + angles + search exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/rng.h"
#include "gpmc/wdc_eval.h"
#include "testutil.h"
#include "testutil_exp.h"
#include "wdc_ref.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const gpmc_experiment gpmc_exp_wdc;

static double ref_gate(double t) { return 1 / (1 + exp(-t)); }

/* The surrogate with plain loops: lambda of largest modulus (its sign in *sg) and, if v,
 * its unit eigenvector. */
static double ref_smooth(const double *w, size_t n, size_t k, double alpha, double tau,
                         const double *x, const double *y, double *sg, double *v)
{
    double ss = 0;
    for (size_t i = 0; i < n * k; i++)
        ss += w[i] * w[i];
    double T = tau * sqrt(ss / (double)(n * k));
    double *d = calloc(k * k, sizeof *d), *q = malloc(k * k * sizeof *q), *ev = malloc(k * sizeof *ev);
    for (size_t i = 0; i < n; i++) {
        const double *wi = w + i * k;
        double g = ref_gate(dot(wi, x, k) / T) * ref_gate(dot(wi, y, k) / T);
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++)
                d[a * k + b] += g * wi[a] * wi[b];
    }
    ref_Q(x, y, k, alpha, q);
    for (size_t i = 0; i < k * k; i++)
        d[i] -= q[i];
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)k, d, (lapack_int)k, ev), 0);
    size_t j = fabs(ev[k - 1]) >= fabs(ev[0]) ? k - 1 : 0;
    double lam = ev[j];
    if (v)
        for (size_t a = 0; a < k; a++)
            v[a] = d[a * k + j];
    if (sg)
        *sg = lam >= 0 ? 1 : -1;
    free(d), free(q), free(ev);
    return fabs(lam);
}

/* (x + h d) / |x + h d|. */
static void moved(const double *x, const double *d, double h, size_t k, double *out)
{
    for (size_t i = 0; i < k; i++)
        out[i] = x[i] + h * d[i];
    double nn = norm(out, k);
    for (size_t i = 0; i < k; i++)
        out[i] /= nn;
}

/* A uniform unit direction orthogonal to the unit x. */
static void tangent(gsl_rng *r, const double *x, size_t k, double *d)
{
    gpmc_rng_unit_vector(r, d, k);
    double p = dot(d, x, k);
    for (size_t i = 0; i < k; i++)
        d[i] -= p * x[i];
    double nn = norm(d, k);
    for (size_t i = 0; i < k; i++)
        d[i] /= nn;
}

static void test_value(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{7, 3}, {60, 10}, {300, 12}};
    gsl_rng *r = gpmc_rng_alloc();
    for (size_t s = 0; s < 3; s++) {
        size_t n = shapes[s][0], k = shapes[s][1], B = 6;
        double *w = malloc(n * k * sizeof *w), *x = malloc(B * k * sizeof *x);
        double *y = malloc(B * k * sizeof *y), *gx = malloc(B * k * sizeof *gx);
        double *gy = malloc(B * k * sizeof *gy), val[6], dev[6];
        gpmc_rng_gaussian(r, 1 / sqrt((double)n), w, n * k);
        for (size_t b = 0; b < B; b++) {
            gpmc_rng_unit_vector(r, x + b * k, k);
            gpmc_rng_unit_vector(r, y + b * k, k);
        }
        gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, B);
        assert_non_null(ev);
        gpmc_wdc_eval_set_w(ev, w, 0.75);
        double tol = dev_tol(w, n, k);
        assert_int_equal(gpmc_wdc_eval_smooth(ev, x, y, B, 0.5, val, gx, gy), GPMC_OK);
        for (size_t b = 0; b < B; b++)
            assert_close(val[b], ref_smooth(w, n, k, 0.75, 0.5, x + b * k, y + b * k, NULL, NULL),
                         tol);
        /* tau -> 0: the masks, where no row is within 1e-9 of a pair's hyperplanes (the
         * gates then differ from them by gate(-1e-9 / (1e-12 rms)) = 0 in doubles). */
        assert_int_equal(gpmc_wdc_eval_smooth(ev, x, y, B, 1e-12, val, gx, gy), GPMC_OK);
        assert_int_equal(gpmc_wdc_eval_pairs(ev, x, y, B, dev), GPMC_OK);
        for (size_t b = 0; b < B; b++) {
            double margin;
            ref_dev(w, n, k, 0.75, x + b * k, y + b * k, &margin);
            if (margin > 1e-9)
                assert_close(val[b], dev[b], tol);
        }
        assert_int_equal(gpmc_wdc_eval_smooth(ev, x, y, B, 0, val, gx, gy), GPMC_EINVAL);
        gpmc_wdc_eval_free(ev);
        free(w), free(x), free(y), free(gx), free(gy);
    }
    gpmc_rng_free(r);
}

/* Central differences with step h have error h^2 |f'''| / 6 + eps |f| / h; at h = 1e-5 and
 * tau = 0.5 (|f'''| ~ (|w|/T)^3 |w|^2 n, a few hundred here) that is below 1e-7; the
 * tolerance is 1e-6 (1 + |f'|). */
static void test_gradient(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{40, 5}, {60, 10}};
    gsl_rng *r = gpmc_rng_alloc();
    size_t told_q = 0, told_s2 = 0, cases = 0;
    for (size_t s = 0; s < 2; s++) {
        size_t n = shapes[s][0], k = shapes[s][1], B = 4;
        double *w = malloc(n * k * sizeof *w), *x = malloc(B * k * sizeof *x);
        double *y = malloc(B * k * sizeof *y), *gx = malloc(B * k * sizeof *gx);
        double *gy = malloc(B * k * sizeof *gy), val[4];
        double *d = malloc(k * sizeof *d), *p = malloc(k * sizeof *p), *m = malloc(k * sizeof *m);
        double *v = malloc(k * sizeof *v), *q = malloc(k * k * sizeof *q);
        gpmc_rng_gaussian(r, 1 / sqrt((double)n), w, n * k);
        for (size_t b = 0; b < B; b++) {
            gpmc_rng_unit_vector(r, x + b * k, k);
            gpmc_rng_unit_vector(r, y + b * k, k);
        }
        gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, B);
        gpmc_wdc_eval_set_w(ev, w, 1.0);
        assert_int_equal(gpmc_wdc_eval_smooth(ev, x, y, B, 0.5, val, gx, gy), GPMC_OK);
        const double h = 1e-5;
        for (size_t b = 0; b < B; b++)
            for (int which = 0; which < 2; which++)
                for (int rep = 0; rep < 3; rep++) {
                    const double *xb = x + b * k, *yb = y + b * k;
                    const double *mv = which ? yb : xb, *g = (which ? gy : gx) + b * k;
                    tangent(r, mv, k, d);
                    moved(mv, d, h, k, p);
                    moved(mv, d, -h, k, m);
                    double fp = which ? ref_smooth(w, n, k, 1, 0.5, xb, p, NULL, NULL)
                                      : ref_smooth(w, n, k, 1, 0.5, p, yb, NULL, NULL);
                    double fm = which ? ref_smooth(w, n, k, 1, 0.5, xb, m, NULL, NULL)
                                      : ref_smooth(w, n, k, 1, 0.5, m, yb, NULL, NULL);
                    double fd = (fp - fm) / (2 * h), gd = dot(g, d, k), tol = 1e-6 * (1 + fabs(fd));
                    assert_close(gd, fd, tol);
                    /* Q's part along d at the eigenvector (fixed v): what the wrong
                     * variants drop, in whole or in its 1/sin^2 term. */
                    double sg;
                    ref_smooth(w, n, k, 1, 0.5, xb, yb, &sg, v);
                    double qp, qm;
                    ref_Q(which ? xb : p, which ? p : yb, k, 1, q);
                    qp = 0;
                    for (size_t a = 0; a < k; a++)
                        qp += v[a] * dot(q + a * k, v, k);
                    ref_Q(which ? xb : m, which ? m : yb, k, 1, q);
                    qm = 0;
                    for (size_t a = 0; a < k; a++)
                        qm += v[a] * dot(q + a * k, v, k);
                    double qd = (qp - qm) / (2 * h);
                    told_q += fabs(qd) > 100 * tol;
                    double a_ = dot(v, xb, k), b_ = dot(v, yb, k), c = dot(xb, yb, k);
                    double sn = sqrt(1 - c * c), hh = (2 * a_ * b_ - c * (a_ * a_ + b_ * b_)) / sn;
                    double s2 = hh * c / (sn * sn) / (2 * PI) * dot(which ? xb : yb, d, k);
                    told_s2 += fabs(s2) > 100 * tol;
                    cases++;
                }
        gpmc_wdc_eval_free(ev);
        free(w), free(x), free(y), free(gx), free(gy), free(d), free(p), free(m), free(v), free(q);
    }
    assert_true(told_q >= cases - 2);
    assert_true(told_s2 >= cases / 2);
    gpmc_rng_free(r);
}

/* At k >= 8 the wdc experiment runs the ascents, inside its budget. */
static void test_budget(void **state)
{
    (void)state;
    const gpmc_experiment *E = &gpmc_exp_wdc;
    gpmc_value vals[EXP_MAXP];
    memset(vals, 0, E->nparams * sizeof *vals); /* choices at their first, flags off */
    vals[exp_param(E, "batch")].num = 128;
    vals[exp_param(E, "eps")].len = 1;
    vals[exp_param(E, "eps")].list[0] = 0.5;
    vals[exp_param(E, "n")].num = 60;
    vals[exp_param(E, "k")].num = 10;
    vals[exp_param(E, "pairs")].num = 100;
    vals[exp_param(E, "search")].num = 3000; /* 6 ascents of 301 */
    vals[exp_param(E, "angles")].num = 50;
    vals[exp_param(E, "diag_cells")].num = 0;
    exp_run run;
    exp_open(&run, E, vals, 0x5eed);
    exp_trial(&run, 1, 0);
    assert_true(exp_get(&run, "pairs_evaluated") == 100 + 50 + 3000);
    assert_true(exp_get(&run, "eps_hat") > exp_get(&run, "eps_hat_random"));
    exp_close(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value),
        cmocka_unit_test(test_gradient),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests_name("wdc_smooth", tests, NULL, NULL);
}
