/* The batched adaptive supremum search shared by the conditions (MATH.md, Conditions):
 * it looks for the largest value of a caller's objective over TUPLES of m unit vectors in
 * R^k (a pair (x, y) for the WDC; a pair plus a quadruple for the R2WDC, a quadruple for
 * the RRIC, (h, x, m, y) for the joint-WDC). Every value it reports is one the objective
 * returned for a tuple it evaluated, so when the objective returns certified lower bounds
 * the maximum is one too, and its tuple is kept.
 *
 * The caller gives (gpmc_search_objective):
 *   eval     values of a batch of tuples, through the caller's own batched code (GEMMs);
 *   aim      for a tuple, a symmetric k x k matrix D whose eigenvector v of largest
 *            |eigenvalue| aims the targeted moves (the WDC: its deviation matrix); NULL
 *            gives random moves only;
 *   normals  (gpmc_search_set_normals) the hyperplanes nu_i whose crossings the climb
 *            targets: the WDC passes the rows w_i of W, a deeper layer would pass
 *            Lambda^T w_i. The "gated" vectors of the tuple are those the hyperplanes
 *            switch (the WDC: x and y, through 1{w_i.x > 0} 1{w_i.y > 0}).
 *
 * A run (gpmc_search_run), each phase on its own substream of the trial's stream:
 *   s0     `random` tuples, every free vector uniform on the sphere, in batches;
 *   s0+1   `angles` tuples stratified in the angle theta between vectors a and b:
 *          theta = 0 exactly (b = a), 1e-9..1e-1 from 0 and from pi, pi exactly (b = -a),
 *          then a uniform grid over [0, pi]; a uniform, b = cos(theta) a + sin(theta) u
 *          with u a uniform direction orthogonal to a, the other vectors uniform. With
 *          blocks, one angle per block on a G^L grid (G^L >= angles, block 0 slowest;
 *          per axis 0, pi, 1e-3 and 1e-1 from either end, then uniform inside), so mixed
 *          angles (one block parallel, another antipodal) are on it; grid point 0 (every
 *          block at 0) is the tied one;
 *   seeds  the caller's seed tuples (the plan's `seeds`), no draws;
 *   s0+2   if a tie is given, a quarter of `search` (at least 1) on tied tuples: one batch
 *          of fresh random tuples, then a climb from the best of them and of the tied
 *          tuples seen so far; or (blocks, no tie) `block_tied` per block on block-tied
 *          tuples, the same way;
 *   s0+4   `smooth_starts` annealed ascents on the objective's smooth surrogate (below);
 *   s0+3   the rest of `search`: a climb from the best tuples seen and the best tied one,
 *          its parents halved (best kept) after each `halve_every` share of it if set.
 * Every budget counts evaluated (or screened) tuples: gpmc_search_evaluated() = random +
 * angles + seeds + search. The plan's `draws` moves all of these substreams at once (the
 * experiments' search_seed): the same objective searched with independent draws.
 *
 * The climb: batched moves with one adaptive step size sigma per parent. A batch gives
 * each parent B/P children: per-vector Gaussian steps of angle ~sigma (each free vector
 * alone, then all of them independently, then all by the same step, which keeps their
 * angles), and every fourth child a targeted flip that moves gated vectors just across
 * one hyperplane nu_i (with the plan's flip_growth: several in turn), drawn with weight
 * (nu_i.v)^2 / distance: across into the half-space where all gated vectors are positive
 * if D's extreme eigenvalue is positive, out of it (the nearest gated vector) if negative.
 * The best child replaces its parent if better (sigma *= 2, up to 1), else sigma /= 2,
 * restarting at 0.3 below 1e-6. With blocks (gpmc_search_objective.block) every step is
 * per block, and the random moves are one block of one vector alone, all independently,
 * one block of all by the same step, and all blocks of all by the same step.
 *
 * Screening (an objective with aim and screen): a generation's children are first ranked
 * by certified lower bounds, the Rayleigh quotients |v^T D v| of the child's matrix at its
 * parent's two extreme eigenvectors (for the WDC: the masks and O(n) per child, no masked
 * Gram and no eigensolver), and only the best child of each parent is evaluated; a
 * generation of B children costs B + P of the budget (P parents). Only evaluated values
 * are kept or reported. Measured with tests/bench/bench_wdc (make bench, two runs): 2.3-3.7x
 * the candidates per second at (n, k) = (2000, 20), 2.3-3.1x at (500, 10), with the same
 * search quality per candidate (median ratio 0.998 over 150 WDC trials, n 40-200, k 3-10).
 *
 * Crossings (an objective with `cell` and no aim): where the pieces move with the point
 * (a deep network's), every fourth child moves one free gated vector, drawn per parent
 * and generation, just across one boundary of its own piece (the nearest likelier).
 *
 * Ties. A tie is m indices, tie[j] = j (vector j free) or tie[j] = i < j (vector j is
 * vector i): the WDC's diagonal x = y is {0, 0}. Tied vectors are never drawn or moved,
 * only copied, and the objective sees the same pointer for them. The best tied tuple is
 * kept apart (the WDC's eps_hat_diag).
 *
 * Lifetime: gpmc_search_alloc() once per grid point (every buffer, nothing later),
 * gpmc_search_set_normals() whenever the hyperplanes change (once per trial for the WDC),
 * gpmc_search_run() once per trial (it starts afresh: no state of an earlier run is
 * read), then the results. One search serves one thread. */
