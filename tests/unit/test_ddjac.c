/* ddjac: the deep decoder's expected Jacobian (ddjac.h) and the `ddjac` experiment.
 *
 * Everything the library computes by FFT is recomputed here by plain loops over a dense
 * circulant U (U_im = u_{(i-m) mod n}). Kernels are asymmetric where it matters, so that
 * autocorrelation and autoconvolution differ. Monte Carlo tolerances are NSE standard
 * errors estimated from the samples themselves; exact identities get floating-point
 * tolerances from the normwise FFT bound (Higham, Thm 24.2: a size-n transform is within
 * L eta |x|, L = ceil(log2 n), eta ~ 3 EPS; an entry is within that of the norm) and from
 * the backward stability of dsyev (|lambda_hat - lambda| <= c n EPS |A|_2, c = 10 here).
 * Each closed-form test evaluates a plausible wrong variant and asserts it is rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "testutil_exp.h"

#include "gpmc/ddjac.h"
#include "gpmc/rng.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define EPS DBL_EPSILON
#define NSE 5.0
#define SEED UINT64_C(0xddac0b1)
#define NMAX 32

extern const gpmc_experiment gpmc_exp_ddjac;

static double fft_tol(size_t n) /* relative, normwise, one transform */
{
    double L = n > 1 ? ceil(log2((double)n)) : 1;
    return 3 * L * EPS / (1 - 3 * L * EPS);
}

/* An asymmetric kernel with a negative tap (negative correlations occur too). */
static void asym_kernel(size_t n, double *u)
{
    for (size_t j = 0; j < n; j++)
        u[j] = 0;
    u[0] = 1.0, u[1] = 0.7, u[2] = 0.2, u[n - 1] = -0.3;
}

static double arccos_kernel(double t) /* E[relu(a) relu(b)], unit variances, corr t */
{
    return (sqrt(fmax(0.0, 1 - t * t)) + (PI - acos(t)) * t) / (2 * PI);
}

/* r_s = sum_m u_m u_{m+s} (right) and (u * u)_s = sum_m u_m u_{s-m} (wrong), by loops. */
static void autocorr_loop(const double *u, size_t n, double *r, double *conv)
{
    for (size_t s = 0; s < n; s++) {
        r[s] = conv[s] = 0;
        for (size_t m = 0; m < n; m++) {
            r[s] += u[m] * u[(m + s) % n];
            conv[s] += u[m] * u[(s + n - m) % n];
        }
    }
}

static void dense_u(const double *u, size_t n, double *U)
{
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < n; m++)
            U[i * n + m] = u[(i + n - m) % n];
}

/* (U^T U)_il = sum_m U_mi U_ml. */
static double dot_strided(const double *U, size_t i, size_t l, size_t n)
{
    double s = 0;
    for (size_t m = 0; m < n; m++)
        s += U[m * n + i] * U[m * n + l];
    return s;
}

/* P(a > 0, b > 0) at correlation t against a Monte Carlo of bivariate normals; t P is
 * phi(t). Wrong variant: the arc-cosine kernel E[relu(a) relu(b)] in place of t P(both
 * active) (the seed's garbled eq. 11 reads like it); it must be rejected at t != 1. */
