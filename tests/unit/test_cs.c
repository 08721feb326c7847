/* Compressed sensing with Algorithm 2 (prior_lsq.c, experiments/cs.c): the subgradient
 * against central differences; success where it must and failure where it must; the noisy
 * errors against their first-principles expectations, with tolerances from the trials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/prior_lsq.h"
#include "gpmc/rng.h"
#include "gpmc/runner.h"
#include "gpmc/spec.h"
#include "testutil.h"
#include "testutil_exp.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS DBL_EPSILON

/* Every trial of a spec's points run through the experiment itself: field f of trial t of
 * point p is out[(p * T + t) * nf + f]. */
typedef struct {
    size_t P, T, nf;
    double *out;
} runs;

static size_t field(const char *name) { return exp_field(gpmc_experiment_find("cs"), name); }

static runs run_spec(const char *text)
{
    gpmc_spec spec;
    gpmc_plan plan;
    gpmc_runner run;
    assert_int_equal(gpmc_spec_parse(&spec, "t.ini", text, NULL, 0), GPMC_OK);
    assert_int_equal(gpmc_plan_init(&plan, &spec, 0, 1), GPMC_OK);
    assert_int_equal(gpmc_runner_init(&run, &plan, spec.seed), GPMC_OK);
    runs r = {plan.P, plan.T, plan.exp->nfields, NULL};
    r.out = malloc(r.P * r.T * r.nf * sizeof *r.out);
    double *rec = malloc((plan.max_record + 1) * sizeof *rec);
    for (size_t p = 0; p < r.P; p++)
        for (size_t t = 0; t < r.T; t++) {
            double secs;
            assert_int_equal(gpmc_runner_trial(&run, p, t, rec, &secs), GPMC_OK);
            const gpmc_layout *lay = gpmc_plan_layout(&plan, p);
            for (size_t f = 0; f < r.nf; f++)
                r.out[(p * r.T + t) * r.nf + f] = rec[lay->offset[f]];
        }
    free(rec);
    gpmc_runner_free(&run);
    gpmc_plan_free(&plan);
    gpmc_spec_free(&spec);
    return r;
}

static double at(const runs *r, size_t p, size_t t, const char *name)
{
    return r->out[(p * r->T + t) * r->nf + field(name)];
}

/* f is quadratic inside an activation cell, so a central difference there is exact but for
 * rounding: |FD - grad_i| <= gamma (|f| / h + |grad|), gamma = (sum of the widths + m) EPS
 * bounding each evaluation's relative rounding. Points where x +- h e_i leave x's cell are
 * skipped (counted: most are not). Wrong variant rejected: the gradient taken at -x (the
 * sign-flip's other candidate), i.e. Lambda_{-x}^T A^T (A G(x) - b). */
static void test_subgradient_is_the_gradient_inside_a_cell(void **state)
{
    (void)state;
    const size_t k = 4, width[3] = {4, 20, 30}, m = 15, n = 30;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 7, 1, 0, 0);
    gpmc_net *net = gpmc_net_alloc(2, width);
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_GAUSSIAN, m, n);
    gpmc_prior_lsq *s = gpmc_prior_lsq_alloc(net, A);
    gpmc_net_trace *tr = gpmc_net_trace_alloc(net, 3);
    double b[15], x[4], g[4], gneg[4], xneg[4], X[12];
    const double h = 1e-5, gamma = (double)(4 + 20 + 30 + m) * EPS;
    int checked = 0, rejected = 0;
    for (int trial = 0; trial < 40; trial++) {
        gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
        gpmc_measure_sample(A, r);
        gpmc_rng_gaussian(r, 0.3, b, m);
        gpmc_rng_gaussian(r, 1.0, x, k);
        double f = gpmc_prior_lsq_eval(s, b, x, g);
        for (size_t i = 0; i < k; i++)
            xneg[i] = -x[i];
        gpmc_prior_lsq_eval(s, b, xneg, gneg); /* its mask is -x's */
        for (size_t i = 0; i < k; i++) {
            memcpy(X, x, sizeof x);
            memcpy(X + 4, x, sizeof x);
            memcpy(X + 8, x, sizeof x);
            X[4 + i] += h;
            X[8 + i] -= h;
            gpmc_net_forward(net, X, 3, tr);
            int same = 1;
            for (size_t l = 1; l <= 2 && same; l++)
                for (size_t j = 0; j < width[l]; j++) {
                    int a0 = tr->act[l][j] > 0, a1 = tr->act[l][width[l] + j] > 0,
                        a2 = tr->act[l][2 * width[l] + j] > 0;
                    same &= a0 == a1 && a0 == a2;
                }
            if (!same)
                continue;
            double xp[4], xm[4];
            memcpy(xp, X + 4, sizeof xp);
            memcpy(xm, X + 8, sizeof xm);
            double fd = (gpmc_prior_lsq_eval(s, b, xp, NULL) - gpmc_prior_lsq_eval(s, b, xm, NULL)) /
                        (2 * h);
            double tol = gamma * (fabs(f) / h + norm(g, k));
            assert_close(fd, g[i], tol);
            checked++;
            /* The wrong variant: Lambda at -x. Its mask differs (the cells of x and -x share
             * no active unit of layer 1), so it must miss. */
            rejected += fabs(fd - gneg[i]) > tol;
        }
    }
    assert_true(checked >= 100);
    assert_true(rejected >= checked * 9 / 10);
    gpmc_net_trace_free(tr);
    gpmc_prior_lsq_free(s);
    gpmc_measure_free(A);
    gpmc_net_free(net);
    gpmc_rng_free(r);
}

