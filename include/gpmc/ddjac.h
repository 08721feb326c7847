/* The expected Jacobian of the two-layer deep decoder (MATH.md, Conditions 6;
 * Heckel-Soltanolkotabi eq. (11) and App. B).
 *
 * Model. G(C) = ReLU(U C) v, C in R^{n x k} (k channels c_j in R^n), U the circulant
 * matrix of a kernel u in R^n, (U c)_i = sum_m u_{(i-m) mod n} c_m, and
 * v = (1, ..., 1, -1, ..., -1)/sqrt(k) (the first ceil(k/2) entries positive; only
 * v_j^2 = 1/k enters below).
 *
 * Orientation. G_i = sum_j v_j relu((U c_j)_i), so dG_i/dC_{mj} = v_j a_{ij} U_{im},
 * a_{ij} = 1{(U c_j)_i > 0}: the usual Jacobian J = dG/dC in R^{n x nk} has block j equal
 * to v_j diag(a_j) U. The seed's J_G in R^{nk x n} is its transpose (block j =
 * v_j U^T diag(a_j)), and
 *     Sigma(U) = E[J_G^T J_G] = E[J J^T] = sum_j v_j^2 E[diag(a_j) U U^T diag(a_j)],
 * an n x n matrix. Entry (i, l): <u_i, u_l> P(units i and l both active), u_i the rows of
 * U; the pre-activations (U c)_i, (U c)_l are jointly Gaussian with correlation
 * rho = <u_i, u_l>/|u|^2 whatever C's variance, and P(both > 0) = 1/2 (1 - arccos(rho)/pi),
 * so Sigma_il = |u|^2 phi(rho_{l-i}), phi(t) = 1/2 (1 - arccos(t)/pi) t. Here
 * <u_i, u_l> = r_{(l-i) mod n}, r_s = sum_m u_m u_{(m+s) mod n} the circular
 * autocorrelation of u (u convolved with itself only for symmetric u). Sigma is a
 * symmetric circulant: its eigenvectors are the trigonometric basis (seed eq. 10) and
 * its eigenvalues lambda_p = sum_s sigma_s cos(2 pi p s / n) (a DFT), lambda_{n-p} =
 * lambda_p: equal pairs, one 2-D eigenspace {cos, sin} per frequency 0 < p < n/2.
 *
 * Monte Carlo. A sample C (i.i.d. N(0, 1) entries) gives J J^T = R o (A A^T)/k, R the
 * circulant of r and A in {0,1}^{n x k} the activations: one SYRK of the activations
 * accumulates the co-activation counts of many samples. Over S samples the mean is
 * Sigma_hat = R o N/(k S), and, the kS channels being independent,
 *     E |Sigma_hat - Sigma|_F^2 = (1/(kS)) sum_{i,l} r_{l-i}^2 p_{l-i} (1 - p_{l-i}),
 * p_s = P(both active) at rho_s: the Monte Carlo error shrinks exactly like 1/sqrt(kS).
 *
 * Lifetime: gpmc_ddjac_alloc() once per grid point makes every buffer and the FFTW plans
 * (FFTW_ESTIMATE); gpmc_ddjac_set_kernel() and everything after it allocate nothing. One
 * object serves one thread. Channel layout everywhere: channel j of a sample is
 * contiguous, C[j * n + i] = C_{ij} (samples follow each other: s * k * n + j * n + i). */
#ifndef GPMC_DDJAC_H
#define GPMC_DDJAC_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

/* The order is that of GPMC_DDJAC_KERNELS (a GPMC_PARAM_CHOICE index is the kind). */
typedef enum { GPMC_DDJAC_TRIANGULAR, GPMC_DDJAC_GAUSSIAN } gpmc_ddjac_kernel_kind;
#define GPMC_DDJAC_KERNELS "triangular|gaussian"

/* u in R^n centred at 0 on the circle, d = min(j, n - j) the circular distance:
 * triangular max(0, 1 - d/width), gaussian exp(-d^2 / (2 width^2)); scaled to |u| = 1
 * (so Sigma_ii = 1/2 and the eigenvalues average 1/2). Symmetric: u_j = u_{n-j}. */
void gpmc_ddjac_kernel(gpmc_ddjac_kernel_kind kind, double width, size_t n, double *u);

/* P(a > 0, b > 0) for standard bivariate normal (a, b) with correlation t in [-1, 1]
 * (t is clamped): 1/2 (1 - arccos(t)/pi). */