static void test_p_both_and_phi(void **state)
{
    (void)state;
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 1, 0, 0);
    const double ts[] = {-0.8, -0.3, 0.0, 0.3, 0.8};
    const size_t N = 200000;
    for (size_t c = 0; c < sizeof ts / sizeof ts[0]; c++) {
        double t = ts[c], both = 0, rr = 0, rr2 = 0, ab[2];
        for (size_t i = 0; i < N; i++) {
            gpmc_rng_gaussian(r, 1.0, ab, 2);
            double a = ab[0], b = t * ab[0] + sqrt(1 - t * t) * ab[1];
            both += a > 0 && b > 0;
            double x = fmax(a, 0) * fmax(b, 0);
            rr += x, rr2 += x * x;
        }
        double p = both / (double)N, se = sqrt(p * (1 - p) / (double)N);
        assert_close(p, gpmc_ddjac_p_both(t), NSE * se);
        assert_close(gpmc_ddjac_phi(t), t * gpmc_ddjac_p_both(t), 4 * EPS);
        /* The harness knows the arc-cosine kernel (its own MC agrees) ... */
        double m = rr / (double)N, sm = sqrt((rr2 / (double)N - m * m) / (double)N);
        assert_close(m, arccos_kernel(t), NSE * sm);
        /* ... and phi is not it: t p_hat is > 5 SE away from the kernel's value. */
        assert_true(fabs(t * p - arccos_kernel(t)) > NSE * fabs(t) * se + NSE * sm);
    }
    /* Ends: exact, and clamped just outside [-1, 1] (rounding in rho). */
    assert_close(gpmc_ddjac_p_both(1), 0.5, 0);
    assert_close(gpmc_ddjac_p_both(-1), 0, 0);
    assert_close(gpmc_ddjac_phi(1 + 4 * EPS), 0.5, 0);
    assert_close(gpmc_ddjac_p_both(0), 0.25, EPS);
    gpmc_rng_free(r);
}

static void test_kernels(void **state)
{
    (void)state;
    double u[NMAX];
    for (int kind = 0; kind < 2; kind++) {
        size_t n = 31 + (size_t)kind; /* odd and even */
        double w = 4;
        gpmc_ddjac_kernel((gpmc_ddjac_kernel_kind)kind, w, n, u);
        assert_close(norm(u, n), 1, 4 * n * EPS);
        for (size_t j = 1; j < n; j++) {
            assert_close(u[j], u[n - j], 0); /* symmetric on the circle */
            double d = (double)(j < n - j ? j : n - j);
            double f = kind ? exp(-d * d / (2 * w * w)) : fmax(0, 1 - d / w);
            assert_close(u[j] / u[0], f, 4 * EPS);
        }
    }
    gpmc_ddjac_kernel(GPMC_DDJAC_TRIANGULAR, 0.5, 8, u); /* width < 1: a delta */
    assert_close(u[0], 1, 0);
    assert_close(norm(u + 1, 7), 0, 0);
}

/* r, Sigma's row and its eigenvalues against loops and a dense eigensolver, for odd and
 * even n. Wrong variant: the autoconvolution of the asymmetric kernel (r is not it). */
static void test_closed_form_against_loops(void **state)
{
    (void)state;
    for (size_t n = 13; n <= 16; n += 3) {
        double u[NMAX], r[NMAX], cv[NMAX], S[NMAX * NMAX], w[NMAX];
        asym_kernel(n, u);
        gpmc_ddjac *d = gpmc_ddjac_alloc(n, 2, 4);
        assert_non_null(d);
        assert_int_equal(gpmc_ddjac_set_kernel(d, u), GPMC_OK);
        autocorr_loop(u, n, r, cv);
        double u2 = dot(u, u, n), tol = 3 * fft_tol(n) * u2 + 2 * n * EPS * u2;
        const double *rl = gpmc_ddjac_autocorr(d), *sg = gpmc_ddjac_sigma_row(d);
        double conv_gap = 0;
        for (size_t s = 0; s < n; s++) {
            assert_close(rl[s], r[s], tol);
            conv_gap = fmax(conv_gap, fabs(cv[s] - rl[s]));
            /* phi is 1-Lipschitz-ish away from |t| = 1 only; compare at the loop's rho with
             * the library's own phi, so only r's error enters (|phi'| <= 1 + 1/pi here). */
            assert_close(sg[s], u2 * gpmc_ddjac_phi(r[s] / u2), 2 * tol + 4 * EPS * u2);
        }
        assert_true(conv_gap > 0.1); /* the wrong variant is far off */
        /* Dense Sigma_il = sigma_{l-i}: its spectrum is the formula's, with multiplicity. */
        for (size_t i = 0; i < n; i++)
            for (size_t l = 0; l < n; l++)
                S[i * n + l] = u2 * gpmc_ddjac_phi(r[(l + n - i) % n] / u2);
        double fro = norm(S, n * n);
        assert_int_equal(LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)n, S,
                                       (lapack_int)n, w), 0);
        double eig[NMAX];
        gpmc_ddjac_eig_sorted(d, eig);
        double etol = 10 * n * EPS * fro + (fft_tol(n) + 2 * tol) * sqrt((double)n) * fro;
        for (size_t q = 0; q < n; q++)
            assert_close(eig[q], w[n - 1 - q], etol);
        const double *lf = gpmc_ddjac_eig_freq(d);
        for (size_t p = 1; p < n; p++)
            assert_close(lf[p], lf[n - p], 0); /* equal pairs */
        gpmc_ddjac_free(d);
    }
}

