/* The deep decoder's expected Jacobian, its closed form and its Monte Carlo estimate
 * (ddjac.h). FFTW does every circulant product and DFT: the kernel's transform, the
 * autocorrelation (inverse transform of |u_hat|^2), Sigma's eigenvalues (transform of its
 * first row), U C for a batch of channels (one many-transform plan each way) and the
 * trigonometric projections of the eigenvectors (R2HC). Plans: FFTW_ESTIMATE, made once at
 * allocation, so they are the same on every rank and leave the buffers alone. */
#include "gpmc/ddjac.h"
#include "gpmc/error.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/sizes.h"

#include <fftw3.h>
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpmc/constants.h"

typedef struct {
    double lam;
    size_t p;
} space;

struct gpmc_ddjac {
    size_t n, k, kb, nh;        /* kb channels per plan (the chunk), nh = n/2 + 1 */
    double unorm2;              /* |u|^2 */
    double *u, *r, *sig, *pb, *lam; /* n each: kernel, autocorrelation, Sigma's row,
                                       P(both active), eigenvalues by frequency */
    double *uhat;               /* 2 nh: u's transform, (re, im) pairs */
    double *hc;                 /* n, fftw_malloc: in-place R2HC / HC2R buffer */
    double *cin, *zout;         /* n kb, fftw_malloc: channels in, U C out (times n) */
    fftw_complex *cz;           /* nh kb, fftw_malloc */
    double *act;                /* n kb: activations 0/1 of the channels in flight */
    double *cnt;                /* n x n, upper triangle: co-activation counts */
    size_t samples;             /* samples added since the reset */
    size_t pending;             /* channels of the current sample already added */
    space *spaces;              /* nh: eigenspaces by descending eigenvalue */
    double *w, *work;           /* dsyev: n eigenvalues, lwork workspace */
    lapack_int lwork;
    fftw_plan r2hc, hc2r, fwd, bwd;
};

void gpmc_ddjac_kernel(gpmc_ddjac_kernel_kind kind, double width, size_t n, double *u)
{
    double s = 0;
    for (size_t j = 0; j < n; j++) {
        double d = (double)(j < n - j ? j : n - j);
        u[j] = kind == GPMC_DDJAC_GAUSSIAN ? exp(-d * d / (2 * width * width))
                                           : fmax(0.0, 1 - d / width);
        s += u[j] * u[j];
    }
    s = sqrt(s); /* >= u_0 = 1 */
    for (size_t j = 0; j < n; j++)
        u[j] /= s;
}

static double clamp1(double t) { return t > 1 ? 1 : t < -1 ? -1 : t; }

double gpmc_ddjac_p_both(double t) { return 0.5 * (1 - acos(clamp1(t)) / GPMC_PI); }

double gpmc_ddjac_phi(double t) { return clamp1(t) * gpmc_ddjac_p_both(t); }

/* dsyev's optimal workspace is ~(block size + 2) n; 66 n covers OpenBLAS's LAPACK. */
static size_t lwork_guess(size_t n) { return gpmc_size_mul(66, n); }

size_t gpmc_ddjac_bytes(size_t n, size_t k, size_t chunk)
{
    (void)k;
    size_t kb = chunk, nh = n / 2 + 1;
    size_t doubles = gpmc_size_mul(9, n);
    doubles = gpmc_size_add(doubles, gpmc_size_mul(3, gpmc_size_mul(n, kb)));
    doubles = gpmc_size_add(doubles, gpmc_size_mul(2, gpmc_size_mul(nh, kb)));
    doubles = gpmc_size_add(doubles, gpmc_size_mul(n, n));
    doubles = gpmc_size_add(doubles, lwork_guess(n));
    return gpmc_size_add(gpmc_size_mul(doubles, sizeof(double)),
                         gpmc_size_mul(nh, sizeof(space)));
}