double gpmc_ddjac_p_both(double t);
/* phi(t) = t P(both active): Sigma_il / |u|^2 at correlation t. */
double gpmc_ddjac_phi(double t);

typedef struct gpmc_ddjac gpmc_ddjac;

/* n >= 1, k >= 1 channels, chunk >= 1 channels per FFT plan and SYRK (chunks need not
 * follow samples: the channels are i.i.d. across samples too). NULL (with gpmc_error set) on failure. */
gpmc_ddjac *gpmc_ddjac_alloc(size_t n, size_t k, size_t chunk);
/* Bytes gpmc_ddjac_alloc takes (SIZE_MAX if that overflows). */
size_t gpmc_ddjac_bytes(size_t n, size_t k, size_t chunk);
void gpmc_ddjac_free(gpmc_ddjac *d);

/* Sets u (n entries, any real kernel, not all zero) and computes from it, with FFTW, the
 * autocorrelation r, Sigma's first row sigma_s = |u|^2 phi(r_s/|u|^2) and its
 * eigenvalues. GPMC_OK, or GPMC_EINVAL for u = 0. */
int gpmc_ddjac_set_kernel(gpmc_ddjac *d, const double *u);
const double *gpmc_ddjac_autocorr(const gpmc_ddjac *d); /* r_s, s = 0..n-1 */
const double *gpmc_ddjac_sigma_row(const gpmc_ddjac *d); /* Sigma_il = sigma_{(l-i) mod n} */
/* lambda_p, p = 0..n-1 in frequency order (lambda_{n-p} = lambda_p). */
const double *gpmc_ddjac_eig_freq(const gpmc_ddjac *d);
/* The formula's eigenvalues with multiplicity, descending (n of them). */
void gpmc_ddjac_eig_sorted(const gpmc_ddjac *d, double *eig);

/* Z = U C for `nch` <= chunk channels (channel layout), by FFT. */
void gpmc_ddjac_conv(gpmc_ddjac *d, const double *C, size_t nch, double *Z);
/* G(C) = ReLU(U C) v for one sample C (k channels), G in R^n. */
void gpmc_ddjac_output(gpmc_ddjac *d, const double *C, double *G);

/* The Monte Carlo Gram: reset, then add samples (drawn from r, or given), then read
 * Sigma_hat = (1/S) sum_s J(C_s) J(C_s)^T (n x n, full, row-major) over all S added.
 * Calls may add any number of whole samples each. */
void gpmc_ddjac_gram_reset(gpmc_ddjac *d);
void gpmc_ddjac_gram_add_mc(gpmc_ddjac *d, gsl_rng *r, size_t samples);
void gpmc_ddjac_gram_add(gpmc_ddjac *d, const double *C, size_t samples);
size_t gpmc_ddjac_gram_samples(const gpmc_ddjac *d);
void gpmc_ddjac_gram(const gpmc_ddjac *d, double *gram);

/* |gram - Sigma|_F / |Sigma|_F. */
double gpmc_ddjac_gram_dev(const gpmc_ddjac *d, const double *gram);
/* sqrt(E[gram_dev^2]) over `samples` samples (the closed form at the top). */
double gpmc_ddjac_gram_dev_pred(const gpmc_ddjac *d, size_t samples);

/* Eigen-decomposition of the symmetric `gram` (LAPACK dsyev, workspace from alloc):
 * eig gets its eigenvalues descending; gram is overwritten by the eigenvectors, vector of
 * descending rank q at gram + q * n (contiguous). GPMC_OK or GPMC_ENUM. */
int gpmc_ddjac_spectrum(gpmc_ddjac *d, double *gram, double *eig);

/* Number of eigenspaces of Sigma: one per frequency 0..floor(n/2). */
size_t gpmc_ddjac_nspaces(size_t n);
/* The formula's eigenspaces by descending eigenvalue (ties: lower frequency first):
 * frequency of the q-th (q < nspaces) and its dimension (1 at p = 0 and p = n/2, else 2). */
size_t gpmc_ddjac_space_freq(const gpmc_ddjac *d, size_t q, size_t *dim);

/* align[q], q < top <= nspaces: the alignment of the Monte Carlo eigenvectors that occupy
 * the q-th formula eigenspace's ranks (vecs as gpmc_ddjac_spectrum leaves them) with the
 * trigonometric vectors of its frequency, |W^T V|_F^2 / dim in [0, 1] (the mean squared
 * cosine of the principal angles; 1: the same subspace). Projections by FFTW's R2HC. */
void gpmc_ddjac_align(gpmc_ddjac *d, const double *vecs, size_t top, double *align);

#endif