#ifndef GPMC_SEARCH_H
#define GPMC_SEARCH_H

#include "gpmc/experiment.h"

#include <stddef.h>
#include <stdint.h>

/* Most vectors in a tuple. */
#define GPMC_SEARCH_MAX_TUPLE 8
/* Most coordinate blocks of a vector (gpmc_search_objective.block). */
#define GPMC_SEARCH_MAX_BLOCKS 4
/* Largest gpmc_search_plan.flip_growth (its cube: flips in one child). */
#define GPMC_SEARCH_FLIP_GROWTH_MAX 16
/* Most screening directions in one screen call: 2 per parent, 16 parents. */
#define GPMC_SEARCH_SCREEN_MAX 32
/* Largest gpmc_search_plan.draws, and the substream offset of one unit of it: a run's
 * substreams are s0 + draws * GPMC_SEARCH_DRAWS_STRIDE + 0..4, apart from every
 * substream below the stride (the callers' own: W is on 0). */
#define GPMC_SEARCH_DRAWS_MAX 255
#define GPMC_SEARCH_DRAWS_STRIDE (1u << 24)
/* The experiments' `search_seed` parameter (not hashed: the same matrices), which they
 * pass as gpmc_search_plan.draws. */
#define GPMC_SEARCH_SEED_PARAM                                                             \
    {"search_seed", GPMC_PARAM_INT, "0", 0, GPMC_SEARCH_DRAWS_MAX, NULL, GPMC_PARAM_NOHASH, \
     "which independent draws the search makes (0-255); the matrices stay the same: run "  \
     "a spec again with another value to see how much of each sup estimate is the "        \
     "search's luck (analysis/search_quality.py compares the two)"}
/* The draws of an experiment's point: its search_seed parameter at index `param`. */
static inline uint32_t gpmc_search_draws(const gpmc_point *pt, size_t param)
{
    return (uint32_t)gpmc_point_int_at(pt, param);
}
/* Substream s of a caller's draws set `draws`: where the search puts its phases, and
 * where a caller puts its own search-like draws so that they move with search_seed. */
static inline uint32_t gpmc_search_substream(uint32_t s, uint32_t draws)
{
    return s + draws * GPMC_SEARCH_DRAWS_STRIDE;
}
/* The aim callback's slot for a tuple that is not in the last eval batch. */
#define GPMC_SEARCH_FRESH SIZE_MAX