void gpmc_ddjac_free(gpmc_ddjac *d)
{
    if (!d)
        return;
    if (d->r2hc)
        fftw_destroy_plan(d->r2hc);
    if (d->hc2r)
        fftw_destroy_plan(d->hc2r);
    if (d->fwd)
        fftw_destroy_plan(d->fwd);
    if (d->bwd)
        fftw_destroy_plan(d->bwd);
    fftw_free(d->hc);
    fftw_free(d->cin);
    fftw_free(d->zout);
    fftw_free(d->cz);
    free(d->u);
    free(d->r);
    free(d->sig);
    free(d->pb);
    free(d->lam);
    free(d->uhat);
    free(d->act);
    free(d->cnt);
    free(d->spaces);
    free(d->w);
    free(d->work);
    free(d);
}

gpmc_ddjac *gpmc_ddjac_alloc(size_t n, size_t k, size_t chunk)
{
    const char *where = "gpmc_ddjac_alloc";
    size_t kb = chunk;
    if (n == 0 || k == 0 || kb == 0 || n > INT_MAX || kb > INT_MAX / n ||
        gpmc_ddjac_bytes(n, k, kb) == SIZE_MAX) {
        gpmc_error(GPMC_EINVAL, where, "invalid sizes n = %zu, k = %zu, chunk = %zu", n, k, kb);
        return NULL;
    }
    gpmc_ddjac *d = calloc(1, sizeof *d);
    if (!d)
        goto oom;
    d->n = n, d->k = k, d->kb = kb, d->nh = n / 2 + 1;
    size_t nh = d->nh;
    d->u = calloc(n, sizeof *d->u);
    d->r = calloc(n, sizeof *d->r);
    d->sig = calloc(n, sizeof *d->sig);
    d->pb = calloc(n, sizeof *d->pb);
    d->lam = calloc(n, sizeof *d->lam);
    d->uhat = calloc(2 * nh, sizeof *d->uhat);
    d->hc = fftw_malloc(n * sizeof *d->hc);
    d->cin = fftw_malloc(n * kb * sizeof *d->cin);
    d->zout = fftw_malloc(n * kb * sizeof *d->zout);
    d->cz = fftw_malloc(nh * kb * sizeof *d->cz);
    d->act = malloc(n * kb * sizeof *d->act);
    d->cnt = calloc(n * n, sizeof *d->cnt);
    d->spaces = calloc(nh, sizeof *d->spaces);
    d->w = malloc(n * sizeof *d->w);
    if (!d->u || !d->r || !d->sig || !d->pb || !d->lam || !d->uhat || !d->hc || !d->cin ||
        !d->zout || !d->cz || !d->act || !d->cnt || !d->spaces || !d->w)
        goto oom;
    double q = 0;
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n, d->cnt,
                                         (lapack_int)n, d->w, &q, -1);
    d->lwork = info == 0 && q >= 3.0 * (double)n ? (lapack_int)q : 3 * (lapack_int)n;
    if (!(d->work = malloc((size_t)d->lwork * sizeof *d->work)))
        goto oom;
    int ni = (int)n, nhi = (int)nh, kbi = (int)kb;
    d->r2hc = fftw_plan_r2r_1d(ni, d->hc, d->hc, FFTW_R2HC, FFTW_ESTIMATE);
    d->hc2r = fftw_plan_r2r_1d(ni, d->hc, d->hc, FFTW_HC2R, FFTW_ESTIMATE);
    d->fwd = fftw_plan_many_dft_r2c(1, &ni, kbi, d->cin, NULL, 1, ni, d->cz, NULL, 1, nhi,
                                    FFTW_ESTIMATE);
    d->bwd = fftw_plan_many_dft_c2r(1, &ni, kbi, d->cz, NULL, 1, nhi, d->zout, NULL, 1, ni,
                                    FFTW_ESTIMATE);
    if (!d->r2hc || !d->hc2r || !d->fwd || !d->bwd) {
        gpmc_ddjac_free(d);
        gpmc_error(GPMC_ENOMEM, where, "FFTW could not plan size %zu x %zu", n, kb);
        return NULL;
    }
    return d;
