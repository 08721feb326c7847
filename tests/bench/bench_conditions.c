/* Benchmark of the RRIC quadruple evaluator (rric_eval.h), the R2WDC tuple evaluator
 * (r2wdc_eval.h) and the deep decoder's Monte Carlo Gram (ddjac.h), each against the BLAS
 * measured in the same run, as bench_wdc does for the WDC pair evaluator.
 *
 * Neither evaluator exports a flop count, so the count here is of the GEMMs each makes per
 * batch, read off its source (all are C = A B^T, row-major):
 *   rric  (rric_eval.c eval_x): the forward pass of the 4 nb vectors, one GEMM a layer
 *         (4nb x n_i x n_{i-1}), and A applied to the nb u's and the nb v's (nb x m x n,
 *         a Gaussian A is dense). Random quadruples are never in one cell, so the batched
 *         Jacobian product (near pairs) does not run.
 *   r2wdc (r2wdc_eval.c, layer j, n = n_{j-1}, nj = n_j): the forward pass of the 6 nb
 *         vectors through layers 1..j-1, Z = [r s u v] W_j^T (4nb x nj x n), and per tuple
 *         the near value's products: the two Jacobians Lambda_{j-1} (I_k through layers
 *         1..j-1, k x n_i x n_{i-1} each, net.c lambda_chain), B W_j^T for both bases
 *         (k x nj x n, twice), K = CU CV^T (k x k x nj), B_U B_V^T (k x k x n) and
 *         B [e1 e2] (k x 2 x n, twice), bases of full rank k. Not counted: the two dgesvd's
 *         of n x k per tuple (LAPACK, not a GEMM), masks and Q.
 *   r2wdc_pieces (r2wdc_pieces.c, layer 2 over all pairs of W_1's P cells, R = P min(k, n1)
 *         basis rows, counted as of full rank): per pair W_1 x and W_1 y (2 x n1 x k),
 *         B D (R x n1 x n1) and (B D) B^T (R x R x n1). Not counted: D itself (the WDC
 *         evaluator of W_2, whose masked Gram skips the rows inactive at r or s), the
 *         blocks' screen and the LAPACK norms of the blocks it keeps.
 *   ddjac (ddjac.c accumulate): per chunk of K channels one SYRK of the activations,
 *         n(n+1) K flops (one triangle of the n x n x K product); its floor is dgemm on
 *         that n x n x K shape at 2 n^2 K flops, so both rates are GFLOP/s of useful work.
 *         Not counted: drawing C, the FFTs of U C and the activations.
 * For each size it prints the evaluator's rate, its effective GFLOP/s over that count, the
 * GFLOP/s of cblas_dgemm on exactly those shapes alone (what the evaluator would reach if
 * everything else were free) and the ratio in percent; first, the OpenBLAS kernel in use
 * (chosen as gpmc does: include/gpmc/blas_kernel.h) and a square dgemm's GFLOP/s.
 *
 * Output (`key=value` words for tests/bench/run_bench.sh):
 *   blas kernel: <name>
 *   dgemm n=1000 gflops=..
 *   rric_eval k=.. widths=a,b m=.. batch=.. quads_per_s=.. us_per_quad=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..                                 (one line)
 *   r2wdc_eval k=.. widths=a,b layer=.. batch=.. tuples_per_s=.. us_per_tuple=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..                                 (one line)
 *   r2wdc_pieces_eval k=.. widths=a,b cells=.. pairs_per_s=.. us_per_pair=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..                                 (one line)
 *   ddjac_eval n=.. k=.. chunk=.. samples_per_s=.. us_per_sample=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..                                 (one line)
 *   jwdc_eval ell=.. n=.. p=.. batch=.. tuples_per_s=.. us_per_tuple=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..                                 (one line)
 *   cwdc_eval c0=.. c1=.. d0=.. s=.. q=.. batch=.. pairs_per_s=.. us_per_pair=.. gflops=..
 *             dgemm_gflops=.. pct_of_dgemm=..   (cwdc_eval.c: Z = [X; Y] W^T, 2nb x N x k,
 *             and per window masks times the window's stacked outer products, counted as
 *             nb x kw(kw+1)/2 x N at the largest window; not counted: the windows' Q and
 *             the k x k eigensolver per pair)
 * Usage: bench_conditions   (batches: rric 128, r2wdc 16, the experiments' defaults). One
 * BLAS thread. */