/* The orientation, pinned by finite differences: J = dG/dC (n x nk, column m + j n for
 * C_{mj}) has block j = v_j diag(a_j) U, and one sample's Gram is J J^T (the seed's
 * J_G^T J_G, J_G = J^T). Wrong variant: sum_j v_j^2 U^T diag(a_j) U (the seed's J_G read as
 * n x nk, i.e. the diagonal blocks of J_G J_G^T), which must differ. */
static void test_jacobian_orientation_by_finite_differences(void **state)
{
    (void)state;
    enum { n = 12, k = 5 };
    double u[n], U[n * n], C[n * k], Cp[n * k], Z[n * k], Zl[n * k], G[n], Gp[n], Gm[n];
    static double J[n * n * k], JJ[n * n], gram[n * n], wrong[n * n];
    asym_kernel(n, u);
    dense_u(u, n, U);
    gpmc_ddjac *d = gpmc_ddjac_alloc(n, k, 3); /* chunks of 3 channels: not a sample */
    assert_non_null(d);
    assert_int_equal(gpmc_ddjac_set_kernel(d, u), GPMC_OK);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 2, 0, 0);
    gpmc_rng_gaussian(r, 1.0, C, n * k);
    /* U C by loops vs by FFT (channel j at C + j n). */
    double zmax = 0, zmin = INFINITY;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < n; i++) {
            Z[j * n + i] = 0;
            for (size_t m = 0; m < n; m++)
                Z[j * n + i] += U[i * n + m] * C[j * n + m];
            zmax = fmax(zmax, fabs(Z[j * n + i]));
            zmin = fmin(zmin, fabs(Z[j * n + i]));
        }
    for (size_t j0 = 0; j0 < k; j0 += 3) {
        size_t nch = k - j0 < 3 ? k - j0 : 3;
        gpmc_ddjac_conv(d, C + j0 * n, nch, Zl + j0 * n);
    }
    double ctol = 3 * fft_tol(n) * norm(u, n) * norm(C, n * k) + n * EPS * zmax;
    for (size_t i = 0; i < n * k; i++)
        assert_close(Zl[i], Z[i], ctol);
    /* G = relu(Z) v, then central differences: exact for a piecewise-linear G while no
     * pre-activation crosses 0 (h max|u| < min|Z|), up to rounding of G over 2h. */
    gpmc_ddjac_output(d, C, G);
    double h = 1e-6, umax = 1.0;
    assert_true(h * umax < zmin); /* no kink within h */
    for (size_t i = 0; i < n; i++) {
        double g = 0;
        for (size_t j = 0; j < k; j++)
            g += (j < k - k / 2 ? 1 : -1) * fmax(Z[j * n + i], 0) / sqrt((double)k);
        assert_close(G[i], g, sqrt((double)k) * ctol);
    }
    double gerr = sqrt((double)k) * 2 * ctol; /* |G| error bound, perturbed inputs too */
    double ftol = 2 * gerr / (2 * h);
    for (size_t j = 0; j < k; j++)
        for (size_t m = 0; m < n; m++) {
            memcpy(Cp, C, sizeof Cp);
            Cp[j * n + m] += h;
            gpmc_ddjac_output(d, Cp, Gp);
            Cp[j * n + m] -= 2 * h;
            gpmc_ddjac_output(d, Cp, Gm);
            double vj = (j < k - k / 2 ? 1 : -1) / sqrt((double)k);
            for (size_t i = 0; i < n; i++) {
                double fd = (Gp[i] - Gm[i]) / (2 * h);
                double an = vj * (Z[j * n + i] > 0) * U[i * n + m];
                assert_close(fd, an, ftol);
                J[i * n * k + j * n + m] = an;
            }
        }
    /* J J^T vs the library's Gram of this one sample. */
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++)
            JJ[i * n + l] = dot(J + i * n * k, J + l * n * k, n * k);
    gpmc_ddjac_gram_reset(d);
    gpmc_ddjac_gram_add(d, C, 1);
    assert_int_equal(gpmc_ddjac_gram_samples(d), 1);
    gpmc_ddjac_gram(d, gram);
    double gtol = 3 * fft_tol(n) * dot(u, u, n) + 2 * n * EPS;
    for (size_t i = 0; i < n * n; i++)
        assert_close(gram[i], JJ[i], gtol);
    /* The wrong orientation: sum_j v_j^2 U^T diag(a_j) U. */
    double gap = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++) {
            wrong[i * n + l] = 0;
            for (size_t j = 0; j < k; j++)
                for (size_t m = 0; m < n; m++)
                    wrong[i * n + l] += (Z[j * n + m] > 0) * U[m * n + i] * U[m * n + l] / k;
            gap = fmax(gap, fabs(wrong[i * n + l] - JJ[i * n + l]));
        }
    assert_true(gap > 0.05);
    gpmc_rng_free(r);
    gpmc_ddjac_free(d);
}

