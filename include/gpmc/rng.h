/* Counter-based random streams (Philox4x64 from Random123) exposed as a gsl_rng,
 * so every GSL sampler works on them. A stream is addressed by
 * (master seed, point key, trial index, substream): two tasks never share a stream,
 * and a trial's numbers do not depend on ranks, order, shards or resumes. */
#ifndef GPMC_RNG_H
#define GPMC_RNG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

gsl_rng *gpmc_rng_alloc(void);
void gpmc_rng_free(gsl_rng *r);

/* Position `r` at the start of stream (seed, point_key, trial, substream).
 * Each stream yields up to 4 * 2^32 32-bit draws. */
void gpmc_rng_seek(gsl_rng *r, uint64_t seed, uint64_t point_key, uint64_t trial,
                   uint32_t substream);

/* 64-bit FNV-1a over bytes, chained through `h` (start with GPMC_HASH_INIT). */
#define GPMC_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t gpmc_hash_bytes(uint64_t h, const void *data, size_t len);
uint64_t gpmc_hash_str(uint64_t h, const char *s);

/* Fill a[0..len) with i.i.d. N(0, sigma^2). */
void gpmc_rng_gaussian(gsl_rng *r, double sigma, double *a, size_t len);
/* Row-major rows x cols matrix with i.i.d. N(0, sigma^2) entries, then every row whose
 * norm exceeds `radius` set to zero (Hand-Joshi truncated rows: w * 1{|w| <= radius}). */
void gpmc_rng_truncated_rows(gsl_rng *r, double sigma, double radius, size_t rows,
                             size_t cols, double *a);
/* Fill with i.i.d. +-scale, each sign with probability 1/2. */
void gpmc_rng_rademacher(gsl_rng *r, double scale, double *a, size_t len);
/* A uniformly random unit vector in R^len. */
void gpmc_rng_unit_vector(gsl_rng *r, double *a, size_t len);

#endif
