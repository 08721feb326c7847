/* Benchmark of the WDC pair evaluator (include/gpmc/wdc_eval.h), against the BLAS bound
 * measured in the same run.
 *
 * For each demo size it reports
 *   - the evaluator's rate in pairs/s and its effective GFLOP/s, counting only the two
 *     GEMMs' flops (gpmc_wdc_gemm_flops: pre-activations and masked Grams);
 *   - cblas_dgemm alone on exactly those two shapes, GFLOP/s: what the evaluator would
 *     reach if masks, Q and the eigenvalues were free; the ratio is the efficiency;
 *   - where the rest goes: the per-pair time of Q + extreme eigenvalues alone;
 *   - the climb of the shared search (include/gpmc/search.h) in candidates/s, with the
 *     screen (children ranked by certified Rayleigh-quotient bounds, LAPACK only for the
 *     kept child of each parent) and without it (every child's exact norm), and the
 *     value each reaches with the same budget on the same W;
 *   - a whole `wdc` trial (random + angle + search phases, RNG included) in pairs/s;
 *   - first, the OpenBLAS kernel in use ("blas kernel: <name>", chosen as gpmc does: see
 *     include/gpmc/blas_kernel.h) and a square dgemm's GFLOP/s, the kernel's plain speed.
 *
 * Usage: bench_wdc [batch]   (default 128, the experiment's default). One BLAS thread.
 * Output lines are `key=value` words so
 * tests/bench/run_bench.sh can pick numbers out. */
#include "gpmc/blas_kernel.h"
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"
#include "gpmc/theory.h"
#include "gpmc/wdc_eval.h"
#include "benchutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const gpmc_experiment gpmc_exp_wdc;
/* OpenBLAS's own API; its cblas.h cannot be included next to gsl_cblas.h. */
void openblas_set_num_threads(int num_threads);

#define now bench_now
#define time_it bench_time_it

static void *xmalloc(size_t bytes) { return bench_xmalloc("bench_wdc", bytes); }

typedef struct {
    size_t n, k, B, P;
    double *w, *x, *y, *dev;
    gpmc_wdc_eval *ev;
    /* the GEMM-only reference */
    double *xy, *z, *mask, *op, *g;
    /* the eigenvalue-only reference */
    double *q, *dm;
    gpmc_symeig *eig;
} bench;

static void run_eval(void *p)
{
    bench *b = p;
    if (gpmc_wdc_eval_pairs(b->ev, b->x, b->y, b->B, b->dev) != GPMC_OK) {
        fprintf(stderr, "bench_wdc: %s\n", gpmc_error_message());
        exit(1);
    }
}

static void run_gemms(void *p)
{
    bench *b = p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(2 * b->B), (int)b->n, (int)b->k,
                1.0, b->xy, (int)b->k, b->w, (int)b->k, 0.0, b->z, (int)b->n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b->B, (int)b->P, (int)b->n, 1.0,
                b->mask, (int)b->n, b->op, (int)b->P, 0.0, b->g, (int)b->P);
}

static void run_eig(void *p)
{
    bench *b = p;
    for (size_t i = 0; i < b->B; i++) {
        gpmc_theory_Q(b->x + i * b->k, b->y + i * b->k, b->k, 1.0, b->q);
        for (size_t j = 0; j < b->k * b->k; j++) /* op: uniform entries, like a Gram */
            b->dm[j] = b->op[j] - b->q[j];
        b->dev[i] = gpmc_symeig_norm(b->eig, b->dm);
    }
}