/* The Monte Carlo mean Sigma_hat against Sigma entry by entry: entry (i, l) is r_{l-i}
 * times the mean of kS i.i.d. Bernoulli(p_{l-i}) co-activations, SE |r| sqrt(p(1-p)/(kS)).
 * Wrong variants, each rejected by max |z| > NSE: the arc-cosine kernel |u|^2 kappa(rho);
 * the autoconvolution in place of the autocorrelation; the wrong orientation's mean
 * U^T U / 2. */
static void test_mc_mean_matches_sigma(void **state)
{
    (void)state;
    enum { n = 16, k = 8 };
    const size_t S = 4000;
    double u[n], r[n], cv[n], U[n * n];
    static double gram[n * n];
    asym_kernel(n, u);
    dense_u(u, n, U);
    autocorr_loop(u, n, r, cv);
    double u2 = dot(u, u, n);
    gpmc_ddjac *d = gpmc_ddjac_alloc(n, k, 64);
    assert_non_null(d);
    assert_int_equal(gpmc_ddjac_set_kernel(d, u), GPMC_OK);
    gsl_rng *r0 = gpmc_rng_alloc();
    gpmc_rng_seek(r0, SEED, 3, 0, 0);
    gpmc_ddjac_gram_reset(d);
    gpmc_ddjac_gram_add_mc(d, r0, S / 2); /* two calls: counts accumulate */
    gpmc_ddjac_gram_add_mc(d, r0, S / 2);
    assert_int_equal(gpmc_ddjac_gram_samples(d), S);
    gpmc_ddjac_gram(d, gram);
    double zmax = 0, zarc = 0, zconv = 0, zorient = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++) {
            size_t s = (l + n - i) % n;
            double rho = r[s] / u2, p = gpmc_ddjac_p_both(rho);
            double se = fabs(r[s]) * sqrt(p * (1 - p) / (double)(k * S));
            double g = gram[i * n + l];
            if (se == 0) { /* r_s = 0: the entry is exactly 0 */
                assert_close(g, 0, 3 * fft_tol(n) * u2);
                continue;
            }
            zmax = fmax(zmax, fabs(g - u2 * gpmc_ddjac_phi(rho)) / se);
            zarc = fmax(zarc, fabs(g - u2 * arccos_kernel(rho)) / se);
            zconv = fmax(zconv, fabs(g - u2 * gpmc_ddjac_phi(cv[s] / u2)) / se);
            zorient = fmax(zorient, fabs(g - 0.5 * dot_strided(U, i, l, n)) / se);
        }
    assert_true(zmax <= NSE);
    assert_true(zarc > NSE);
    assert_true(zconv > NSE);
    assert_true(zorient > NSE);
    /* Chunks need not follow samples: 5 channels a chunk, one call, the same draws give
     * the same integer counts, so the same Gram to the last bit. */
    static double gram5[n * n];
    gpmc_ddjac *d5 = gpmc_ddjac_alloc(n, k, 5);
    assert_non_null(d5);
    assert_int_equal(gpmc_ddjac_set_kernel(d5, u), GPMC_OK);
    gpmc_rng_seek(r0, SEED, 3, 0, 0);
    gpmc_ddjac_gram_reset(d5);
    gpmc_ddjac_gram_add_mc(d5, r0, S);
    assert_int_equal(gpmc_ddjac_gram_samples(d5), S);
    gpmc_ddjac_gram(d5, gram5);
    assert_memory_equal(gram5, gram, sizeof gram);
    gpmc_ddjac_free(d5);
    gpmc_rng_free(r0);
    gpmc_ddjac_free(d);
}