oom:
    gpmc_ddjac_free(d);
    gpmc_error(GPMC_ENOMEM, where, "out of memory (n = %zu, k = %zu, chunk = %zu)", n, k, kb);
    return NULL;
}

static int by_eig(const void *a, const void *b)
{
    const space *x = a, *y = b;
    if (x->lam != y->lam)
        return x->lam > y->lam ? -1 : 1;
    return x->p < y->p ? -1 : x->p > y->p;
}

int gpmc_ddjac_set_kernel(gpmc_ddjac *d, const double *u)
{
    size_t n = d->n, nh = d->nh;
    double s = 0;
    for (size_t j = 0; j < n; j++)
        s += u[j] * u[j];
    if (!(s > 0) || !(s <= DBL_MAX))
        return gpmc_error(GPMC_EINVAL, "gpmc_ddjac_set_kernel", "kernel is zero or not finite");
    d->unorm2 = s;
    memcpy(d->u, u, n * sizeof *u);
    /* u_hat from the halfcomplex transform: re at p, im at n - p (0 at p = 0 and n/2). */
    memcpy(d->hc, u, n * sizeof *u);
    fftw_execute(d->r2hc);
    for (size_t p = 0; p < nh; p++) {
        d->uhat[2 * p] = d->hc[p];
        d->uhat[2 * p + 1] = p > 0 && 2 * p < n ? d->hc[n - p] : 0;
    }
    /* r = IDFT(|u_hat|^2): the autocorrelation (u_hat^2 would be the autoconvolution). */
    for (size_t p = 0; p < nh; p++) {
        double re = d->uhat[2 * p], im = d->uhat[2 * p + 1];
        d->hc[p] = re * re + im * im;
        if (p > 0 && 2 * p < n)
            d->hc[n - p] = 0;
    }
    fftw_execute(d->hc2r);
    for (size_t j = 0; j < n; j++)
        d->r[j] = d->hc[j] / (double)n;
    /* r_s = r_{n-s} and r_0 = |u|^2 exactly, so Sigma is symmetric and rho_0 = 1. */
    for (size_t j = 1; 2 * j < n; j++)
        d->r[j] = d->r[n - j] = 0.5 * (d->r[j] + d->r[n - j]);
    d->r[0] = s;
    for (size_t j = 0; j < n; j++) {
        double rho = d->r[j] / s;
        d->sig[j] = s * gpmc_ddjac_phi(rho);
        d->pb[j] = gpmc_ddjac_p_both(rho);
    }
    /* lambda_p = sum_s sigma_s cos(2 pi p s / n): the real part of sigma's transform. */
    memcpy(d->hc, d->sig, n * sizeof *d->sig);
    fftw_execute(d->r2hc);
    for (size_t p = 0; p < nh; p++) {
        d->lam[p] = d->hc[p];
        if (p > 0)
            d->lam[n - p] = d->hc[p];
        d->spaces[p] = (space){.lam = d->hc[p], .p = p};
    }
    qsort(d->spaces, nh, sizeof *d->spaces, by_eig);
    return GPMC_OK;
}

const double *gpmc_ddjac_autocorr(const gpmc_ddjac *d) { return d->r; }
const double *gpmc_ddjac_sigma_row(const gpmc_ddjac *d) { return d->sig; }
const double *gpmc_ddjac_eig_freq(const gpmc_ddjac *d) { return d->lam; }

size_t gpmc_ddjac_nspaces(size_t n) { return n / 2 + 1; }

size_t gpmc_ddjac_space_freq(const gpmc_ddjac *d, size_t q, size_t *dim)
{
    size_t p = d->spaces[q].p;
    *dim = p == 0 || 2 * p == d->n ? 1 : 2;
    return p;
}

