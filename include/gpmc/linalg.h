/* Thin wrappers over CBLAS/LAPACKE. Matrices are row-major. Include this header, never
 * OpenBLAS's cblas.h next to GSL's gsl_cblas.h (their enums clash): CBLAS goes through
 * gsl_cblas.h, linked against OpenBLAS. */
#ifndef GPMC_LINALG_H
#define GPMC_LINALG_H

#include <gsl/gsl_cblas.h>
#include <stddef.h>

/* Eigenvalues of symmetric k x k matrices with no allocation per call:
 * allocate once per size, then call gpmc_symeig_extreme() as often as needed. */
typedef struct gpmc_symeig gpmc_symeig;

gpmc_symeig *gpmc_symeig_alloc(size_t k);
void gpmc_symeig_free(gpmc_symeig *e);
/* Smallest and largest eigenvalue of the symmetric row-major matrix a (k x k; only the
 * upper triangle is read; a is not modified). GPMC_OK or GPMC_ENUM. */
int gpmc_symeig_extreme(gpmc_symeig *e, const double *a, double *lmin, double *lmax);
/* The eigenvalue of largest modulus of the same (the largest on a tie) and its unit
 * eigenvector v (k). GPMC_OK or GPMC_ENUM (lambda NaN). */
int gpmc_symeig_extreme_vector(gpmc_symeig *e, const double *a, double *lambda, double *v);
/* Spectral norm of a symmetric matrix = max(|lmin|, |lmax|); NaN on failure. */
double gpmc_symeig_norm(gpmc_symeig *e, const double *a);

/* Spectral norm (largest singular value) of a general rows x cols row-major matrix;
 * `work` holds gpmc_norm2_worksize(rows, cols) doubles. NaN on failure. */
double gpmc_norm2(const double *a, size_t rows, size_t cols, double *work);
size_t gpmc_norm2_worksize(size_t rows, size_t cols);

/* dgesvd's minimal workspace (doubles) for an m x n matrix; SIZE_MAX on overflow. */
size_t gpmc_svd_lwork(size_t m, size_t n);

/* Singular directions below this fraction of the largest are not part of a range basis: a
 * dead or nearly dependent direction (a smaller subspace keeps a lower bound a lower
 * bound). */
#define GPMC_RANGE_RANK_TOL 1e-6

/* An orthonormal basis of the column space of the n x c column-major a (equivalently its c
 * rows of n, row-major), in place by LAPACK's dgesvd ('O'): afterwards the first `rank` rows
 * of n are the basis, rank = the singular values above GPMC_RANGE_RANK_TOL sigma_1. sv holds
 * min(n, c) doubles, work lwork >= gpmc_svd_lwork(n, c). Returns rank, or (size_t)-1 if
 * LAPACK failed. The R2WDC evaluator's bases of range(Lambda) and those of its cells. */
size_t gpmc_range_basis(double *a, size_t n, size_t c, double *sv, double *work, size_t lwork);

double gpmc_dot(const double *x, const double *y, size_t n);
double gpmc_nrm2(const double *x, size_t n);

/* Row i of op (rows x k(k+1)/2): the packed upper triangle of a_i a_i^T, row-major order
 * (a: rows x k). The masked-Gram evaluators (wdc, jwdc) multiply masks by it. */
void gpmc_packed_outer_rows(const double *a, size_t rows, size_t k, double *op);

/* m[p] = 1{zx[i] > 0} 1{zy[i] > 0} (as 1.0 or 0.0), i = idx[p] (idx NULL: i = p), p < n:
 * the masks of a pair's pre-activations that multiply the packed outer products. */
void gpmc_pair_masks(const double *zx, const double *zy, const size_t *idx, size_t n,
                     double *m);

#endif
