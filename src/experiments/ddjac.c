/* Experiment `ddjac`: the expected-Jacobian spectrum of the two-layer deep decoder
 * G(C) = ReLU(U C) v (MATH.md, Conditions 6; Heckel-Soltanolkotabi eq. (11), App. B).
 *
 * Sigma(U) = E[J_G^T J_G] (the seed's J_G in R^{nk x n}; = E[J J^T] for J = dG/dC in
 * R^{n x nk}) has the closed form Sigma_il = |u|^2 phi(rho_{l-i}), rho the circular
 * autocorrelation of the kernel over |u|^2 (include/gpmc/ddjac.h derives it). This is an
 * expectation, not a supremum: a trial is one Monte Carlo estimate Sigma_hat from
 * `samples` draws of C, and what it reports is how far that estimate is from the formula:
 *   gram_dev  |Sigma_hat - Sigma|_F / |Sigma|_F, next to its exact RMS gram_dev_pred
 *             (it shrinks like 1/sqrt(channels x samples));
 *   eig_mc, eig_formula  the two spectra, descending (n each);
 *   align     per eigenspace of the formula (one per frequency p: {cos, sin} for
 *             0 < p < n/2), the alignment of Sigma_hat's eigenvectors at those ranks with
 *             the trigonometric basis (seed eq. 10), for the `top` largest.
 * The kernel is fixed by the point (no draws); C's entries are N(0, 1) from substream 0,
 * sample by sample, channel by channel (their variance does not matter: only signs of
 * U C enter). */
#include "gpmc/ddjac.h"
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/sizes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_N, P_KERNEL, P_WIDTH, P_CHANNELS, P_SAMPLES, P_TOP, NPARAMS };

/* Channels per FFT plan and SYRK: wide enough for the BLAS, small enough for the cache. */
#define CHUNK 256
/* Up to n = 4096 the eigensolver takes ~1 min and the workspace ~300 MB. */
#define N_MAX 4096

static const gpmc_param_def params[] = {
    {"n", GPMC_PARAM_INT, "32", 1, N_MAX, NULL, 0,
     "signal length: U is the n x n circulant of the kernel"},
    {"kernel", GPMC_PARAM_CHOICE, "triangular", 0, 0, GPMC_DDJAC_KERNELS, 0,
     "kernel u centred at 0 on the circle (d the circular distance): triangular "
     "max(0, 1 - d/width) or gaussian exp(-d^2/(2 width^2)), scaled to |u| = 1"},
    {"width", GPMC_PARAM_REAL, "4", 1e-3, 1e6, NULL, 0,
     "kernel width, in samples (below 1 the triangular kernel is a delta)"},
    {"channels", GPMC_PARAM_INT, "8", 1, 1e5, NULL, 0,
     "k: columns of C; v = (1,...,1,-1,...,-1)/sqrt(k), the first ceil(k/2) positive"},
    {"samples", GPMC_PARAM_INT, "64", 1, 1e8, NULL, 0,
     "Monte Carlo draws of C per trial (i.i.d. N(0, 1) entries): the estimate's size, hashed "
     "so that points of a samples sweep are independent"},
    {"top", GPMC_PARAM_INT, "3", 1, 1e5, NULL, GPMC_PARAM_NOHASH,
     "eigenspaces of the formula (largest first, one per frequency) whose alignment is "
     "reported; at most floor(n/2) + 1"},
};

enum { F_GRAM_DEV, F_GRAM_PRED, F_EIG_DEV, F_ALIGN_MIN, F_EIG_MC, F_EIG_FORMULA, F_ALIGN,
       NFIELDS };

static const gpmc_field_def fields[] = {
    {"gram_dev", NULL, NULL, NULL, 0, "1",
     "|Sigma_hat - Sigma|_F / |Sigma|_F: Sigma_hat the mean of J_G^T J_G over the samples, "
     "Sigma the closed form |u|^2 phi(rho)"},
    {"gram_dev_pred", NULL, NULL, NULL, 0, "1",
     "sqrt(E[gram_dev^2]) in closed form: sqrt(n sum_s r_s^2 p_s (1 - p_s) / (k samples)) / "
     "|Sigma|_F, p_s = P(both active) (the same at every trial)"},
    {"eig_dev", NULL, NULL, NULL, 0, "1",
     "max_q |eig_mc_q - eig_formula_q| / eig_formula_0 (Weyl: <= gram_dev |Sigma|_F / "
     "eig_formula_0)"},
    {"align_min", NULL, NULL, NULL, 0, "1", "smallest entry of align"},
    {"eig_mc", "n", NULL, NULL, 0, "1", "eigenvalues of Sigma_hat, descending (LAPACK dsyev)"},
    {"eig_formula", "n", NULL, NULL, 0, "1",
     "eigenvalues of Sigma, descending: the DFT of |u|^2 phi(rho) (FFTW), each 0 < p < n/2 "
     "twice"},
    {"align", "top", NULL, NULL, 0, "1",
     "per eigenspace of Sigma (largest first; 2-D {cos, sin} at 0 < p < n/2, 1-D at p = 0, "
     "n/2): |W^T V|_F^2 / dim, V the eigenvectors of Sigma_hat at its ranks, W the "
     "trigonometric basis of its frequency (1: the same subspace)"},
};

_Static_assert(sizeof params / sizeof params[0] == NPARAMS, "parameter table and enum agree");
_Static_assert(sizeof fields / sizeof fields[0] == NFIELDS, "field table and enum agree");

typedef struct {
    size_t n, k, samples, top;
    gpmc_ddjac *d;
    double *gram; /* n x n: Sigma_hat, then its eigenvectors */
    double *eig;  /* n */
} ddjac_ws;