void gpmc_ddjac_eig_sorted(const gpmc_ddjac *d, double *eig)
{
    size_t at = 0, dim;
    for (size_t q = 0; q < d->nh; q++) {
        gpmc_ddjac_space_freq(d, q, &dim);
        for (size_t t = 0; t < dim; t++)
            eig[at++] = d->spaces[q].lam;
    }
}

/* zout = n U C for the first nch channels of cin (the rest zeroed first). */
static void conv_in(gpmc_ddjac *d, size_t nch)
{
    size_t n = d->n, nh = d->nh;
    if (nch < d->kb)
        memset(d->cin + nch * n, 0, (d->kb - nch) * n * sizeof *d->cin);
    fftw_execute(d->fwd);
    for (size_t j = 0; j < nch; j++) {
        fftw_complex *z = d->cz + j * nh;
        for (size_t p = 0; p < nh; p++) {
            double re = z[p][0], im = z[p][1], ur = d->uhat[2 * p], ui = d->uhat[2 * p + 1];
            z[p][0] = re * ur - im * ui;
            z[p][1] = re * ui + im * ur;
        }
    }
    fftw_execute(d->bwd);
}

void gpmc_ddjac_conv(gpmc_ddjac *d, const double *C, size_t nch, double *Z)
{
    size_t n = d->n;
    memcpy(d->cin, C, nch * n * sizeof *C);
    conv_in(d, nch);
    for (size_t i = 0; i < nch * n; i++)
        Z[i] = d->zout[i] / (double)n;
}

void gpmc_ddjac_output(gpmc_ddjac *d, const double *C, double *G)
{
    size_t n = d->n, k = d->k;
    double v = 1 / sqrt((double)k);
    for (size_t i = 0; i < n; i++)
        G[i] = 0;
    for (size_t j0 = 0; j0 < k; j0 += d->kb) {
        size_t nch = k - j0 < d->kb ? k - j0 : d->kb;
        memcpy(d->cin, C + j0 * n, nch * n * sizeof *C);
        conv_in(d, nch);
        for (size_t j = 0; j < nch; j++) {
            double vj = j0 + j < k - k / 2 ? v : -v; /* the first ceil(k/2) positive */
            for (size_t i = 0; i < n; i++)
                G[i] += vj * fmax(0.0, d->zout[j * n + i] / (double)n);
        }
    }
}

void gpmc_ddjac_gram_reset(gpmc_ddjac *d)
{
    memset(d->cnt, 0, d->n * d->n * sizeof *d->cnt);
    d->samples = d->pending = 0;
}

/* cnt += A^T A over the nch channels in cin: their co-activation counts. Every channel of
 * every sample is an independent c ~ N(0, I_n), so chunks need not follow samples. */
static void accumulate(gpmc_ddjac *d, size_t nch)
{
    size_t n = d->n;
    conv_in(d, nch);
    for (size_t i = 0; i < nch * n; i++)
        d->act[i] = d->zout[i] > 0 ? 1.0 : 0.0;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)nch, 1.0, d->act, (int)n,
                1.0, d->cnt, (int)n);
    d->pending += nch;
    d->samples += d->pending / d->k;
    d->pending %= d->k;
}

void gpmc_ddjac_gram_add_mc(gpmc_ddjac *d, gsl_rng *r, size_t samples)
{
    size_t left = samples * d->k; /* channels, drawn in order: sample, channel, entry */
    while (left > 0) {
        size_t nch = left < d->kb ? left : d->kb;
        gpmc_rng_gaussian(r, 1.0, d->cin, nch * d->n);
        accumulate(d, nch);
        left -= nch;
    }
}

void gpmc_ddjac_gram_add(gpmc_ddjac *d, const double *C, size_t samples)
{
    size_t left = samples * d->k;
    while (left > 0) {
        size_t nch = left < d->kb ? left : d->kb;
        memcpy(d->cin, C, nch * d->n * sizeof *C);
        accumulate(d, nch);
        C += nch * d->n;
        left -= nch;
    }
}