#include "benchutil.h"

#include "gpmc/blas_kernel.h"
#include "gpmc/ddjac.h"
#include "gpmc/cwdc_eval.h"
#include "gpmc/error.h"
#include "gpmc/jwdc_eval.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/r2wdc_eval.h"
#include "gpmc/r2wdc_pieces.h"
#include "gpmc/rng.h"
#include "gpmc/theory.h"
#include "gpmc/rric_eval.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void openblas_set_num_threads(int num_threads);

#define WHO "bench_conditions"
#define MAXSHAPES 16

/* ---- the GEMM floor: shapes C (M x N) = A (M x K) B^T (N x K), each `reps` times ---- */

typedef struct {
    int M, N, K, reps;
    double *a, *b, *c;
} shape;

typedef struct {
    shape s[MAXSHAPES];
    size_t ns;
} gemms;

static void add(gemms *g, size_t M, size_t N, size_t K, size_t reps)
{
    if (g->ns == MAXSHAPES) {
        fprintf(stderr, WHO ": too many shapes\n");
        exit(1);
    }
    g->s[g->ns++] = (shape){.M = (int)M, .N = (int)N, .K = (int)K, .reps = (int)reps};
}

static double flops(const gemms *g)
{
    double f = 0;
    for (size_t i = 0; i < g->ns; i++)
        f += 2.0 * g->s[i].M * g->s[i].N * g->s[i].K * g->s[i].reps;
    return f;
}

static void run_gemms(void *p)
{
    gemms *g = p;
    for (size_t i = 0; i < g->ns; i++) {
        shape *s = &g->s[i];
        for (int r = 0; r < s->reps; r++)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->M, s->N, s->K, 1.0, s->a,
                        s->K, s->b, s->K, 0.0, s->c, s->N);
    }
}

/* GFLOP/s of the shapes alone, on Gaussian operands. */
static double gemm_gflops(gemms *g, gsl_rng *r)
{
    for (size_t i = 0; i < g->ns; i++) {
        shape *s = &g->s[i];
        size_t M = (size_t)s->M, N = (size_t)s->N, K = (size_t)s->K;
        s->a = bench_xmalloc(WHO, M * K * sizeof(double));
        s->b = bench_xmalloc(WHO, N * K * sizeof(double));
        s->c = bench_xmalloc(WHO, M * N * sizeof(double));
        gpmc_rng_gaussian(r, 1.0, s->a, M * K);
        gpmc_rng_gaussian(r, 1.0, s->b, N * K);
    }
    double t = bench_time_it(run_gemms, g, 1.0);
    for (size_t i = 0; i < g->ns; i++)
        free(g->s[i].a), free(g->s[i].b), free(g->s[i].c);
    return flops(g) / t / 1e9;
}

/* A network k -> widths, Gaussian weights; exits on failure. */
static gpmc_net *network(size_t k, const size_t *widths, size_t d, gsl_rng *r, size_t *width)
{
    width[0] = k;
    for (size_t i = 0; i < d; i++)
        width[i + 1] = widths[i];
    gpmc_net *net = gpmc_net_alloc(d, width);
    if (!net) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    return net;
}

/* t[0..nv) of nb unit rows of length len each. */
static void unit_rows(double **t, size_t nv, size_t nb, size_t len, gsl_rng *r)
{
    for (size_t v = 0; v < nv; v++) {
        t[v] = bench_xmalloc(WHO, nb * len * sizeof(double));
        for (size_t b = 0; b < nb; b++)
            gpmc_rng_unit_vector(r, t[v] + b * len, len);
    }
}