typedef struct {
    size_t m;        /* vectors per tuple, 1..GPMC_SEARCH_MAX_TUPLE */
    size_t k;        /* dimension of each vector */
    size_t batch;    /* most tuples per eval call (the GEMM height) */
    size_t nnormals; /* most hyperplanes gpmc_search_set_normals() will be given */
    /* gated[j] != 0: the hyperplanes switch vector j and flips move it (NULL: all). The
     * source of a tied gated vector must be gated too. Copied at alloc. */
    const unsigned char *gated;
    void *ctx; /* passed to the callbacks */
    /* val[b] = the objective at tuple b < nb <= batch, whose vector j is row b of t[j]
     * (nb x k, row-major). GPMC_OK, or an error status that ends the run. */
    int (*eval)(void *ctx, const double *const *t, size_t nb, double *val);
    /* d = the symmetric k x k matrix (row-major, both triangles) of the tuple t (t[j]: its
     * vector j), which is tuple `slot` of the last eval batch, or GPMC_SEARCH_FRESH.
     * GPMC_OK or an error status. May be NULL. */
    int (*aim)(void *ctx, size_t slot, const double *const *t, double *d);
    /* bound[b] = a certified lower bound of the objective at tuple b < nb, cheaper than
     * eval: max_d |v_d^T D_b v_d| for the unit directions v_d = rows (parent[b] ndir + d)
     * of dirs (nparents ndir rows of k; nparents ndir <= GPMC_SEARCH_SCREEN_MAX), D_b the
     * aim matrix of tuple b (the Rayleigh quotients of its parent's extreme eigenvectors).
     * With it (and aim) the climb ranks its children by these bounds and evaluates only
     * the best child of each parent. GPMC_OK or an error status. May be NULL. */
    int (*screen)(void *ctx, const double *const *t, size_t nb, const size_t *parent,
                  const double *dirs, size_t nparents, size_t ndir, double *bound);
    /* Without an aim: the hyperplanes bounding the piece of the single vector x (k),
     * through 0, as *count <= nnormals rows of k (for a network's latent space: nu =
     * Lambda_{l-1,x}^T w_{l,i}, include/gpmc/net_cells.h). With it the climb makes crossing
     * moves: every FLIP_EVERY-th child moves one gated vector just across one of its
     * boundaries, drawn with weight 1 / (distance + FLIP_REACH). GPMC_OK or an error
     * status. May be NULL; cell_ctx is its first argument. */
    int (*cell)(void *cell_ctx, const double *x, double *normals, size_t *count);
    void *cell_ctx;
    /* A smooth surrogate of the objective at temperature tau in (0, 1] (it tends to the
     * objective as tau -> 0): val[b] for tuple b < nb of t (as for eval) and grad[j] (nb x
     * k rows) its Euclidean gradient in vector j, for the plan's smooth ascents. GPMC_OK
     * or an error status. May be NULL. */
    int (*smooth)(void *ctx, const double *const *t, size_t nb, double tau, double *val,
                  double *const *grad);
    /* Blocks (0 or 1: none): every vector's k coordinates are nblocks consecutive blocks of
     * lengths block[0..nblocks-1] (summing to k), each of which the objective sees only
     * through its direction (the joint-WDC: u = (h, m), v = (x, y), blocks n and p). The
     * search then keeps each block at norm 1/sqrt(nblocks), draws each uniformly on its
     * own sphere, steps each by its own angle, and adds the moves of one block of one
     * vector alone and of one block of every free vector by the same step (which keeps
     * that block's angles, e.g. theta_my, while the others stay). Copied at alloc. */
    size_t nblocks;
    const size_t *block;
} gpmc_search_objective;

