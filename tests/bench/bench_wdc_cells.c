/* Timing of the diagonal cell enumeration (include/gpmc/wdc_cells.h): candidates/s of
 * gpmc_wdc_cells_run (generation + the batched evaluator) and of the generation alone
 * (gpmc_wdc_cells_next), best of 3, Gaussian W, alpha = 1, batch 128 (the wdc default).
 * Usage: bench_wdc_cells [n k]...   (default: 40 3  200 3  40 5). One BLAS thread; set
 * OPENBLAS_CORETYPE to pin the kernel. Output: `key=value` words, one line per size. */
#include "gpmc/error.h"
#include "gpmc/rng.h"
#include "gpmc/wdc_cells.h"
#include "gpmc/wdc_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 128

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int bench(gsl_rng *rng, size_t n, size_t k)
{
    double *w = malloc(n * k * sizeof *w), *x = malloc(BATCH * k * sizeof *x);
    double *xw = malloc(k * sizeof *xw), eps = 0;
    gpmc_wdc_eval *ev = gpmc_wdc_eval_alloc(n, k, BATCH);
    gpmc_wdc_cells *c = gpmc_wdc_cells_alloc(n, k, BATCH);
    int st = w && x && xw && ev && c ? GPMC_OK : GPMC_ENOMEM;
    double run = INFINITY, gen = INFINITY;
    if (st == GPMC_OK) {
        gpmc_rng_gaussian(rng, 1 / sqrt((double)n), w, n * k);
        gpmc_wdc_eval_set_w(ev, w, 1);
    }
    for (int rep = 0; rep < 3 && st == GPMC_OK; rep++) {
        double t0 = now();
        st = gpmc_wdc_cells_run(c, w, 1, ev, NULL, &eps, xw);
        double t1 = now();
        gpmc_wdc_cells_begin(c, w);
        while (gpmc_wdc_cells_next(c, x, BATCH) > 0)
            ;
        double t2 = now();
        run = fmin(run, t1 - t0);
        gen = fmin(gen, t2 - t1);
    }
    if (st == GPMC_OK) {
        double N = (double)gpmc_wdc_cells_evaluated(c);
        printf("n=%zu k=%zu candidates=%.0f run_s=%.4f cand_per_s=%.3g gen_cand_per_s=%.3g "
               "eps_diag=%.9f\n",
               n, k, N, run, N / run, N / gen, eps);
    }
    gpmc_wdc_cells_free(c);
    gpmc_wdc_eval_free(ev);
    free(w);
    free(x);
    free(xw);
    return st;
}

int main(int argc, char **argv)
{
    static const size_t def[] = {40, 3, 200, 3, 40, 5};
    gsl_rng *rng = gpmc_rng_alloc();
    int st = GPMC_OK;
    if (argc > 1)
        for (int i = 1; i + 1 < argc && st == GPMC_OK; i += 2)
            st = bench(rng, strtoul(argv[i], NULL, 10), strtoul(argv[i + 1], NULL, 10));
    else
        for (size_t i = 0; i < 6 && st == GPMC_OK; i += 2)
            st = bench(rng, def[i], def[i + 1]);
    gpmc_rng_free(rng);
    if (st != GPMC_OK)
        fprintf(stderr, "bench_wdc_cells: failed (%d)\n", st);
    return st == GPMC_OK ? 0 : 1;
}
