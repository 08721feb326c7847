/* Measurement operators A: R^n -> R^m for the recovery problems (MATH.md Notation:
 * compressed sensing, phase retrieval, partial measurements, deep decoder, inversion).
 *
 * Kinds, with the default (isotropic) scaling chosen so that E[A^T A] = I:
 *   GAUSSIAN    dense, entries i.i.d. N(0, 1/m)
 *   BERNOULLI   dense, entries i.i.d. +-1/sqrt(m)
 *   SUBSAMPLED  A = sqrt(n/m) P: P picks m distinct coordinates, uniformly without
 *               replacement (row-subsampled identity; "partial measurements")
 *   FOURIER     A = sqrt(n/m) P F D: D = diag of n random signs (incoherence), F the real
 *               orthonormal Fourier basis of R^n, P picks m distinct rows of F uniformly
 *               without replacement; applied with FFTW (plans made once at allocation)
 *   IDENTITY    m = n, A = I (network inversion, Hand-Voroninski Corollary 5)
 *
 * F is the trigonometric basis of Heckel-Soltanolkotabi eq. (10), in FFTW's halfcomplex
 * order: row p of F, at coordinate j = 0..n-1, is
 *   p = 0:              1/sqrt(n)
 *   0 < p < n/2:        sqrt(2/n) cos(2 pi p j / n)
 *   p = n/2 (n even):   (-1)^j / sqrt(n)
 *   n/2 < p < n:        sqrt(2/n) sin(2 pi p j / n)      (= -sqrt(2/n) sin(2 pi (n-p) j / n))
 * so F F^T = I and a FOURIER operator has A A^T = (n/m) I exactly.
 *
 * Scaling. The sqrt(n/m) factor of the subsampled kinds makes E[A^T A] = I, like the dense
 * ensembles, so step sizes and noise levels mean the same across kinds. Ma et al.'s partial
 * measurements are plain subsampling (y = x restricted to the observed entries, A A^T = I):
 * gpmc_measure_set_scaling(A, GPMC_MEASURE_PLAIN) gives that for SUBSAMPLED and FOURIER.
 * The loss 1/2 |A G(x) - b|^2 of the two scalings differs by the constant factor n/m, so
 * minimisers agree while gradient step sizes do not.
 *
 * Lifetime, as for FFTW: gpmc_measure_alloc() once per grid point (it makes the FFT plans and
 * every buffer), gpmc_measure_sample() once per trial from the trial's stream, then any number
 * of applies, none of which allocates. An operator carries scratch space, so one operator
 * serves one thread at a time. Before the first sample, the structured kinds pick rows
 * 0..m-1 with all signs +1 and the dense kinds are zero: defined, but not random. */
#ifndef GPMC_MEASURE_H
#define GPMC_MEASURE_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

/* The order is that of GPMC_MEASURE_CHOICES, so the index a GPMC_PARAM_CHOICE parameter
 * with those choices stores is the kind: (gpmc_measure_kind)value.num. */
typedef enum {
    GPMC_MEASURE_GAUSSIAN,
    GPMC_MEASURE_BERNOULLI,
    GPMC_MEASURE_SUBSAMPLED,
    GPMC_MEASURE_FOURIER,
    GPMC_MEASURE_IDENTITY,
    GPMC_MEASURE_NKINDS
} gpmc_measure_kind;

/* The `choices` string of a spec parameter selecting the measurement ensemble. */
#define GPMC_MEASURE_CHOICES "gaussian|bernoulli|subsampled|fourier|identity"

/* The kind named `name` (one word of GPMC_MEASURE_CHOICES): GPMC_OK, or GPMC_EINVAL with
 * a message listing the valid names. */
int gpmc_measure_kind_parse(const char *name, gpmc_measure_kind *kind);
/* Its name in GPMC_MEASURE_CHOICES; "?" for an invalid kind. */
const char *gpmc_measure_kind_name(gpmc_measure_kind kind);

typedef enum {
    GPMC_MEASURE_ISOTROPIC, /* default: E[A^T A] = I (subsampled kinds scaled by sqrt(n/m)) */
    GPMC_MEASURE_PLAIN      /* SUBSAMPLED, FOURIER only: no sqrt(n/m), so A A^T = I */
} gpmc_measure_scaling;

typedef struct gpmc_measure gpmc_measure;

/* Non-zero, after writing why into msg, when `kind` cannot have m rows on R^n: m > n for
 * the subsampled kinds, m != n for IDENTITY (experiments' spec-time checks call it). */
int gpmc_measure_shape_error(gpmc_measure_kind kind, size_t m, size_t n, char *msg,
                             size_t len);

/* NULL (with gpmc_error set) unless 1 <= m, n <= INT_MAX, m <= n for the subsampled kinds
 * and m = n for IDENTITY. */
gpmc_measure *gpmc_measure_alloc(gpmc_measure_kind kind, size_t m, size_t n);
void gpmc_measure_free(gpmc_measure *A);

/* GPMC_OK, or GPMC_EINVAL for PLAIN on a dense kind (IDENTITY accepts both: n/m = 1).
 * Takes effect at once; it can be set before or after sampling and draws nothing. */
int gpmc_measure_set_scaling(gpmc_measure *A, gpmc_measure_scaling s);

/* Draw the random parts from `r` (the trial's stream). The draws, in order:
 * GAUSSIAN m*n ziggurat normals, row-major; BERNOULLI m*n signs, row-major;
 * SUBSAMPLED the row set (Knuth's selection sampling, at most n uniforms);
 * FOURIER the row set, then the n signs of D; IDENTITY nothing. */
void gpmc_measure_sample(gpmc_measure *A, gsl_rng *r);

/* y (m) = A x (n). x and y must not overlap (they may be equal for IDENTITY). */
void gpmc_measure_apply(gpmc_measure *A, const double *x, double *y);
/* x (n) = A^T y (m). */
void gpmc_measure_apply_t(gpmc_measure *A, const double *y, double *x);

/* Batches of b <= INT_MAX vectors, one per row: Y (b x m) = X (b x n) A^T and
 * X (b x n) = Y (b x m) A. One DGEMM for the dense kinds; a loop otherwise. */
void gpmc_measure_apply_batch(gpmc_measure *A, const double *X, size_t b, double *Y);
void gpmc_measure_apply_t_batch(gpmc_measure *A, const double *Y, size_t b, double *X);

/* out (m x n, row-major) = A. FOURIER rows come from the closed form above (cos/sin), not
 * from the FFT, so comparing the two checks one against the other. */
void gpmc_measure_dense(const gpmc_measure *A, double *out);

gpmc_measure_kind gpmc_measure_get_kind(const gpmc_measure *A);
size_t gpmc_measure_rows(const gpmc_measure *A); /* m */
size_t gpmc_measure_cols(const gpmc_measure *A); /* n */
/* The factor in front of P (sqrt(n/m) or 1) for the subsampled kinds; 1 otherwise. */
double gpmc_measure_scale(const gpmc_measure *A);
/* SUBSAMPLED: the m observed coordinates; FOURIER: the m rows of F kept. Increasing,
 * distinct, in [0, n). NULL for the other kinds. Valid until the next sample. */
const size_t *gpmc_measure_index(const gpmc_measure *A);
/* The m x n row-major matrix of GAUSSIAN and BERNOULLI; NULL for the other kinds. */
const double *gpmc_measure_matrix(const gpmc_measure *A);

#endif