typedef struct {
    size_t random;        /* random tuples */
    double *random_vals;  /* `random` entries: their values, in order; may be NULL */
    size_t angles;        /* angle-stratified tuples */
    size_t angle_a, angle_b; /* the two vectors whose angle is stratified (a != b) */
    size_t search;        /* climb evaluations */
    /* m entries: the tie of the tied stage (NULL: none, all of `search` on free tuples).
     * The theta = 0 tuples count as tied when the tie is exactly b = a. */
    const size_t *tie;
    /* With blocks and no tie: climbing evaluations per block, taken from `search`, of the
     * block-tied stages. For each block b in turn, tuples whose block b of vector angle_b
     * is that of vector angle_a (the joint-WDC: h = x with m, y free, then m = y with h, x
     * free), where suprema sit that a free climb reaches only through low values: a batch
     * of fresh tuples, then a climb from their best; the stage's best joins the climb's
     * starting points. 0: none. */
    size_t block_tied;
    uint32_t substream;   /* s0: the phases use substreams s0..s0+3 (s0+4: smooth) */
    /* 0..GPMC_SEARCH_DRAWS_MAX: the run's substreams move by draws * STRIDE, so another
     * value searches the same objective with independent draws (0: as before). s0 + 4
     * must stay below the stride. */
    uint32_t draws;
    /* nseeds tuples (each m x k row-major, one after another) the caller found another way
     * (the WDC: the best cells of the diagonal): evaluated after the angles, counted, and
     * starting points of the climb like the best tuples found. NULL: none. */
    const double *seeds;
    size_t nseeds;
    /* In [0, 1): the last climb (s0+3) cuts its parents to their best half after each
     * halve_every share of its budget (8 -> 4 -> 2 -> 1 at 0.2: the rest of the budget on
     * the best basin); 0: every parent climbs to the end. */
    double halve_every;
    /* 0 or 1: every flip child crosses one hyperplane. g in 2..GPMC_SEARCH_FLIP_GROWTH_MAX:
     * a parent's flip children cross 1, g, g^2, g^3 hyperplanes in turn (each the next
     * weighted draw, from where the previous flip left the vectors), so one generation
     * can make a climb that single flips make over many. */
    size_t flip_growth;
    /* Annealed ascents (an objective with smooth; no blocks), on substream s0+4 after the
     * tied stage: smooth_starts tuples of uniform free vectors, in batches, each moved
     * smooth_steps times along the projected gradient of the surrogate, normalised over
     * the tuple, by an angle falling geometrically from 0.1 to 0.002 while tau falls from
     * 1 to 0.01; then evaluated exactly and offered to the climb's parents. Smoothing
     * merges the cells' many small basins, so the ascents reach basins the flips and
     * steps do not. Costs smooth_starts (smooth_steps + 1) of `search`. 0: none. */
    size_t smooth_starts, smooth_steps;
    /* 0, or a step of the ascents at which every ascent whose vectors angle_a and
     * angle_b are within 0.1 rad has angle_b reflected (b -> -b). The gates' bias at large
     * tau pulls ascents towards b = a or b = -a; those at b = a stay on the tied set (the
     * WDC's diagonal, which the tied stage searches), those at -a come back to wide angles
     * as tau falls. */
    size_t smooth_untie;
} gpmc_search_plan;

typedef struct gpmc_search gpmc_search;

/* NULL on a bad objective (m, k or batch 0, m too large, no eval, bad gated) or when out
 * of memory. The objective is copied. */
gpmc_search *gpmc_search_alloc(const gpmc_search_objective *obj);
void gpmc_search_free(gpmc_search *s);

/* Bytes gpmc_search_alloc(obj) takes (to refuse a point before any compute), SIZE_MAX
 * if that overflows size_t. */
size_t gpmc_search_bytes(const gpmc_search_objective *obj);

/* The hyperplane normals: `count` <= nnormals rows of k (row-major; referenced, not
 * copied: keep them alive and unchanged while running). Computes |nu_i|^2. count 0: no
 * flips. */
void gpmc_search_set_normals(gpmc_search *s, const double *normals, size_t count);

/* One run of the plan on the stream (polled for a stop before each batch but those of
 * the angle phase). GPMC_OK, GPMC_EINVAL for a bad plan, or the status of a callback or of
 * the poll (GPMC_ESTOPPED). */
int gpmc_search_run(gpmc_search *s, gpmc_stream *stream, const gpmc_search_plan *plan);

/* The largest value of the last run (tied != 0: over tied tuples only), -1 if none was
 * evaluated; *t (if t) its tuple, m x k row-major (vector j at row j). */
double gpmc_search_best(const gpmc_search *s, int tied, const double **t);

/* Tuples evaluated by the last run. */
size_t gpmc_search_evaluated(const gpmc_search *s);

#endif
