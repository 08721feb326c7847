/* The landscape of network inversion (Hand-Voroninski §II; MATH.md "Recovery problems" 8 and
 * "Closed forms of the landscape"): for random x, x0 and a random d-layer network, how far
 * the gradient v_{x,x0} of 1/2 |G(x) - G(x0)|^2 is from its concentrated closed form h_{x,x0},
 * and where plain gradient descent from x ends: near x0, near -rho_d x0 (the other critical
 * point of h), or elsewhere. Per trial, in stream order: the network (substream 0), x0 (1),
 * x (2). The descent is prior_lsq's with A = I and no sign flip. */
#include "gpmc/experiment.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/prior_lsq.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"
#include "gpmc/theory.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { P_K, P_WIDTH, P_DEPTH, P_START, P_ANGLE, P_STEP, P_MAX_ITER, P_TOL, P_NEAR, NPARAMS };

enum { START_GAUSSIAN, START_ANGLE };

static const gpmc_param_def params[] = {
    {"k", GPMC_PARAM_INT, NULL, 1, 1e5, NULL, 0, "latent dimension"},
    {"width", GPMC_PARAM_INT, NULL, 1, 1e6, NULL, 0,
     "width of every layer (weights N(0, 1/width)); a grid axis shows the concentration"},
    {"depth", GPMC_PARAM_INT, "2", 1, 64, NULL, 0, "layers d"},
    {"start", GPMC_PARAM_CHOICE, "gaussian", 0, 0, "gaussian|angle", 0,
     "x ~ N(0, I_k); or angle: |x| = |x0| at start_angle from x0 (random plane): a grid of "
     "angles near pi shows the basin of -rho_d x0"},
    {"start_angle", GPMC_PARAM_REAL, "3", 0, 3.141592653589793, NULL, 0,
     "start = angle: the angle between x and x0, radians"},
    {"step", GPMC_PARAM_REAL, "1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "gradient-descent step, in units of 2^d (the Hessian inside a cell is ~2^-d I)"},
    {"max_iter", GPMC_PARAM_INT, "2000", 0, 1e9, NULL, GPMC_PARAM_NOHASH, "most descent steps"},
    {"tol", GPMC_PARAM_REAL, "1e-10", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "stop once the gradient's norm < tol"},
    {"near", GPMC_PARAM_REAL, "0.1", 0, 1e6, NULL, GPMC_PARAM_NOHASH,
     "near_x0 / near_neg_rho: x_T within near |x0| of x0 / of -rho_d x0"},
};

enum { F_GRAD_DEV, F_RHO, F_NEAR_X0, F_NEAR_NEG, F_ELSEWHERE, F_ITERS, F_DIST, NFIELDS };

static const gpmc_field_def fields[] = {
    {"grad_dev", NULL, NULL, NULL, 0, "1",
     "2^d |v_{x,x0} - h_{x,x0}| / max(|x|, |x0|) at the random x (v from the network, h the "
     "closed form)"},
    {"rho", NULL, NULL, NULL, 0, "1", "rho_d from its recursion: h vanishes at -rho_d x0"},
    {"near_x0", NULL, NULL, NULL, GPMC_FIELD_SUCCESS, "0/1",
     "descent from x ended within near |x0| of x0 (rate and Clopper-Pearson 95%)"},
    {"near_neg_rho", NULL, NULL, NULL, GPMC_FIELD_SUCCESS, "0/1",
     "ended within near |x0| of -rho_d x0 (rate and Clopper-Pearson 95%)"},
    {"elsewhere", NULL, NULL, NULL, GPMC_FIELD_SUCCESS, "0/1",
     "ended near neither (rate and Clopper-Pearson 95%)"},
    {"iterations", NULL, NULL, NULL, 0, "steps", "descent steps taken"},
    {"dist_x0", NULL, NULL, NULL, 0, "1",
     "|x_T - x0| / |x0| (NaN if the descent diverged)"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    size_t k, n, depth;
    gpmc_net *net;
    gpmc_measure *I;
    gpmc_prior_lsq *lsq;
    double *x0, *x, *y0, *v, *h;
} landscape_ws;

static void widths(const gpmc_point *pt, size_t *width, size_t *depth)
{
    *depth = (size_t)gpmc_point_int_at(pt, P_DEPTH);
    width[0] = (size_t)gpmc_point_int_at(pt, P_K);
    for (size_t i = 1; i <= *depth; i++)
        width[i] = (size_t)gpmc_point_int_at(pt, P_WIDTH);
}

static size_t landscape_bytes(const gpmc_point *pt)
{
    size_t width[65] = {0}, d;
    widths(pt, width, &d);
    size_t n = width[1], k = width[0];
    size_t doubles = gpmc_size_add(gpmc_size_mul(n, k), gpmc_size_mul(d - 1, gpmc_size_mul(n, n)));
    doubles = gpmc_size_add(doubles, gpmc_size_add(4 * k, n));
    return gpmc_size_add(gpmc_size_mul(doubles, sizeof(double)), gpmc_prior_lsq_bytes(width, d, n));
}

static int landscape_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    if (landscape_bytes(pt) == SIZE_MAX) {
        snprintf(msg, msglen, "width (=%ld) and depth (=%ld): the workspace size overflows",
                 gpmc_point_int_at(pt, P_WIDTH), gpmc_point_int_at(pt, P_DEPTH));
        return 1;
    }
    return 0;
}

static void landscape_free(void *p)
{
    landscape_ws *ws = p;
    if (!ws)
        return;
    gpmc_prior_lsq_free(ws->lsq);
    gpmc_measure_free(ws->I);
    gpmc_net_free(ws->net);
    free(ws->x0);
    free(ws->x);
    free(ws->y0);
    free(ws->v);
    free(ws->h);
    free(ws);
}

static void *landscape_alloc(const gpmc_point *pt)
{
    landscape_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    size_t width[65] = {0};
    widths(pt, width, &ws->depth);
    ws->k = width[0];
    ws->n = width[ws->depth];
    ws->net = gpmc_net_alloc(ws->depth, width);
    ws->I = gpmc_measure_alloc(GPMC_MEASURE_IDENTITY, ws->n, ws->n);
    if (ws->net && ws->I)
        ws->lsq = gpmc_prior_lsq_alloc(ws->net, ws->I);
    ws->x0 = malloc(ws->k * sizeof(double));
    ws->x = malloc(ws->k * sizeof(double));
    ws->v = malloc(ws->k * sizeof(double));
    ws->h = malloc(ws->k * sizeof(double));
    ws->y0 = malloc(ws->n * sizeof(double));
    if (!ws->lsq || !ws->x0 || !ws->x || !ws->v || !ws->h || !ws->y0) {
        landscape_free(ws);
        return NULL;
    }
    return ws;
}

static double dist_scaled(const double *a, double s, const double *b, size_t k)
{
    double d = 0; /* |a - s b| */
    for (size_t i = 0; i < k; i++)
        d += (a[i] - s * b[i]) * (a[i] - s * b[i]);
    return sqrt(d);
}

static int landscape_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    landscape_ws *ws = wsp;
    const size_t k = ws->k;
    const int d = (int)ws->depth;
    gpmc_net_sample(ws->net, s->r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_stream_substream(s, 1);
    gpmc_rng_gaussian(s->r, 1.0, ws->x0, k);
    gpmc_stream_substream(s, 2);
    gpmc_rng_gaussian(s->r, 1.0, ws->x, k);
    double nx0 = cblas_dnrm2((int)k, ws->x0, 1);
    if (gpmc_point_int_at(pt, P_START) == START_ANGLE && k > 1) {
        /* x = |x0| (cos a x0^ + sin a e), e the unit part of the draw orthogonal to x0 */
        double c = cblas_ddot((int)k, ws->x, 1, ws->x0, 1) / (nx0 * nx0);
        cblas_daxpy((int)k, -c, ws->x0, 1, ws->x, 1);
        double ne = cblas_dnrm2((int)k, ws->x, 1), a = gpmc_point_real_at(pt, P_ANGLE);
        cblas_dscal((int)k, nx0 * sin(a) / ne, ws->x, 1);
        cblas_daxpy((int)k, cos(a), ws->x0, 1, ws->x, 1);
    } else if (gpmc_point_int_at(pt, P_START) == START_ANGLE) {
        ws->x[0] = cos(gpmc_point_real_at(pt, P_ANGLE)) > 0 ? ws->x0[0] : -ws->x0[0];
    }

    /* v at x: the gradient of 1/2 |G(x) - G(x0)|^2 (A = I, b = G(x0)). */
    gpmc_prior_lsq_output(ws->lsq, ws->x0, ws->y0);
    gpmc_prior_lsq_eval(ws->lsq, ws->y0, ws->x, ws->v);
    gpmc_theory_h(ws->x, ws->x0, k, d, ws->h);
    double nx = cblas_dnrm2((int)k, ws->x, 1);
    double dev = 0;
    for (size_t i = 0; i < k; i++)
        dev += (ws->v[i] - ws->h[i]) * (ws->v[i] - ws->h[i]);
    double rho = gpmc_theory_rho(d);
    gpmc_record_set(rec, F_GRAD_DEV, ldexp(sqrt(dev), d) / fmax(nx, nx0));
    gpmc_record_set(rec, F_RHO, rho);

    gpmc_descent_opts opts = {.step = ldexp(gpmc_point_real_at(pt, P_STEP), d),
                              .tol = gpmc_point_real_at(pt, P_TOL),
                              .max_iter = gpmc_point_int_at(pt, P_MAX_ITER),
                              .sign_flip = 0, .poll_every = 64};
    gpmc_descent_result res;
    int st = gpmc_prior_lsq_descend(ws->lsq, ws->y0, ws->x, &opts, s, &res);
    if (st)
        return st;
    double near = gpmc_point_real_at(pt, P_NEAR) * nx0;
    double to_x0 = res.diverged ? NAN : dist_scaled(ws->x, 1, ws->x0, k);
    double to_neg = res.diverged ? NAN : dist_scaled(ws->x, -rho, ws->x0, k);
    int at_x0 = to_x0 <= near, at_neg = !at_x0 && to_neg <= near;
    gpmc_record_set(rec, F_NEAR_X0, at_x0);
    gpmc_record_set(rec, F_NEAR_NEG, at_neg);
    gpmc_record_set(rec, F_ELSEWHERE, !at_x0 && !at_neg);
    gpmc_record_set(rec, F_ITERS, (double)res.iterations);
    gpmc_record_set(rec, F_DIST, to_x0 / nx0);
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_landscape = {
    .name = "landscape",
    .summary = "the inversion landscape of a random ReLU network: 2^d |v_{x,x0} - h_{x,x0}| and "
               "where gradient descent ends (near x0, near -rho_d x0, elsewhere)",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = landscape_check,
    .workspace_alloc = landscape_alloc,
    .workspace_bytes = landscape_bytes,
    .workspace_free = landscape_free,
    .trial = landscape_trial,
};
