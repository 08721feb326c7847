/* Shared helpers of the C benchmarks: a monotonic clock, best-of-3 timing, an allocation
 * that ends the benchmark on failure, and the square dgemm that gives the kernel's plain
 * speed. */
#ifndef GPMC_BENCHUTIL_H
#define GPMC_BENCHUTIL_H

#include "gpmc/rng.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds per call of fn(arg), from repetitions filling at least `budget` seconds; the
 * best of 3 such rounds (the machine may be shared). */
static inline double bench_time_it(void (*fn)(void *), void *arg, double budget)
{
    fn(arg); /* warm-up: page in buffers, let the BLAS pick its kernels */
    double best = INFINITY;
    for (int round = 0; round < 3; round++) {
        long reps = 0;
        double t0 = bench_now(), t;
        do {
            fn(arg);
            reps++;
            t = bench_now();
        } while (t - t0 < budget / 3);
        best = fmin(best, (t - t0) / (double)reps);
    }
    return best;
}

static inline void *bench_xmalloc(const char *who, size_t bytes)
{
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "%s: out of memory\n", who);
        exit(1);
    }
    return p;
}

/* A square C = A B, n x n: the kernel's speed on a shape where the BLAS is at its best. */
typedef struct {
    int n;
    double *a, *b, *c;
} bench_square;

static inline void bench_run_square(void *p)
{
    bench_square *s = p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->n, s->n, 1.0, s->a, s->n,
                s->b, s->n, 0.0, s->c, s->n);
}

/* GFLOP/s of the n x n dgemm, timed for about `budget` seconds. */
static inline double bench_square_gflops(int n, gsl_rng *r, double budget)
{
    size_t nn = (size_t)n * (size_t)n;
    bench_square s = {.n = n, .a = bench_xmalloc("bench", nn * sizeof(double)),
                      .b = bench_xmalloc("bench", nn * sizeof(double)),
                      .c = bench_xmalloc("bench", nn * sizeof(double))};
    gpmc_rng_gaussian(r, 1.0, s.a, nn);
    gpmc_rng_gaussian(r, 1.0, s.b, nn);
    double t = bench_time_it(bench_run_square, &s, budget);
    free(s.a), free(s.b), free(s.c);
    return 2.0 * (double)nn * (double)n / t / 1e9;
}

#endif