/* `what` <unit>s_per_s=.. us_per_<unit>=.. and the GFLOP/s of the evaluator (t_eval
 * seconds per batch of nb) and of the shapes g alone. */
static void free_rows(double **t, size_t nv)
{
    for (size_t v = 0; v < nv; v++)
        free(t[v]);
}

static void print_result(const char *what, const char *unit, size_t nb, double t_eval,
                         gemms *g, gsl_rng *r)
{
    double f = flops(g), gf = f / t_eval / 1e9, gf_ref = gemm_gflops(g, r);
    printf("%s %ss_per_s=%.0f us_per_%s=%.3f gflops=%.2f dgemm_gflops=%.2f pct_of_dgemm=%.1f\n",
           what, unit, (double)nb / t_eval, unit, 1e6 * t_eval / (double)nb, gf, gf_ref,
           100 * gf / gf_ref);
}

/* ---- rric ----------------------------------------------------------------------------- */

typedef struct {
    gpmc_rric_eval *ev;
    const double *t[4];
    size_t nb;
    double *val;
} rric_bench;

static void run_rric(void *p)
{
    rric_bench *b = p;
    if (gpmc_rric_eval_quads(b->ev, b->t, b->nb, b->val) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
}

static void bench_rric(size_t k, size_t w1, size_t w2, size_t m, size_t nb, gsl_rng *r)
{
    size_t widths[2] = {w1, w2}, width[3], n = w2;
    gpmc_net *net = network(k, widths, 2, r, width);
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_GAUSSIAN, m, n);
    gpmc_rric_eval *ev = A ? gpmc_rric_eval_alloc(net, A, nb, 8) : NULL; /* 8: span_cells */
    if (!ev) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
    gpmc_measure_sample(A, r);
    double *t[4];
    unit_rows(t, 4, nb, k + 1, r); /* lifted vectors: unit in R^{k+1} */
    rric_bench b = {.ev = ev, .t = {t[0], t[1], t[2], t[3]}, .nb = nb,
                    .val = bench_xmalloc(WHO, nb * sizeof(double))};
    double t_eval = bench_time_it(run_rric, &b, 1.5);

    gemms g = {.ns = 0};
    for (size_t i = 1; i <= 2; i++)
        add(&g, 4 * nb, width[i], width[i - 1], 1);
    add(&g, nb, m, n, 2);
    char what[128];
    snprintf(what, sizeof what, "rric_eval k=%zu widths=%zu,%zu m=%zu batch=%zu", k, w1, w2, m,
             nb);
    print_result(what, "quad", nb, t_eval, &g, r);

    free_rows(t, 4);
    free(b.val);
    gpmc_rric_eval_free(ev);
    gpmc_measure_free(A);
    gpmc_net_free(net);
}

/* ---- r2wdc ---------------------------------------------------------------------------- */

typedef struct {
    gpmc_r2wdc_eval *ev;
    size_t j, nb;
    const double *t[6];
    double *val;
} r2wdc_bench;