/* Fixed seed: at k = 3, m = 60 every trial recovers x* (the noiseless problem has x* as its
 * only solution and Algorithm 2 finds it). Wrong variant it rejects: a step along +v. */
static void test_succeeds_when_easy_fails_when_underdetermined(void **state)
{
    (void)state;
    runs r = run_spec("[run]\nexperiment = cs\ntrials = 10\nseed = 3\n[params]\nk = 3\n"
                      "widths = 50,100\nm = 60\nmax_iter = 5000\n");
    int easy = 0;
    for (size_t t = 0; t < r.T; t++)
        easy += at(&r, 0, t, "success") == 1;
    assert_int_equal(easy, 10);
    free(r.out);
    /* m well below k: b = A G(x*) has a (k - m)-dimensional set of solutions in x*'s cell,
     * so the descent stops at one of them, not at x*: every trial fails (with the loss at
     * the solver's floor, so it did solve the equations). */
    r = run_spec("[run]\nexperiment = cs\ntrials = 10\nseed = 3\n[params]\nk = 20\n"
                 "widths = 50,100\nm = 5\nmax_iter = 5000\n");
    for (size_t t = 0; t < r.T; t++) {
        assert_true(at(&r, 0, t, "success") == 0);
        assert_true(at(&r, 0, t, "err_latent") > 1e-2);
    }
    free(r.out);
}

/* Network inversion (A = I, m = n) succeeds on the instances CS solves. */
static void test_inversion_succeeds_where_cs_does(void **state)
{
    (void)state;
    runs r = run_spec("[run]\nexperiment = cs\ntrials = 10\nseed = 3\n[params]\nk = 3\n"
                      "widths = 50,100\nm = 100\nmeasurement = identity\nmax_iter = 5000\n");
    for (size_t t = 0; t < r.T; t++)
        assert_true(at(&r, 0, t, "success") == 1);
    free(r.out);
}

/* Noise |eta| = tau: at the fixed point inside x*'s cell x_T - x* = (A Lambda)^+ eta, so with
 * Gaussian A, E|G(x_T) - G(x*)|^2 = tau^2 k / (m - k - 1) (an inverse-Wishart mean) and the
 * final loss has mean 1/2 tau^2 (1 - k/m). The prediction is about the trials that end in
 * x*'s basin: at these small widths a few end elsewhere (err_latent ~ 1, noiseless too),
 * and they are told apart by err_latent < 0.1, a thousand times the noise's effect, so the
 * selection is by basin, not by the noise. The sample means over those trials must be
 * within Z standard errors (Z = 4: a false failure has probability ~6e-5 per check under
 * the CLT). Wrong variants rejected on the same trials: tau^2 k / m (the k << m
 * approximation, 22% low at k = 8, m = 40) and a loss of 1/2 tau^2 (noise fully kept). */
static void test_noisy_errors_match_first_principles(void **state)
{
    (void)state;
    const double tau = 1e-3, k = 8, m = 40, Z = 4;
    runs r = run_spec("[run]\nexperiment = cs\ntrials = 300\nseed = 11\n[params]\nk = 8\n"
                      "widths = 60,120\nm = 40\nnoise = tau\nnoise_level = 1e-3\n"
                      "max_iter = 3000\n");
    double s1 = 0, s2 = 0, l1 = 0, l2 = 0;
    size_t R = 0, basin = 0; /* in x*'s basin; R: and converged (the statistics') */
    for (size_t t = 0; t < r.T; t++) {
        double e = at(&r, 0, t, "err_output"), l = at(&r, 0, t, "loss");
        if (!(at(&r, 0, t, "err_latent") < 0.1))
            continue;
        basin++;
        if (at(&r, 0, t, "converged") != 1)
            continue; /* still on its way after max_iter: not yet at the fixed point */
        R++;
        s1 += e * e;
        s2 += e * e * e * e;
        l1 += l;
        l2 += l * l;
    }
    double me = s1 / (double)R, se = sqrt((s2 / (double)R - me * me) / (double)(R - 1));
    double ml = l1 / (double)R, sl = sqrt((l2 / (double)R - ml * ml) / (double)(R - 1));
    double pe = tau * tau * k / (m - k - 1), pl = 0.5 * tau * tau * (1 - k / m);
    print_message("%zu of %zu trials in x*'s basin, %zu of them converged: err^2 mean %.4g "
                  "+- %.2g (predicted %.4g); loss %.4g +- %.2g (%.4g)\n",
                  basin, r.T, R, me, se, pe, ml, sl, pl);
    assert_true(R >= r.T * 8 / 10);
    assert_close(me, pe, Z * se);
    assert_close(ml, pl, Z * sl);
    assert_false(fabs(me - tau * tau * k / m) <= Z * se);
    assert_false(fabs(ml - 0.5 * tau * tau) <= Z * sl);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subgradient_is_the_gradient_inside_a_cell),
        cmocka_unit_test(test_succeeds_when_easy_fails_when_underdetermined),
        cmocka_unit_test(test_inversion_succeeds_where_cs_does),
        cmocka_unit_test(test_noisy_errors_match_first_principles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