/* mean and standard error of gram_dev^2 over T independent estimates of S samples. */
static void dev2_stats(gpmc_ddjac *d, gsl_rng *r, size_t S, size_t T, double *gram,
                       double *mean, double *se)
{
    double a = 0, b = 0;
    for (size_t t = 0; t < T; t++) {
        gpmc_ddjac_gram_reset(d);
        gpmc_ddjac_gram_add_mc(d, r, S);
        gpmc_ddjac_gram(d, gram);
        double e = gpmc_ddjac_gram_dev(d, gram);
        a += e * e, b += e * e * e * e;
    }
    *mean = a / (double)T;
    *se = sqrt((b / (double)T - *mean * *mean) / (double)(T - 1));
}

/* The Monte Carlo error: E[gram_dev^2] = gram_dev_pred^2 exactly, at every S, and
 * gram_dev_pred^2 = K/(kS): the RMS error shrinks like 1/sqrt(samples). Checked at S = 4
 * and 64 from T = 400 estimates each. Wrong variants: an error of S draws of one matrix,
 * not of kS channels (pred^2 k times larger), and a 1/S shrinking of the RMS error (the
 * S = 64 mean predicted from S = 4's by (4/64)^2 instead of 4/64). */
static void test_mc_error_shrinks_like_one_over_sqrt_samples(void **state)
{
    (void)state;
    enum { n = 16, k = 4 };
    const size_t T = 400, S1 = 4, S2 = 64;
    double u[n];
    static double gram[n * n];
    asym_kernel(n, u);
    gpmc_ddjac *d = gpmc_ddjac_alloc(n, k, 32);
    assert_non_null(d);
    assert_int_equal(gpmc_ddjac_set_kernel(d, u), GPMC_OK);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 4, 0, 0);
    double m1, se1, m2, se2;
    dev2_stats(d, r, S1, T, gram, &m1, &se1);
    dev2_stats(d, r, S2, T, gram, &m2, &se2);
    double p1 = gpmc_ddjac_gram_dev_pred(d, S1), p2 = gpmc_ddjac_gram_dev_pred(d, S2);
    assert_close(p1 * p1 * (double)S1, p2 * p2 * (double)S2, 8 * EPS * p1 * p1 * (double)S1);
    assert_close(m1, p1 * p1, NSE * se1);
    assert_close(m2, p2 * p2, NSE * se2);
    /* the wrong variants */
    assert_true(fabs(m1 - k * p1 * p1) > NSE * se1);
    double r1 = m1 * (double)S1 / (double)S2, r2 = m1 * pow((double)S1 / (double)S2, 2);
    double se_r = sqrt(se2 * se2 + se1 * se1 * pow((double)S1 / (double)S2, 2));
    assert_close(m2, r1, NSE * se_r);
    assert_true(fabs(m2 - r2) > NSE * se_r);
    gpmc_rng_free(r);
    gpmc_ddjac_free(d);
}

