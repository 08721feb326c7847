/* The shared search's internals (include/gpmc/search.h has the algorithm), shared by
 * src/numerics/search.c (the phases, the pools, the climb's generations) and
 * src/numerics/search_moves.c (how a parent's children are made). Not installed. */
#ifndef GPMC_SEARCH_INTERNAL_H
#define GPMC_SEARCH_INTERNAL_H

#include "gpmc/search.h"

#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <stddef.h>

#define SIGMA0 0.1
#define SIGMA_MAX 1.0
#define SIGMA_MIN 1e-6
#define SIGMA_RESTART 0.3
/* Parents of the climb: one per CHILDREN_PER_PARENT children in a batch. */
#define POOL_MAX 16
#define CHILDREN_PER_PARENT 16
/* A flip puts the hyperplane this far (relative angle) behind the moved vector, far
 * beyond rounding so the mask is unambiguous, and too little to change Q. */
#define FLIP_MARGIN 1e-6
/* Flip candidates are drawn with weight gain / (distance + FLIP_REACH): the gain is
 * discounted by how far a vector must move (distances are cosines, ~1/sqrt(k)). */
#define FLIP_REACH 0.02
/* Every FLIP_EVERY-th child of a parent is a targeted flip (or a crossing), the others
 * random steps. Measured on the WDC (mean eps_hat, search = 2000, 3-8 trials): 1 in 4 beat
 * random steps alone by 1-6% at (n, k) = (500, 10), (100, 10), (2000, 20), and matched 1 in
 * 2; screened, 1 in 2 and all-flips converge early to lower values (0.97, 0.90 of the best
 * known, 30 matrices). Crossings (r2wdc, k = 2, 3): 1 in 2, 3, 4, 8 alike. */
#define FLIP_EVERY 4

/* The best few tuples seen, best first, with what the climber knows about each: its step
 * size and the unit eigenvector v of its matrix D for the eigenvalue of largest modulus,
 * with that eigenvalue's sign (0: not known, or no aim: random moves only). */
typedef struct {
    size_t len, cap;
    double *t;       /* cap x m x k: tuple q's vector j at (q m + j) k */
    double *val;     /* cap */
    double *sigma;   /* cap */
    double *dirs;    /* cap x 2 x k: the eigenvectors of the largest, smallest eigenvalue */
    int *sgn;        /* cap */
} pool;

typedef struct {
    double val;      /* -1: none yet */
    double *t;       /* m x k */
} best;

struct gpmc_search {
    gpmc_search_objective obj;
    size_t m, k, batch;
    size_t gated[GPMC_SEARCH_MAX_TUPLE], ng; /* the gated vectors, in order */
    size_t col[GPMC_SEARCH_MAX_TUPLE];       /* gated vector j's column in proj */
    unsigned char isg[GPMC_SEARCH_MAX_TUPLE]; /* vector j is gated */
    size_t id[GPMC_SEARCH_MAX_TUPLE];        /* the identity tie: id[j] = j */
    size_t nbl, bl_off[GPMC_SEARCH_MAX_BLOCKS], bl_len[GPMC_SEARCH_MAX_BLOCKS]; /* >= 1 */
    const double *normals;
    size_t nn;
    double *nsq;       /* nnormals: |nu_i|^2 */
    double *cnorm;     /* nnormals x k: a piece's boundaries (cell objectives) */
    double *buf;       /* m x batch x k: vector j of the batch's tuples at j batch k */
    double *val;       /* batch */
    double *bound;     /* batch: screening bounds */
    size_t *parent;    /* batch: parent of each child */
    double *u;         /* k: scratch direction */
    pool main_pool, tied_pool;
    /* a parent's hyperplanes: proj (nnormals x (ng + 1)) = N [gated vectors, v], and
     * cumulative flip weights (nnormals); rhs: the gated vectors and v as rows */
    double *proj, *cum, *rhs;
    /* eigenvectors: D, a copy for LAPACK, eigenvalues, eigenvector, LAPACK workspace */
    double *dmat, *ea, *ew, *ez, *ework;
    lapack_int *eiwork, isuppz[2], lwork, liwork;
    best all, tied;
    size_t evaluated;
    /* In a block-tied stage (gpmc_search_plan.block_tied): block btie - 1 of vector btb
     * is a copy of vector bta's in every tuple drawn or made; 0 outside. */
    size_t btie, bta, btb;
    size_t flip_growth; /* of the run's plan (gpmc_search_plan.flip_growth) */
    double *grad;       /* m x batch x k: the smooth surrogate's gradients (smooth only) */
    const gpmc_stream *stream; /* of the run: polled for a stop between batches */
};

/* x <- x / |x|; a zero vector (probability 0) becomes e_1. */
void gpmc_search_normalize(double *x, size_t k);

/* A vector of the search's tuples (k) made unit: gpmc_search_normalize, or with blocks
 * each block to norm 1/sqrt(nblocks). */
void gpmc_search_unit(const gpmc_search *s, double *x);

/* A uniform vector of the tuples' kind: on the sphere, or with blocks each block uniform
 * on its own sphere (norm 1/sqrt(nblocks)). */
void gpmc_search_draw_unit(const gpmc_search *s, gsl_rng *r, double *x);

/* The children of a generation: nb tuples in the batch's buffer, parents interleaved
 * (child b of parent b mod P, s->parent[b] set), every FLIP_EVERY-th of a parent an aimed
 * flip (objectives with aim and normals; with flip_growth g > 1 the i-th of them crosses
 * g^(i mod 4) hyperplanes) or a crossing (with cell, no aim), the others random steps.
 * GPMC_OK or the status of the cell callback. */
int gpmc_search_children(gpmc_search *s, const pool *p, size_t nb, const size_t *tie,
                         gsl_rng *r);

/* nb <= batch annealed ascents of the plan's smooth_steps (search.h, smooth_starts,
 * smooth_untie) from fresh uniform tuples, left in the batch buffer for the caller to
 * evaluate; counts nb smooth_steps evaluations. GPMC_OK or the status of the callback or
 * of a poll. */
int gpmc_search_smooth_walk(gpmc_search *s, gsl_rng *r, size_t nb, const gpmc_search_plan *pl);

#endif