static void bench_size(size_t n, size_t k, size_t B, gsl_rng *r)
{
    bench b = {.n = n, .k = k, .B = B, .P = k * (k + 1) / 2};
    b.w = xmalloc(n * k * sizeof(double));
    b.x = xmalloc(B * k * sizeof(double));
    b.y = xmalloc(B * k * sizeof(double));
    b.dev = xmalloc(B * sizeof(double));
    b.xy = xmalloc(2 * B * k * sizeof(double));
    b.z = xmalloc(2 * B * n * sizeof(double));
    b.mask = xmalloc(B * n * sizeof(double));
    b.op = xmalloc(n * b.P * sizeof(double));
    b.g = xmalloc(B * b.P * sizeof(double));
    b.q = xmalloc(k * k * sizeof(double));
    b.dm = xmalloc(k * k * sizeof(double));
    b.eig = gpmc_symeig_alloc(k);
    b.ev = gpmc_wdc_eval_alloc(n, k, B);
    if (!b.eig || !b.ev) {
        fprintf(stderr, "bench_wdc: out of memory\n");
        exit(1);
    }
    gpmc_rng_gaussian(r, 1 / sqrt((double)n), b.w, n * k);
    for (size_t i = 0; i < B; i++) {
        gpmc_rng_unit_vector(r, b.x + i * k, k);
        gpmc_rng_unit_vector(r, b.y + i * k, k);
    }
    memcpy(b.xy, b.x, B * k * sizeof(double));
    memcpy(b.xy + B * k, b.y, B * k * sizeof(double));
    for (size_t i = 0; i < B * n; i++) /* masks of density 1/4, as for random pairs */
        b.mask[i] = (double)(gsl_rng_uniform(r) < 0.25);
    for (size_t i = 0; i < n * b.P; i++)
        b.op[i] = gsl_rng_uniform(r);
    gpmc_wdc_eval_set_w(b.ev, b.w, 1.0);

    double flops = gpmc_wdc_gemm_flops(n, k) * (double)B;
    double t_eval = time_it(run_eval, &b, 1.5);
    double t_gemm = time_it(run_gemms, &b, 1.0);
    double t_eig = time_it(run_eig, &b, 0.5);
    double pps = (double)B / t_eval, gf = flops / t_eval / 1e9, gf_ref = flops / t_gemm / 1e9;
    printf("wdc_eval n=%zu k=%zu batch=%zu pairs_per_s=%.0f us_per_pair=%.3f gflops=%.2f "
           "dgemm_gflops=%.2f pct_of_dgemm=%.1f eig_us_per_pair=%.3f\n",
           n, k, B, pps, 1e6 * t_eval / (double)B, gf, gf_ref, 100 * gf / gf_ref,
           1e6 * t_eig / (double)B);

    gpmc_wdc_eval_free(b.ev);
    gpmc_symeig_free(b.eig);
    free(b.w), free(b.x), free(b.y), free(b.dev), free(b.xy), free(b.z), free(b.mask);
    free(b.op), free(b.g), free(b.q), free(b.dm);
}

static void bench_dgemm(int n, gsl_rng *r)
{
    printf("dgemm n=%d gflops=%.2f\n", n, bench_square_gflops(n, r, 1.0));
}

/* The climb alone: a search of `budget` climb evaluations from 256 random pairs, minus the
 * same search without the climb, for the WDC objective with and without its screen. */
typedef struct {
    gpmc_search *s;
    gpmc_stream *st;
    size_t climb;
    double best;
} climb_run;

static void run_search(void *p)
{
    climb_run *c = p;
    gpmc_search_plan plan = {.random = 256, .search = c->climb, .substream = 1};
    gpmc_rng_seek(c->st->r, 1, 1, 0, 0);
    if (gpmc_search_run(c->s, c->st, &plan) != GPMC_OK) {
        fprintf(stderr, "bench_wdc: %s\n", gpmc_error_message());
        exit(1);
    }
    c->best = gpmc_search_best(c->s, 0, NULL);
}

static void bench_climb(size_t n, size_t k, size_t B, gsl_rng *r)
{
    const size_t budget = 8192;
    double *w = xmalloc(n * k * sizeof(double)), rate[2], best[2];
    gpmc_rng_gaussian(r, 1 / sqrt((double)n), w, n * k);
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, B);
    gpmc_stream st = {.r = gpmc_rng_alloc(), .seed = 1, .point_key = 1};
    if (!ev || !st.r) {
        fprintf(stderr, "bench_wdc: out of memory\n");
        exit(1);
    }
    gpmc_wdc_eval_set_w(ev, w, 1.0);
    for (int screened = 1; screened >= 0; screened--) {
        gpmc_search_objective o = gpmc_wdc_search_objective(n, k, B, ev);
        if (!screened)
            o.screen = NULL;
        gpmc_search *s = gpmc_search_alloc(&o);
        if (!s) {
            fprintf(stderr, "bench_wdc: out of memory\n");
            exit(1);
        }
        gpmc_search_set_normals(s, w, n);
        climb_run with = {.s = s, .st = &st, .climb = budget}, without = {.s = s, .st = &st};
        double t1 = time_it(run_search, &with, 1.0), t0 = time_it(run_search, &without, 0.3);
        rate[screened] = (double)budget / (t1 - t0);
        best[screened] = with.best;
        gpmc_search_free(s);
    }
    printf("wdc_climb n=%zu k=%zu batch=%zu budget=%zu screened_per_s=%.0f exact_per_s=%.0f "
           "speedup=%.2f eps_screened=%.4f eps_exact=%.4f\n",
           n, k, B, budget, rate[1], rate[0], rate[1] / rate[0], best[1], best[0]);
    gpmc_wdc_eval_free(ev);
    gpmc_rng_free(st.r);
    free(w);
}