/* Alignment, by loops over the trigonometric basis (seed eq. 10), of the eigenvectors at
 * the q-th space's ranks: |W^T V|_F^2 / dim. cos_only: the wrong variant that projects a
 * 2-D space on its cosine alone. */
static double align_loop(const gpmc_ddjac *d, const double *vecs, size_t n, size_t q,
                         size_t off, int cos_only)
{
    size_t dim, p = gpmc_ddjac_space_freq(d, q, &dim);
    double e = 0;
    for (size_t t = 0; t < dim; t++) {
        const double *v = vecs + (off + t) * n;
        double c = 0, sn = 0;
        for (size_t i = 0; i < n; i++) {
            double a = 2 * PI * (double)(p * i % n) / (double)n;
            c += v[i] * cos(a), sn += v[i] * sin(a);
        }
        e += dim == 1 ? c * c / (double)n : 2 * (c * c + (cos_only ? 0 : sn * sn)) / (double)n;
    }
    return e / (double)dim;
}

/* Weyl and Davis-Kahan make the spectrum and the eigenspaces certain given the Gram's
 * error E = |Sigma_hat - Sigma| <= |.|_F = gram_dev |Sigma|_F: |eig_mc_q - eig_q| <= E,
 * and a space of Sigma at gap g > 2E from the rest of its spectrum has alignment
 * >= 1 - (E / (g - E))^2. The library's alignment must equal the loops' and pass the
 * bound; the cosine-only variant must fail it. Then the exact Sigma: alignment 1. */
static void test_spectrum_and_alignment_bounds(void **state)
{
    (void)state;
    enum { n = 32, k = 8, top = 4 };
    const size_t S = 3000;
    double u[n], eig[n], eig_f[n], al[top];
    static double gram[n * n];
    gpmc_ddjac_kernel(GPMC_DDJAC_TRIANGULAR, 4, n, u);
    gpmc_ddjac *d = gpmc_ddjac_alloc(n, k, 64);
    assert_non_null(d);
    assert_int_equal(gpmc_ddjac_set_kernel(d, u), GPMC_OK);
    gsl_rng *r = gpmc_rng_alloc();
    gpmc_rng_seek(r, SEED, 5, 0, 0);
    gpmc_ddjac_gram_reset(d);
    gpmc_ddjac_gram_add_mc(d, r, S);
    gpmc_ddjac_gram(d, gram);
    gpmc_ddjac_eig_sorted(d, eig_f);
    double fro = norm(eig_f, n); /* |Sigma|_F */
    double E = gpmc_ddjac_gram_dev(d, gram) * fro * (1 + 1e-12);
    double tr = 0;
    for (size_t q = 0; q < n; q++)
        tr += eig_f[q];
    assert_close(tr, n / 2.0, 10 * n * EPS); /* trace: Sigma_ii = |u|^2 / 2 = 1/2 */
    assert_int_equal(gpmc_ddjac_spectrum(d, gram, eig), GPMC_OK);
    for (size_t q = 0; q < n; q++) {
        assert_true(fabs(eig[q] - eig_f[q]) <= E + 10 * n * EPS * fro);
        if (q > 0)
            assert_true(eig[q] <= eig[q - 1] && eig_f[q] <= eig_f[q - 1]);
    }
    gpmc_ddjac_align(d, gram, top, al);
    size_t off = 0, dim;
    for (size_t q = 0; q < top; q++) {
        gpmc_ddjac_space_freq(d, q, &dim);
        double g = INFINITY; /* gap to the eigenvalues outside the space's ranks */
        for (size_t o = 0; o < n; o++)
            if (o < off || o >= off + dim)
                g = fmin(g, fabs(eig_f[o] - eig_f[off]));
        assert_true(g > 2 * E); /* else the bound says nothing: more samples */
        double bound = 1 - pow(E / (g - E), 2);
        double loop = align_loop(d, gram, n, q, off, 0);
        assert_close(al[q], loop, 100 * n * EPS);
        assert_true(al[q] >= bound && al[q] <= 1 + 100 * n * EPS);
        if (dim == 2)
            assert_true(align_loop(d, gram, n, q, off, 1) < bound);
        off += dim;
    }
    /* The formula's own Sigma: every space aligned, to rounding over the gap. */
    const double *sg = gpmc_ddjac_sigma_row(d);
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++)
            gram[i * n + l] = sg[(l + n - i) % n];
    assert_int_equal(gpmc_ddjac_spectrum(d, gram, eig), GPMC_OK);
    gpmc_ddjac_align(d, gram, top, al);
    for (size_t q = 0; q < top; q++)
        assert_close(al[q], 1, 1e-10);
    gpmc_rng_free(r);
    gpmc_ddjac_free(d);
}