static void run_r2wdc(void *p)
{
    r2wdc_bench *b = p;
    if (gpmc_r2wdc_eval_tuples(b->ev, b->j, b->t, b->nb, b->val, NULL, NULL) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
}

/* Layer 2 of k -> w1 -> w2: the layer whose near value needs bases of range(Lambda_1). */
static void bench_r2wdc(size_t k, size_t w1, size_t w2, size_t nb, gsl_rng *r)
{
    size_t widths[2] = {w1, w2}, width[3], j = 2;
    gpmc_net *net = network(k, widths, 2, r, width);
    gpmc_r2wdc_eval *ev = gpmc_r2wdc_eval_alloc(net, nb);
    if (!ev) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
    double *t[6];
    unit_rows(t, 6, nb, k, r);
    r2wdc_bench b = {.ev = ev, .j = j, .nb = nb,
                     .t = {t[0], t[1], t[2], t[3], t[4], t[5]},
                     .val = bench_xmalloc(WHO, nb * sizeof(double))};
    double t_eval = bench_time_it(run_r2wdc, &b, 1.5);

    size_t n = width[j - 1], nj = width[j];
    gemms g = {.ns = 0};
    for (size_t i = 1; i < j; i++)
        add(&g, 6 * nb, width[i], width[i - 1], 1);
    add(&g, 4 * nb, nj, n, 1);
    for (size_t i = 1; i < j; i++)
        add(&g, k, width[i], width[i - 1], 2 * nb);
    add(&g, k, nj, n, 2 * nb);
    add(&g, k, k, nj, nb);
    add(&g, k, k, n, nb);
    add(&g, k, 2, n, 2 * nb);
    char what[128];
    snprintf(what, sizeof what, "r2wdc_eval k=%zu widths=%zu,%zu layer=%zu batch=%zu", k, w1,
             w2, j, nb);
    print_result(what, "tuple", nb, t_eval, &g, r);

    free_rows(t, 6);
    free(b.val);
    gpmc_r2wdc_eval_free(ev);
    gpmc_net_free(net);
}

/* ---- r2wdc pieces --------------------------------------------------------------------- */

typedef struct {
    gpmc_r2wdc_pieces *p;
    const double *x, *y;
    size_t nb;
    double *val;
} pieces_bench;

static void run_pieces(void *p)
{
    pieces_bench *b = p;
    if (gpmc_r2wdc_pieces_eval(b->p, b->x, b->y, b->nb, b->val) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
}

/* Layer 2 of k -> w1 -> w2 over all cell pairs: r2wdc's cell_pairs objective. */
static void bench_r2wdc_pieces(size_t k, size_t w1, size_t w2, size_t nb, gsl_rng *r)
{
    size_t widths[2] = {w1, w2}, width[3], cells;
    gpmc_net *net = network(k, widths, 2, r, width);
    gpmc_r2wdc_pieces *pc = gpmc_r2wdc_pieces_alloc(net, 4096, nb);
    if (!pc || gpmc_r2wdc_pieces_set(pc, &cells) != GPMC_OK) {
        fprintf(stderr, WHO ": r2wdc pieces k=%zu widths=%zu,%zu: %s\n", k, w1, w2,
                gpmc_error_message());
        exit(1);
    }
    double *t[2];
    unit_rows(t, 2, nb, k, r);
    pieces_bench b = {.p = pc, .x = t[0], .y = t[1], .nb = nb,
                      .val = bench_xmalloc(WHO, nb * sizeof(double))};
    double t_eval = bench_time_it(run_pieces, &b, 1.5);
    size_t R = cells * (k < w1 ? k : w1);
    gemms g = {.ns = 0};
    add(&g, 2, w1, k, nb);
    add(&g, R, w1, w1, nb);
    add(&g, R, R, w1, nb);
    char what[128];
    snprintf(what, sizeof what, "r2wdc_pieces_eval k=%zu widths=%zu,%zu cells=%zu", k, w1, w2,
             cells);
    print_result(what, "pair", nb, t_eval, &g, r);
    free_rows(t, 2);
    free(b.val);
    gpmc_r2wdc_pieces_free(pc);
    gpmc_net_free(net);
}

/* ---- ddjac ---------------------------------------------------------------------------- */

typedef struct {
    gpmc_ddjac *d;
    gsl_rng *r;
    size_t samples;
} ddjac_bench;

static void run_ddjac(void *p)
{
    ddjac_bench *b = p;
    gpmc_ddjac_gram_reset(b->d);
    gpmc_ddjac_gram_add_mc(b->d, b->r, b->samples);
}

/* Monte Carlo samples per second of Sigma_hat (draws, FFTs, activations, SYRK), as the
 * experiment runs them: chunks of 256 channels, triangular kernel of width n/16. */
static void bench_ddjac(size_t n, size_t k, size_t samples, gsl_rng *r)
{
    size_t chunk = 256;
    gpmc_ddjac *d = gpmc_ddjac_alloc(n, k, chunk);
    double *u = bench_xmalloc(WHO, n * sizeof *u);
    gpmc_ddjac_kernel(GPMC_DDJAC_TRIANGULAR, (double)n / 16, n, u);
    if (!d || gpmc_ddjac_set_kernel(d, u) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
    ddjac_bench b = {.d = d, .r = r, .samples = samples};
    double t_eval = bench_time_it(run_ddjac, &b, 1.5);
    double chans = (double)k * (double)samples;
    double gf = (double)n * (double)(n + 1) * chans / t_eval / 1e9;
    gemms g = {.ns = 0};
    add(&g, n, n, chunk, 1);
    double gf_ref = gemm_gflops(&g, r);
    printf("ddjac_eval n=%zu k=%zu chunk=%zu samples_per_s=%.0f us_per_sample=%.3f "
           "gflops=%.2f dgemm_gflops=%.2f pct_of_dgemm=%.1f\n",
           n, k, chunk, (double)samples / t_eval, 1e6 * t_eval / (double)samples, gf, gf_ref,
           100 * gf / gf_ref);
    free(u);
    gpmc_ddjac_free(d);
}

/* ---- cwdc ----------------------------------------------------------------------------- */

typedef struct {
    gpmc_cwdc_eval *ev;
    const double *x, *y;
    size_t nb;
    double *val;
} cwdc_bench;

static void run_cwdc(void *p)
{
    cwdc_bench *b = p;
    if (gpmc_cwdc_eval_pairs(b->ev, b->x, b->y, b->nb, b->val) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
}

static void bench_cwdc(gpmc_cwdc_shape sh, size_t nb, gsl_rng *r)
{
    size_t N = gpmc_cwdc_rows(&sh), k = gpmc_cwdc_cols(&sh), nf = sh.c1 * sh.c0 * sh.q;
    gpmc_cwdc_eval *ev = gpmc_cwdc_eval_alloc(&sh, nb);
    double *f = bench_xmalloc(WHO, nf * sizeof(double));
    double *w = bench_xmalloc(WHO, N * k * sizeof(double));
    if (!ev) {
        fprintf(stderr, WHO ": cwdc evaluator: out of memory\n");
        exit(1);
    }
    double sigma2 = 1.0 / (double)(sh.c1 * sh.q);
    gpmc_rng_gaussian(r, sqrt(sigma2), f, nf);
    gpmc_cwdc_build(&sh, f, w);
    gpmc_cwdc_eval_set_w(ev, w, sigma2);
    double *t[2];
    unit_rows(t, 2, nb, k, r);
    cwdc_bench b = {.ev = ev, .x = t[0], .y = t[1], .nb = nb,
                    .val = bench_xmalloc(WHO, nb * sizeof(double))};
    double t_eval = bench_time_it(run_cwdc, &b, 1.5);
    gemms g = {.ns = 0};
    add(&g, 2 * nb, N, k, 1);
    /* The windows' GEMMs (nb x kw(kw+1)/2 x R_J, sum R_J = N) as one shape at the largest
     * window kw = c0 ceil(q/s): the same count as gpmc_cwdc_gemm_flops, an upper one. */
    size_t kw = sh.c0 * ((sh.q + sh.s - 1) / sh.s);
    add(&g, nb, kw * (kw + 1) / 2, N, 1);
    char what[128];
    snprintf(what, sizeof what, "cwdc_eval c0=%zu c1=%zu d0=%zu s=%zu q=%zu batch=%zu", sh.c0,
             sh.c1, sh.d0, sh.s, sh.q, nb);
    print_result(what, "pair", nb, t_eval, &g, r);
    free_rows(t, 2);
    free(b.val);
    free(f);
    free(w);
    gpmc_cwdc_eval_free(ev);
}

/* ---- jwdc ------------------------------------------------------------------------------ */

typedef struct {
    gpmc_jwdc_eval *ev;
    const double *u, *v;
    size_t nb;
    double *e6, *e7;
} jwdc_bench;

static void run_jwdc(void *p)
{
    jwdc_bench *b = p;
    if (gpmc_jwdc_eval_tuples(b->ev, b->u, b->v, b->nb, b->e6, b->e7) != GPMC_OK) {
        fprintf(stderr, WHO ": %s\n", gpmc_error_message());
        exit(1);
    }
}

/* Truncated rows for B (ell x n) and C (ell x p), tuples (u, v) = ((h, m), (x, y)). */
static void bench_jwdc(size_t ell, size_t n, size_t p, size_t nb, gsl_rng *r)
{
    gpmc_jwdc_eval *ev = gpmc_jwdc_eval_alloc(ell, n, p, nb);
    double *bm = bench_xmalloc(WHO, ell * n * sizeof(double));
    double *cm = bench_xmalloc(WHO, ell * p * sizeof(double));
    if (!ev) {
        fprintf(stderr, WHO ": jwdc evaluator: out of memory\n");
        exit(1);
    }
    double sigma = 1 / sqrt((double)ell);
    gpmc_rng_truncated_rows(r, sigma, 3 * sqrt((double)n / (double)ell), ell, n, bm);
    gpmc_rng_truncated_rows(r, sigma, 3 * sqrt((double)p / (double)ell), ell, p, cm);
    gpmc_jwdc_eval_set(ev, bm, cm, gpmc_theory_alpha_truncated(n) * gpmc_theory_alpha_truncated(p));
    double *t[2];
    unit_rows(t, 2, nb, n + p, r);
    jwdc_bench b = {.ev = ev, .u = t[0], .v = t[1], .nb = nb,
                    .e6 = bench_xmalloc(WHO, nb * sizeof(double)),
                    .e7 = bench_xmalloc(WHO, nb * sizeof(double))};
    double t_eval = bench_time_it(run_jwdc, &b, 1.5);
    /* include/gpmc/jwdc_eval.h: [H; X] B^T, [M; Y] C^T, then the outer-product weights
     * against the packed b_i b_i^T and c_i c_i^T */
    gemms g = {.ns = 0};
    add(&g, 2 * nb, ell, n, 1);
    add(&g, 2 * nb, ell, p, 1);
    add(&g, nb, n * (n + 1) / 2, ell, 1);
    add(&g, nb, p * (p + 1) / 2, ell, 1);
    char what[128];
    snprintf(what, sizeof what, "jwdc_eval ell=%zu n=%zu p=%zu batch=%zu", ell, n, p, nb);
    print_result(what, "tuple", nb, t_eval, &g, r);
    free_rows(t, 2);
    free(b.e6), free(b.e7), free(bm), free(cm);
    gpmc_jwdc_eval_free(ev);
}

int main(int argc, char **argv)
{
    gpmc_blas_kernel_select(argc, argv); /* as gpmc does: may re-execute the benchmark */
    openblas_set_num_threads(1);         /* OPENBLAS_NUM_THREADS=1 too, but be sure */
    printf("blas kernel: %s\n", gpmc_blas_corename());
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 1, 2, 3, 0);
    printf("dgemm n=1000 gflops=%.2f\n", bench_square_gflops(1000, r, 1.0));
    bench_rric(5, 50, 200, 100, 128, r); /* rric's experiment defaults but wider */
    bench_rric(5, 20, 100, 50, 128, r);  /* rric's experiment defaults */
    bench_r2wdc(20, 700, 600, 16, r);    /* the paper's 2-layer setting (App. H) */
    bench_r2wdc(5, 50, 40, 16, r);
    bench_r2wdc_pieces(3, 10, 8, 16, r);    /* test_r2wdc's k = 3 network */
    bench_r2wdc_pieces(2, 100, 200, 16, r); /* jobs/specs/r2wdc_width.ini at k = 2 */
    bench_jwdc(1600, 4, 4, 128, r); /* jobs/specs/jwdc_ell.ini's n, p at a middle ell */
    bench_ddjac(128, 32, 256, r); /* jobs/specs/ddjac_samples.ini's n and channels */
    bench_cwdc((gpmc_cwdc_shape){4, 32, 8, 2, 3}, 32, r); /* cwdc_channels.ini's kernel 3, d0 8 */
    gpmc_rng_free(r);
    return 0;
}
