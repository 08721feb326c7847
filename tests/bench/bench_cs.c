/* Benchmark of Algorithm 2 (prior_lsq.h) at the paper's 2-layer setting (App. H: k = 20,
 * widths 700, 600, m = 300, Gaussian A), against the BLAS floor measured in the same run:
 * the products one iteration cannot avoid, timed alone — the 2-column forward GEMMs of
 * [x; -x] through both layers and A, then the backward A^T r and the two W_i^T products
 * (GEMV). Everything else an iteration does (ReLU, masks, the sign check, the step) is
 * what the C code adds to that floor.
 *
 * Output (`key=value` words for tests/bench/run_bench.sh):
 *   blas kernel: <name>
 *   cs_iter k=.. n1=.. n2=.. m=.. ms_per_iter=..    (a descent of a fixed number of steps)
 *   cs_floor k=.. n1=.. n2=.. m=.. ms_per_iter=..
 * Usage: bench_cs [iterations]   (default 2000). One BLAS thread. */
#include "benchutil.h"

#include "gpmc/blas_kernel.h"
#include "gpmc/error.h"
#include "gpmc/measure.h"
#include "gpmc/net.h"
#include "gpmc/prior_lsq.h"
#include "gpmc/rng.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

enum { K = 20, N1 = 700, N2 = 600, M = 300 };

#define xmalloc(bytes) bench_xmalloc("bench_cs", (bytes))

/* The floor: the same BLAS calls on the same shapes, nothing else; seconds per iteration. */
static double floor_seconds(const gpmc_net *net, const double *A, long iters)
{
    double *X = xmalloc(2 * K * sizeof(double)), *H1 = xmalloc(2 * N1 * sizeof(double));
    double *H2 = xmalloc(2 * N2 * sizeof(double)), *Y = xmalloc(2 * M * sizeof(double));
    double *u = xmalloc(N2 * sizeof(double)), *g1 = xmalloc(N1 * sizeof(double));
    double *g0 = xmalloc(K * sizeof(double));
    for (size_t i = 0; i < 2 * K; i++)
        X[i] = 0.1 * (double)(i % 7);
    for (size_t i = 0; i < 2 * M; i++)
        Y[i] = 0.01;
    double t0 = bench_now();
    {
        for (long it = 0; it < iters; it++) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, N1, K, 1.0, X, K,
                        net->W[0], K, 0.0, H1, N1);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, N2, N1, 1.0, H1, N1,
                        net->W[1], N1, 0.0, H2, N2);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, M, N2, 1.0, H2, N2, A, N2,
                        0.0, Y, M);
            cblas_dgemv(CblasRowMajor, CblasTrans, M, N2, 1.0, A, N2, Y, 1, 0.0, u, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, N2, N1, 1.0, net->W[1], N1, u, 1, 0.0, g1, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, N1, K, 1.0, net->W[0], K, g1, 1, 0.0, g0, 1);
        }
    }
    double secs = (bench_now() - t0) / (double)iters;
    free(X), free(H1), free(H2), free(Y), free(u), free(g1), free(g0);
    return secs;
}

int main(int argc, char **argv)
{
    gpmc_blas_kernel_select(argc, argv); /* as gpmc does: may re-execute the benchmark */
    openblas_set_num_threads(1);
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    if (iters <= 0)
        iters = 2000;
    printf("blas kernel: %s\n", gpmc_blas_corename());
    const size_t width[3] = {K, N1, N2};
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, 1, 2, 3, 0);
    gpmc_net *net = gpmc_net_alloc(2, width);
    gpmc_measure *A = gpmc_measure_alloc(GPMC_MEASURE_GAUSSIAN, M, N2);
    gpmc_prior_lsq *s = net && A ? gpmc_prior_lsq_alloc(net, A) : NULL;
    if (!s) {
        fprintf(stderr, "bench_cs: %s\n", gpmc_error_message());
        return 1;
    }
    gpmc_net_sample(net, r, GPMC_WEIGHTS_GAUSSIAN);
    gpmc_measure_sample(A, r);
    double xstar[K], x[K], y[N2], b[M];
    gpmc_rng_gaussian(r, 1.0, xstar, K);
    gpmc_prior_lsq_output(s, xstar, y);
    gpmc_measure_apply(A, y, b);
    /* tol = 0: every step is taken, so the time per step is the descent's own. */
    gpmc_descent_opts o = {.step = 0.7, .tol = 0, .max_iter = iters, .sign_flip = 1};
    gpmc_descent_result res;
    /* Rounds alternate between the two, and each keeps its best: a shared machine's load
     * then weighs on both alike. */
    double best = INFINITY, best_floor = INFINITY;
    for (int round = 0; round < 5; round++) {
        gpmc_rng_gaussian(r, 1.0, x, K);
        double t0 = bench_now();
        gpmc_prior_lsq_descend(s, b, x, &o, NULL, &res);
        best = fmin(best, (bench_now() - t0) / (double)res.iterations);
        best_floor = fmin(best_floor, floor_seconds(net, gpmc_measure_matrix(A), iters));
    }
    printf("cs_iter k=%d n1=%d n2=%d m=%d ms_per_iter=%.4f\n", K, N1, N2, M, 1e3 * best);
    printf("cs_floor k=%d n1=%d n2=%d m=%d ms_per_iter=%.4f\n", K, N1, N2, M, 1e3 * best_floor);
    gpmc_prior_lsq_free(s);
    gpmc_measure_free(A);
    gpmc_net_free(net);
    gpmc_rng_free(r);
    return 0;
}