static void defaults(gpmc_value *v) { exp_defaults(&gpmc_exp_ddjac, v); }

/* The experiment at its defaults and at a small gaussian point: fields finite and
 * consistent with the library, reproducible per (seed, trial), gram_dev within the
 * range its RMS allows (Markov: P(dev > 10 pred) <= 1/100 per trial; 3 trials). */
static void test_experiment_records(void **state)
{
    (void)state;
    const gpmc_experiment *e = &gpmc_exp_ddjac;
    gpmc_value v[EXP_MAXP];
    for (int kind = 0; kind < 2; kind++) {
        defaults(v);
        v[exp_param(e, "kernel")].num = kind;
        if (kind) {
            v[exp_param(e, "n")].num = 15;
            v[exp_param(e, "width")].num = 1.5;
            v[exp_param(e, "top")].num = 8;
        }
        size_t n = (size_t)v[exp_param(e, "n")].num, top = (size_t)v[exp_param(e, "top")].num;
        exp_run run;
        exp_open(&run, e, v, 11);
        double first = NAN;
        for (uint64_t t = 0; t < 3; t++) {
            exp_trial(&run, 7, t);
            double dev = exp_get(&run, "gram_dev"), pred = exp_get(&run, "gram_dev_pred");
            assert_true(dev > 0 && dev < 10 * pred);
            const double *mc = exp_arr(&run, "eig_mc"), *fo = exp_arr(&run, "eig_formula");
            const double *al = exp_arr(&run, "align");
            double tr = 0, amin = INFINITY;
            for (size_t q = 0; q < n; q++)
                tr += fo[q], assert_true(isfinite(mc[q]));
            assert_close(tr, n / 2.0, 10 * n * EPS);
            for (size_t q = 0; q < top; q++)
                assert_true(al[q] >= 0 && al[q] <= 1 + 1e-12), amin = fmin(amin, al[q]);
            assert_close(exp_get(&run, "align_min"), amin, 0);
            assert_true(exp_get(&run, "eig_dev") >= 0);
            if (t == 0)
                first = dev;
        }
        exp_trial(&run, 7, 0);
        assert_close(exp_get(&run, "gram_dev"), first, 0);
        exp_close(&run);
    }
    /* top beyond the n/2 + 1 eigenspaces is refused. */
    defaults(v);
    v[exp_param(e, "n")].num = 4;
    v[exp_param(e, "top")].num = 4;
    gpmc_point pt = {.exp = e, .values = v};
    char msg[256];
    assert_int_not_equal(e->check(&pt, msg, sizeof msg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p_both_and_phi),
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_closed_form_against_loops),
        cmocka_unit_test(test_jacobian_orientation_by_finite_differences),
        cmocka_unit_test(test_mc_mean_matches_sigma),
        cmocka_unit_test(test_mc_error_shrinks_like_one_over_sqrt_samples),
        cmocka_unit_test(test_spectrum_and_alignment_bounds),
        cmocka_unit_test(test_experiment_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
