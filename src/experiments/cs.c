/* Compressed sensing with a random ReLU generative prior (Hand-Voroninski; Algorithm 2 of
 * Cocola-Hand-Voroninski App. H; MATH.md "Recovery problems" 1): b = A G(x*) + eta, solved
 * by subgradient descent with the sign-flip check (prior_lsq.h). measurement = identity
 * (m = n) is network inversion (Hand-Voroninski Corollary 5). Per trial, in stream order:
 * the network and A (substream 0), x* (1), the noise direction (2), x0 (3), so changing
 * the noise or the solver's settings keeps every other draw. */
#include "gpmc/experiment.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/prior_lsq.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_K, P_WIDTHS, P_M, P_MEAS, P_NOISE, P_LEVEL, P_STEP, P_MAX_ITER, P_TOL, P_THRESHOLD,
    P_INIT, NPARAMS
};

enum { NOISE_NONE, NOISE_SNR, NOISE_TAU };

static const gpmc_param_def params[] = {
    {"k", GPMC_PARAM_INT, NULL, 1, 1e5, NULL, 0, "latent dimension"},
    {"widths", GPMC_PARAM_INT_LIST, NULL, 1, 1e6, NULL, 0,
     "layer widths n_1,...,n_d of G: R^k -> R^{n_d} (e.g. 700,600; weights N(0, 1/n_i))"},
    {"m", GPMC_PARAM_INT, NULL, 1, 1e7, NULL, 0, "measurements (rows of A)"},
    {"measurement", GPMC_PARAM_CHOICE, "gaussian", 0, 0, GPMC_MEASURE_CHOICES, 0,
     "A, scaled so E[A^T A] = I: gaussian N(0, 1/m) entries, bernoulli +-1/sqrt(m), "
     "subsampled or fourier rows (m <= n), identity (m = n: network inversion)"},
    {"noise", GPMC_PARAM_CHOICE, "none", 0, 0, "none|snr|tau", GPMC_PARAM_NOHASH,
     "eta = |eta| e, e uniform on the sphere: none; snr: |eta| = |A G(x*)| 10^(-noise_level/10) "
     "(the paper's SNR, a norm ratio in dB); tau: |eta| = noise_level (|G(x*)| = 1)"},
    {"noise_level", GPMC_PARAM_REAL, "0", -300, 1e6, NULL, GPMC_PARAM_NOHASH,
     "SNR in dB (noise = snr) or |eta| (noise = tau, >= 0)"},
    {"step", GPMC_PARAM_REAL, "0.7", 0, 10, NULL, GPMC_PARAM_NOHASH, "step size alpha"},
    {"max_iter", GPMC_PARAM_INT, "10000", 1, 1e9, NULL, GPMC_PARAM_NOHASH,
     "most steps (the paper's text says 10,000; its code ran 20,000 for Fig. 1)"},
    {"tol", GPMC_PARAM_REAL, "1e-10", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "stop once the subgradient's norm |v| < tol"},
    {"threshold", GPMC_PARAM_REAL, "1e-3", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "success: |x_T - x*| / |x*| < threshold"},
    {"init_scale", GPMC_PARAM_REAL, "1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "x0 ~ N(0, init_scale^2 I_k)"},
};

enum { F_ERR_LATENT, F_ERR_OUTPUT, F_LOSS, F_ITERS, F_CONVERGED, F_FLIPS, F_SUCCESS, NFIELDS };

static const gpmc_field_def fields[] = {
    {"err_latent", NULL, NULL, NULL, 0, "1",
     "|x_T - x*| / |x*| (NaN if the descent diverged, or G was 0 at 100 draws of x*)"},
    {"err_output", NULL, NULL, NULL, 0, "1",
     "|G(x_T) - G(x*)| / |G(x*)| (NaN if the descent diverged or G(x*) = 0)"},
    {"loss", NULL, NULL, NULL, 0, "1",
     "f(x_T) = 1/2 |A G(x_T) - b|^2 (NaN if the descent diverged or G(x*) = 0)"},
    {"iterations", NULL, NULL, NULL, 0, "steps", "steps taken (max_iter unless it stopped)"},
    {"converged", NULL, NULL, NULL, 0, "0/1", "1 if |v| < tol before max_iter"},
    {"flips", NULL, NULL, NULL, 0, "steps", "steps that took -x (f(-x) < f(x))"},
    {"success", NULL, NULL, NULL, GPMC_FIELD_SUCCESS, "0/1",
     "1 if err_latent < threshold: /summary/success has its rate and Clopper-Pearson 95%"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

/* Draws of x* before a network dead at every one of them gives up (NaN errors). */
#define XSTAR_DRAWS 100

typedef struct {
    size_t k, n, m, depth;
    gpmc_net *net;
    gpmc_measure *A;
    gpmc_prior_lsq *lsq;
    double *xstar, *ystar, *b, *e, *x, *gx;
} cs_ws;

static size_t widths_of(const gpmc_point *pt, size_t *width)
{
    const gpmc_value *w = &pt->values[P_WIDTHS];
    width[0] = (size_t)gpmc_point_int_at(pt, P_K);
    for (size_t i = 0; i < w->len; i++)
        width[i + 1] = (size_t)w->list[i];
    return w->len;
}

static size_t cs_workspace_bytes(const gpmc_point *pt)
{
    size_t width[GPMC_LIST_MAX + 1], d = widths_of(pt, width);
    size_t m = (size_t)gpmc_point_int_at(pt, P_M), n = width[d], doubles = 0;
    for (size_t i = 1; i <= d; i++)
        doubles = gpmc_size_add(doubles, gpmc_size_mul(width[i], width[i - 1]));
    doubles = gpmc_size_add(doubles, gpmc_size_mul(m, n)); /* a dense A */
    doubles = gpmc_size_add(doubles, gpmc_size_add(gpmc_size_mul(3, width[0]),
                                                   gpmc_size_add(3 * m, 2 * n)));
    size_t bytes = gpmc_size_mul(doubles, sizeof(double));
    return gpmc_size_add(bytes, gpmc_prior_lsq_bytes(width, d, m));
}

static int cs_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    size_t width[GPMC_LIST_MAX + 1], d = widths_of(pt, width);
    size_t m = (size_t)gpmc_point_int_at(pt, P_M), n = width[d];
    long meas = gpmc_point_int_at(pt, P_MEAS), noise = gpmc_point_int_at(pt, P_NOISE);
    double level = gpmc_point_real_at(pt, P_LEVEL);
    if (gpmc_measure_shape_error((gpmc_measure_kind)meas, m, n, msg, msglen))
        return 1; /* n: the last of widths */
    if (noise == NOISE_TAU && level < 0) {
        snprintf(msg, msglen, "noise = tau: noise_level (=%g) is |eta| and must be >= 0", level);
        return 1;
    }
    if (noise == NOISE_SNR && level > 300) {
        snprintf(msg, msglen, "noise = snr: noise_level (=%g dB) must be <= 300 dB", level);
        return 1;
    }
    if (cs_workspace_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "widths and m (=%zu): the workspace size overflows", m);
        return 1;
    }
    return 0;
}

static void cs_free(void *p)
{
    cs_ws *ws = p;
    if (!ws)
        return;
    gpmc_prior_lsq_free(ws->lsq);
    gpmc_measure_free(ws->A);
    gpmc_net_free(ws->net);
    free(ws->xstar);
    free(ws->ystar);
    free(ws->b);
    free(ws->e);
    free(ws->x);
    free(ws->gx);
    free(ws);
}

static void *cs_alloc(const gpmc_point *pt)
{
    cs_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    size_t width[GPMC_LIST_MAX + 1];
    ws->depth = widths_of(pt, width);
    ws->k = width[0];
    ws->n = width[ws->depth];
    ws->m = (size_t)gpmc_point_int_at(pt, P_M);
    ws->net = gpmc_net_alloc(ws->depth, width);
    ws->A = gpmc_measure_alloc((gpmc_measure_kind)gpmc_point_int_at(pt, P_MEAS), ws->m, ws->n);
    if (ws->net && ws->A)
        ws->lsq = gpmc_prior_lsq_alloc(ws->net, ws->A);
    ws->xstar = malloc(ws->k * sizeof(double));
    ws->x = malloc(ws->k * sizeof(double));
    ws->ystar = malloc(ws->n * sizeof(double));
    ws->gx = malloc(ws->n * sizeof(double));
    ws->b = malloc(ws->m * sizeof(double));
    ws->e = malloc(ws->m * sizeof(double));
    if (!ws->lsq || !ws->xstar || !ws->x || !ws->ystar || !ws->gx || !ws->b || !ws->e) {
        cs_free(ws);
        return NULL;
    }
    return ws;
}

static double dist(const double *a, const double *b, size_t len)
{
    double s = 0;
    for (size_t i = 0; i < len; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

static void record_nan(gpmc_record *rec, const gpmc_descent_result *r)
{
    gpmc_record_set(rec, F_ERR_LATENT, NAN);
    gpmc_record_set(rec, F_ERR_OUTPUT, NAN);
    gpmc_record_set(rec, F_LOSS, NAN);
    gpmc_record_set(rec, F_ITERS, (double)r->iterations);
    gpmc_record_set(rec, F_CONVERGED, 0);
    gpmc_record_set(rec, F_FLIPS, (double)r->flips);
    gpmc_record_set(rec, F_SUCCESS, 0);
}

static int cs_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    cs_ws *ws = wsp;
    const size_t k = ws->k, n = ws->n, m = ws->m;
    gpmc_descent_result res = {0};

    /* The network, then A (substream 0). */
    gpmc_net_sample(ws->net, s->r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_measure_sample(ws->A, s->r);

    /* x* scaled so |G(x*)| = 1: G is positively homogeneous (substream 1). */
    gpmc_stream_substream(s, 1);
    double gnorm = 0;
    for (int draw = 0; draw < XSTAR_DRAWS && !(gnorm > 0); draw++) {
        gpmc_rng_gaussian(s->r, 1.0, ws->xstar, k);
        gpmc_prior_lsq_output(ws->lsq, ws->xstar, ws->ystar);
        gnorm = cblas_dnrm2((int)n, ws->ystar, 1);
    }
    if (!(gnorm > 0)) {
        record_nan(rec, &res);
        return GPMC_OK;
    }
    cblas_dscal((int)k, 1 / gnorm, ws->xstar, 1);
    cblas_dscal((int)n, 1 / gnorm, ws->ystar, 1);

    /* b = A G(x*) + eta, eta = |eta| e with e uniform on the sphere (substream 2). */
    gpmc_measure_apply(ws->A, ws->ystar, ws->b);
    long noise = gpmc_point_int_at(pt, P_NOISE);
    if (noise != NOISE_NONE) {
        double level = gpmc_point_real_at(pt, P_LEVEL);
        double tau = noise == NOISE_TAU ? level
                                        : cblas_dnrm2((int)m, ws->b, 1) * pow(10, -level / 10);
        gpmc_stream_substream(s, 2);
        gpmc_rng_unit_vector(s->r, ws->e, m);
        cblas_daxpy((int)m, tau, ws->e, 1, ws->b, 1);
    }

    /* x0 ~ N(0, init_scale^2 I) (substream 3), then Algorithm 2. */
    gpmc_stream_substream(s, 3);
    gpmc_rng_gaussian(s->r, gpmc_point_real_at(pt, P_INIT), ws->x, k);
    gpmc_descent_opts opts = {.step = gpmc_point_real_at(pt, P_STEP),
                              .tol = gpmc_point_real_at(pt, P_TOL),
                              .max_iter = gpmc_point_int_at(pt, P_MAX_ITER),
                              .sign_flip = 1, .poll_every = 64};
    int st = gpmc_prior_lsq_descend(ws->lsq, ws->b, ws->x, &opts, s, &res);
    if (st)
        return st;
    if (res.diverged) {
        record_nan(rec, &res);
        return GPMC_OK;
    }
    double err = dist(ws->x, ws->xstar, k) / cblas_dnrm2((int)k, ws->xstar, 1);
    gpmc_prior_lsq_output(ws->lsq, ws->x, ws->gx);
    gpmc_record_set(rec, F_ERR_LATENT, err);
    gpmc_record_set(rec, F_ERR_OUTPUT, dist(ws->gx, ws->ystar, n)); /* |G(x*)| = 1 */
    gpmc_record_set(rec, F_LOSS, res.loss);
    gpmc_record_set(rec, F_ITERS, (double)res.iterations);
    gpmc_record_set(rec, F_CONVERGED, res.converged);
    gpmc_record_set(rec, F_FLIPS, (double)res.flips);
    gpmc_record_set(rec, F_SUCCESS, err < gpmc_point_real_at(pt, P_THRESHOLD));
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_cs = {
    .name = "cs",
    .summary = "compressed sensing with a random ReLU prior, b = A G(x*) + eta, by Algorithm 2 "
               "(subgradient descent with the sign-flip check); identity A = network inversion",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = cs_check,
    .workspace_alloc = cs_alloc,
    .workspace_bytes = cs_workspace_bytes,
    .workspace_free = cs_free,
    .trial = cs_trial,
};