size_t gpmc_ddjac_gram_samples(const gpmc_ddjac *d) { return d->samples; }

void gpmc_ddjac_gram(const gpmc_ddjac *d, double *gram)
{
    size_t n = d->n;
    double scale = d->samples > 0 ? 1 / ((double)d->k * (double)d->samples) : NAN;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++) {
            double c = i <= l ? d->cnt[i * n + l] : d->cnt[l * n + i];
            gram[i * n + l] = d->r[(l + n - i) % n] * c * scale;
        }
}

/* |Sigma|_F^2 = n sum_s sigma_s^2 (each row is a shift of the first). */
static double sigma_fro2(const gpmc_ddjac *d)
{
    double s = 0;
    for (size_t j = 0; j < d->n; j++)
        s += d->sig[j] * d->sig[j];
    return (double)d->n * s;
}

double gpmc_ddjac_gram_dev(const gpmc_ddjac *d, const double *gram)
{
    size_t n = d->n;
    double e = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < n; l++) {
            double x = gram[i * n + l] - d->sig[(l + n - i) % n];
            e += x * x;
        }
    return sqrt(e / sigma_fro2(d));
}

double gpmc_ddjac_gram_dev_pred(const gpmc_ddjac *d, size_t samples)
{
    double v = 0;
    for (size_t j = 0; j < d->n; j++)
        v += d->r[j] * d->r[j] * d->pb[j] * (1 - d->pb[j]);
    v *= (double)d->n / ((double)d->k * (double)samples);
    return sqrt(v / sigma_fro2(d));
}

int gpmc_ddjac_spectrum(gpmc_ddjac *d, double *gram, double *eig)
{
    size_t n = d->n;
    for (size_t i = 0; i < n * n; i++)
        if (!(fabs(gram[i]) <= DBL_MAX))
            return gpmc_error(GPMC_ENUM, "gpmc_ddjac_spectrum", "Gram has NaN or Inf entries");
    /* Symmetric: row-major is column-major. Vectors come back as columns, ascending. */
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n, gram,
                                         (lapack_int)n, d->w, d->work, d->lwork);
    if (info != 0)
        return gpmc_error(GPMC_ENUM, "gpmc_ddjac_spectrum", "LAPACK dsyev failed (info %d)",
                          (int)info);
    for (size_t q = 0; q < n; q++)
        eig[q] = d->w[n - 1 - q];
    for (size_t a = 0, b = n - 1; a < b; a++, b--) /* descending rank q at gram + q n */
        for (size_t i = 0; i < n; i++) {
            double t = gram[a * n + i];
            gram[a * n + i] = gram[b * n + i];
            gram[b * n + i] = t;
        }
    return GPMC_OK;
}

void gpmc_ddjac_align(gpmc_ddjac *d, const double *vecs, size_t top, double *align)
{
    size_t n = d->n, off = 0, dim;
    for (size_t q = 0; q < top && q < d->nh; q++) {
        size_t p = gpmc_ddjac_space_freq(d, q, &dim);
        double e = 0;
        for (size_t t = 0; t < dim; t++) {
            memcpy(d->hc, vecs + (off + t) * n, n * sizeof *d->hc);
            fftw_execute(d->r2hc);
            /* <v, w_cos> = sqrt(2/n) hc[p], <v, w_sin> = -sqrt(2/n) hc[n - p]; 1/sqrt(n)
             * weights at p = 0 and p = n/2 (seed eq. 10). */
            e += dim == 1 ? d->hc[p] * d->hc[p] / (double)n
                          : 2 * (d->hc[p] * d->hc[p] + d->hc[n - p] * d->hc[n - p]) / (double)n;
        }
        align[q] = e / (double)dim;
        off += dim;
    }
}