static size_t param_size(const gpmc_point *pt, size_t i) { return (size_t)gpmc_point_int_at(pt, i); }

static size_t chunk_of(const gpmc_point *pt)
{
    size_t ch = gpmc_size_mul(param_size(pt, P_CHANNELS), param_size(pt, P_SAMPLES));
    return ch < CHUNK ? ch : CHUNK;
}

static size_t ddjac_bytes(const gpmc_point *pt)
{
    size_t n = param_size(pt, P_N);
    size_t own = gpmc_size_mul(gpmc_size_add(gpmc_size_mul(n, n), n), sizeof(double));
    return gpmc_size_add(own, gpmc_ddjac_bytes(n, param_size(pt, P_CHANNELS), chunk_of(pt)));
}

/* Per sample: k FFT pairs (~5 n log2 n each way) and the SYRK's k n^2; per trial the
 * eigensolver with vectors (~10 n^3). */
static double ddjac_cost(const gpmc_point *pt)
{
    double n = (double)param_size(pt, P_N), k = (double)param_size(pt, P_CHANNELS);
    double s = (double)param_size(pt, P_SAMPLES);
    return s * k * (10 * n * log2(n + 1) + n * n) + 10 * n * n * n;
}

static int ddjac_check(const gpmc_point *pt, char *msg, size_t msglen)
{
    size_t n = param_size(pt, P_N), top = param_size(pt, P_TOP);
    if (top > gpmc_ddjac_nspaces(n)) {
        snprintf(msg, msglen, "top (=%zu) must be <= floor(n/2) + 1 (=%zu): the eigenspaces of "
                 "an n = %zu circulant", top, gpmc_ddjac_nspaces(n), n);
        return 1;
    }
    return 0;
}

static void ddjac_free(void *p)
{
    ddjac_ws *ws = p;
    if (!ws)
        return;
    gpmc_ddjac_free(ws->d);
    free(ws->gram);
    free(ws->eig);
    free(ws);
}

static void *ddjac_alloc(const gpmc_point *pt)
{
    ddjac_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    size_t n = ws->n = param_size(pt, P_N);
    ws->k = param_size(pt, P_CHANNELS);
    ws->samples = param_size(pt, P_SAMPLES);
    ws->top = param_size(pt, P_TOP);
    ws->d = gpmc_ddjac_alloc(n, ws->k, chunk_of(pt));
    ws->gram = malloc(n * n * sizeof *ws->gram);
    ws->eig = malloc(n * sizeof *ws->eig);
    if (!ws->d || !ws->gram || !ws->eig) {
        ddjac_free(ws);
        return NULL;
    }
    /* The kernel belongs to the point: the closed form is computed once, here. */
    gpmc_ddjac_kernel((gpmc_ddjac_kernel_kind)gpmc_point_int_at(pt, P_KERNEL),
                      gpmc_point_real_at(pt, P_WIDTH), n, ws->eig);
    if (gpmc_ddjac_set_kernel(ws->d, ws->eig) != GPMC_OK) {
        ddjac_free(ws);
        return NULL;
    }
    return ws;
}

static int ddjac_trial(const gpmc_point *pt, gpmc_stream *s, void *wsp, gpmc_record *rec)
{
    ddjac_ws *ws = wsp;
    size_t n = ws->n;
    (void)pt;
    /* Sigma_hat, polling between blocks of ~16 chunks of channels. */
    size_t block = 16 * CHUNK / ws->k + 1;
    gpmc_ddjac_gram_reset(ws->d);
    for (size_t done = 0; done < ws->samples;) {
        int st = gpmc_stream_poll(s);
        if (st)
            return st;
        size_t b = ws->samples - done < block ? ws->samples - done : block;
        gpmc_ddjac_gram_add_mc(ws->d, s->r, b);
        done += b;
    }
    gpmc_ddjac_gram(ws->d, ws->gram);
    gpmc_record_set(rec, F_GRAM_DEV, gpmc_ddjac_gram_dev(ws->d, ws->gram));
    gpmc_record_set(rec, F_GRAM_PRED, gpmc_ddjac_gram_dev_pred(ws->d, ws->samples));

    double *mc = gpmc_record_field(rec, F_EIG_MC), *fo = gpmc_record_field(rec, F_EIG_FORMULA);
    int st = gpmc_ddjac_spectrum(ws->d, ws->gram, mc);
    if (st)
        return st;
    gpmc_ddjac_eig_sorted(ws->d, fo);
    double dev = 0;
    for (size_t q = 0; q < n; q++)
        dev = fmax(dev, fabs(mc[q] - fo[q]));
    gpmc_record_set(rec, F_EIG_DEV, dev / fo[0]);

    double *al = gpmc_record_field(rec, F_ALIGN), amin = INFINITY;
    gpmc_ddjac_align(ws->d, ws->gram, ws->top, al);
    for (size_t q = 0; q < ws->top; q++)
        amin = fmin(amin, al[q]);
    gpmc_record_set(rec, F_ALIGN_MIN, amin);
    return GPMC_OK;
}

const gpmc_experiment gpmc_exp_ddjac = {
    .name = "ddjac",
    .summary = "expected Jacobian of the deep decoder ReLU(UC)v, U circulant: Monte Carlo "
               "Sigma_hat vs the closed form |u|^2 phi(rho) (gram_dev), the spectra "
               "(eig_mc, eig_formula) and the eigenspaces' alignment with the trigonometric "
               "basis (align)",
    .params = params,
    .nparams = NPARAMS,
    .fields = fields,
    .nfields = NFIELDS,
    .check = ddjac_check,
    .workspace_alloc = ddjac_alloc,
    .workspace_bytes = ddjac_bytes,
    .trial_cost = ddjac_cost,
    .workspace_free = ddjac_free,
    .trial = ddjac_trial,
};