/* A whole trial of the experiment, as the driver runs it. */
static void bench_trial(size_t n, size_t k, size_t B)
{
    const gpmc_experiment *e = &gpmc_exp_wdc;
    gpmc_value v[16];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < e->nparams; i++) {
        const char *nm = e->params[i].name;
        if (strcmp(nm, "n") == 0)
            v[i].num = (double)n;
        else if (strcmp(nm, "k") == 0)
            v[i].num = (double)k;
        else if (strcmp(nm, "pairs") == 0 || strcmp(nm, "search") == 0)
            v[i].num = 2000;
        else if (strcmp(nm, "angles") == 0)
            v[i].num = 256;
        else if (strcmp(nm, "batch") == 0)
            v[i].num = (double)B;
    }
    gpmc_point pt = {.exp = e, .index = 0, .values = v, .key = 1};
    gpmc_layout lay;
    if (gpmc_layout_init(&lay, e, v) != GPMC_OK) {
        fprintf(stderr, "bench_wdc: %s\n", gpmc_error_message());
        exit(1);
    }
    size_t f_evals = 0;
    while (f_evals < e->nfields && strcmp(e->fields[f_evals].name, "pairs_evaluated") != 0)
        f_evals++;
    double *data = xmalloc(lay.total * sizeof(double));
    gpmc_record rec = {.layout = &lay, .data = data};
    void *ws = e->workspace_alloc(&pt);
    gpmc_stream s = {.r = gpmc_rng_alloc(), .seed = 1, .point_key = 1, .trial = 0};
    if (!ws || !s.r) {
        fprintf(stderr, "bench_wdc: out of memory\n");
        exit(1);
    }
    double t0 = now(), evals = 0;
    int trials = 0;
    do {
        gpmc_rng_seek(s.r, s.seed, s.point_key, s.trial = (uint64_t)trials, 0);
        if (e->trial(&pt, &s, ws, &rec) != GPMC_OK) {
            fprintf(stderr, "bench_wdc: %s\n", gpmc_error_message());
            exit(1);
        }
        evals += data[lay.offset[f_evals]];
        trials++;
    } while (now() - t0 < 1.5);
    double t = now() - t0;
    printf("wdc_trial n=%zu k=%zu batch=%zu trials=%d s_per_trial=%.4f pairs_per_s=%.0f\n", n,
           k, B, trials, t / trials, evals / t);
    e->workspace_free(ws);
    gpmc_rng_free(s.r);
    free(data);
    gpmc_layout_free(&lay);
}

int main(int argc, char **argv)
{
    gpmc_blas_kernel_select(argc, argv); /* as gpmc does: may re-execute the benchmark */
    openblas_set_num_threads(1); /* OPENBLAS_NUM_THREADS=1 too, but be sure */
    size_t B = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 128;
    if (B == 0)
        B = 128;
    printf("blas kernel: %s\n", gpmc_blas_corename());
    gsl_rng *r = gpmc_rng_alloc();
    bench_dgemm(1000, r);
    static const size_t sizes[][2] = {{2000, 20}, {500, 10}};
    for (size_t i = 0; i < 2; i++)
        bench_size(sizes[i][0], sizes[i][1], B, r);
    for (size_t i = 0; i < 2; i++)
        bench_climb(sizes[i][0], sizes[i][1], B, r);
    for (size_t i = 0; i < 2; i++)
        bench_trial(sizes[i][0], sizes[i][1], B);
    gpmc_rng_free(r);
    return 0;
}
