#include "gpmc/rng.h"

#include <Random123/philox.h>
#include <Random123/gsl_microrng.h>
#include <gsl/gsl_randist.h>
#include <math.h>

GSL_MICRORNG(gpmc_philox, philox4x64);

gsl_rng *gpmc_rng_alloc(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_gpmc_philox);
    if (r)
        gpmc_rng_seek(r, 0, 0, 0, 0);
    return r;
}

void gpmc_rng_free(gsl_rng *r) { gsl_rng_free(r); }

void gpmc_rng_seek(gsl_rng *r, uint64_t seed, uint64_t point_key, uint64_t trial,
                   uint32_t substream)
{
    /* The micro-RNG counts its draws in the upper 32 bits of the last counter word,
     * so that word carries only the 32-bit substream. */
    philox4x64_ctr_t c = {{trial, 0, 0, substream}};
    philox4x64_key_t k = {{seed, point_key}};
    gpmc_philox_reset(r, c, k);
}

uint64_t gpmc_hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t gpmc_hash_str(uint64_t h, const char *s) { return gpmc_hash_bytes(h, s, strlen(s) + 1); }

void gpmc_rng_gaussian(gsl_rng *r, double sigma, double *a, size_t len)
{
    for (size_t i = 0; i < len; i++)
        a[i] = gsl_ran_gaussian_ziggurat(r, sigma);
}

void gpmc_rng_truncated_rows(gsl_rng *r, double sigma, double radius, size_t rows,
                             size_t cols, double *a)
{
    for (size_t i = 0; i < rows; i++) {
        double *row = a + i * cols, ss = 0;
        for (size_t j = 0; j < cols; j++) {
            row[j] = gsl_ran_gaussian_ziggurat(r, sigma);
            ss += row[j] * row[j];
        }
        if (ss > radius * radius)
            for (size_t j = 0; j < cols; j++)
                row[j] = 0;
    }
}

void gpmc_rng_rademacher(gsl_rng *r, double scale, double *a, size_t len)
{
    /* 32 signs from the bits of one draw (the Philox micro-RNG returns 32 uniform bits;
     * one gsl_rng_uniform_int call per sign made Bernoulli matrices slower than Gaussian). */
    for (size_t i = 0; i < len;) {
        unsigned long bits = gsl_rng_get(r);
        for (int b = 0; b < 32 && i < len; b++, i++)
            a[i] = (bits >> b) & 1 ? scale : -scale;
    }
}

void gpmc_rng_unit_vector(gsl_rng *r, double *a, size_t len)
{
    double ss;
    do {
        ss = 0;
        for (size_t i = 0; i < len; i++) {
            a[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
            ss += a[i] * a[i];
        }
    } while (ss == 0);
    double inv = 1 / sqrt(ss);
    for (size_t i = 0; i < len; i++)
        a[i] *= inv;
}
