/* The shared supremum search (include/gpmc/search.h) on a toy objective over triples
 * (x, y, z) in R^k whose supremum is known, independently of any condition:
 *
 *     f(x, y, z) = relu(x.c0) + relu(y.c1) + z.c2,  c_j unit vectors, sup = 3 (x = c0, ...),
 *
 * with x and y gated by the hyperplanes {c0^perp, c1^perp} (crossing one switches a term
 * on) and aimed with D = sum_j c_j c_j^T. Checked:
 *  - the best value is one the objective returned for the tuple reported (a lower bound),
 *    and the search gets close to the supremum; the budgets add up;
 *  - the tie {0, 0, 2}: the objective sees one pointer for x and y, the tied witness has
 *    y = x bitwise, and its value is at most sup over x = y (2 relu(x.c) + 1 <= 1 + 2 c);
 *  - the same stream gives the same bests, bitwise; a bad plan is refused; another
 *    plan.draws is another reproducible set of draws;
 *  - blocks: on pairs in R^{2+3} whose value depends on each block's direction only,
 *    every tuple the objective sees has each block at norm 1/sqrt(2); the angle phase
 *    reaches the mixed-angle supremum (block A antipodal, block B parallel), which a
 *    stratification tying the two angles cannot (-cos t + cos t = 0); the climb from
 *    random tuples gets close to it; bad blocks are refused; one block is no block. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/linalg.h"
#include "gpmc/rng.h"
#include "gpmc/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K 4

typedef struct {
    double c[3][K];  /* the targets, rows of the normals too (the first two) */
    long calls, aliased;
} toy;

static double toy_value(const toy *o, const double *x, const double *y, const double *z)
{
    double a = 0, b = 0, c = 0;
    for (size_t i = 0; i < K; i++) {
        a += x[i] * o->c[0][i];
        b += y[i] * o->c[1][i];
        c += z[i] * o->c[2][i];
    }
    return (a > 0 ? a : 0) + (b > 0 ? b : 0) + c;
}

static int toy_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    toy *o = ctx;
    o->calls++;
    o->aliased += t[1] == t[0];
    for (size_t b = 0; b < nb; b++)
        val[b] = toy_value(o, t[0] + b * K, t[1] + b * K, t[2] + b * K);
    return GPMC_OK;
}

/* d = sum_c rows[c] rows[c]^T, K x K: the toys' aim matrices. */
static void gram_of_rows(const double (*rows)[K], size_t count, double *d)
{
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            d[i * K + j] = 0;
            for (size_t c = 0; c < count; c++)
                d[i * K + j] += rows[c][i] * rows[c][j];
        }
}

static int toy_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    const toy *o = ctx;
    (void)slot;
    (void)t;
    gram_of_rows(o->c, 3, d);
    return GPMC_OK;
}

typedef struct {
    toy o;
    gpmc_search *s;
    gpmc_stream st;
    gpmc_search_plan plan;
} fixture;

static const size_t tie_xy[3] = {0, 0, 2};
static const unsigned char gated[3] = {1, 1, 0};

static void open_fixture(fixture *f, size_t search)
{
    memset(f, 0, sizeof *f);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(r);
    gpmc_rng_seek(r, 7, 1, 0, 9);
    for (size_t c = 0; c < 3; c++)
        gpmc_rng_unit_vector(r, f->o.c[c], K);
    gpmc_rng_free(r);
    gpmc_search_objective obj = {.m = 3, .k = K, .batch = 64, .nnormals = 2, .gated = gated,
                                 .ctx = &f->o, .eval = toy_eval, .aim = toy_aim};
    f->s = gpmc_search_alloc(&obj);
    assert_non_null(f->s);
    gpmc_search_set_normals(f->s, &f->o.c[0][0], 2);
    f->st = (gpmc_stream){.r = gpmc_rng_alloc(), .seed = 3, .point_key = 5, .trial = 0};
    assert_non_null(f->st.r);
    f->plan = (gpmc_search_plan){.random = 100, .angles = 40, .angle_a = 0, .angle_b = 1,
                                 .search = search, .tie = tie_xy, .substream = 1};
}

static void close_fixture(fixture *f)
{
    gpmc_search_free(f->s);
    gpmc_rng_free(f->st.r);
}

static void test_close_to_sup(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 3000);
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    const double *t, *td;
    double best = gpmc_search_best(f.s, 0, &t), bt = gpmc_search_best(f.s, 1, &td);
    assert_true(best == toy_value(&f.o, t, t + K, t + 2 * K)); /* attained, not estimated */
    assert_true(best > 2.9 && best <= 3 + 1e-12);
    assert_int_equal(gpmc_search_evaluated(f.s), 100 + 40 + 3000);
    /* tied: y = x exactly, and no better than the tied supremum 1 + 2 cos(angle c0 c1 / 2)
     * (the x = y maximum of relu(x.c0) + relu(x.c1) is |c0 + c1| when c0.c1 > 0). */
    assert_memory_equal(td, td + K, K * sizeof(double));
    double cc = 0;
    for (size_t i = 0; i < K; i++)
        cc += (f.o.c[0][i] + f.o.c[1][i]) * (f.o.c[0][i] + f.o.c[1][i]);
    double bound = 1 + fmax(sqrt(cc), 1);
    assert_true(bt == toy_value(&f.o, td, td + K, td + 2 * K));
    assert_true(bt <= bound + 1e-12 && bt > bound - 0.1);
    assert_true(f.o.aliased > 0 && f.o.aliased < f.o.calls);
    close_fixture(&f);
}

static void test_reproducible_and_plan(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 500);
    double v[2][2], tup[2][3 * K];
    for (int rep = 0; rep < 2; rep++) {
        gpmc_rng_seek(f.st.r, 3, 5, 0, 0);
        assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
        const double *t;
        v[rep][1] = gpmc_search_best(f.s, 1, NULL);
        v[rep][0] = gpmc_search_best(f.s, 0, &t);
        memcpy(tup[rep], t, sizeof tup[rep]);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]);
    assert_memory_equal(tup[0], tup[1], sizeof tup[0]);
    static const size_t bad_tie[3] = {0, 2, 2}; /* points forwards */
    f.plan.tie = bad_tie;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    static const size_t z_is_y[3] = {0, 1, 1}; /* an ungated vector may copy a gated one */
    f.plan.tie = z_is_y;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    f.plan.tie = NULL;
    f.plan.smooth_starts = 1, f.plan.smooth_steps = 10; /* no smooth callback: refused */
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    f.plan.smooth_starts = 0;
    f.plan.angle_b = 0; /* the stratified angle needs two vectors */
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    close_fixture(&f);
}

/* One run of f's plan from the start of its stream: the best tuple and the tied best. */
static void run_best(fixture *f, double *tup, double *tied)
{
    gpmc_rng_seek(f->st.r, 3, 5, 0, 0);
    assert_int_equal(gpmc_search_run(f->s, &f->st, &f->plan), GPMC_OK);
    const double *t;
    *tied = gpmc_search_best(f->s, 1, NULL);
    gpmc_search_best(f->s, 0, &t);
    memcpy(tup, t, 3 * K * sizeof(double));
}

/* plan.draws (the experiments' search_seed): another value is another, reproducible set
 * of draws, apart from every substream below the stride: with draws mapped to s0 + draws
 * (a plausible wrong variant), (s0 = 1, draws = 1) would be (s0 = 2, draws = 0) bitwise. */
static void test_draws(void **state)
{
    (void)state;
    fixture f;
    open_fixture(&f, 500);
    double t0[3 * K], t1[3 * K], t1b[3 * K], t2[3 * K], d0, d1, d1b, d2;
    run_best(&f, t0, &d0);
    f.plan.draws = 1;
    run_best(&f, t1, &d1);
    run_best(&f, t1b, &d1b);
    assert_memory_equal(t1, t1b, sizeof t1); /* reproducible */
    assert_true(d1 == d1b);
    assert_memory_not_equal(t0, t1, sizeof t0); /* independent of draws 0 */
    f.plan.draws = 0, f.plan.substream = 2;
    run_best(&f, t2, &d2);
    assert_memory_not_equal(t1, t2, sizeof t1);
    /* both still climb towards the supremum 3 */
    assert_true(toy_value(&f.o, t0, t0 + K, t0 + 2 * K) > 2.5);
    assert_true(toy_value(&f.o, t1, t1 + K, t1 + 2 * K) > 2.5);
    f.plan.substream = 1, f.plan.draws = GPMC_SEARCH_DRAWS_MAX;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    f.plan.draws = GPMC_SEARCH_DRAWS_MAX + 1;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    f.plan.draws = 0, f.plan.substream = GPMC_SEARCH_DRAWS_STRIDE - 4; /* s0 + 4 = stride */
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_EINVAL);
    f.plan.substream = GPMC_SEARCH_DRAWS_STRIDE - 5;
    assert_int_equal(gpmc_search_run(f.s, &f.st, &f.plan), GPMC_OK);
    close_fixture(&f);
}

/* Blocks A = coordinates 0-1 and B = 2-4 of pairs (x, y): f = -cos(x_A, y_A) +
 * cos(x_B, y_B), sup 2 at theta_A = pi, theta_B = 0. */
#define KB 5
static const size_t blocks_ab[2] = {2, 3};

typedef struct {
    double worst_norm; /* largest | |block| - 1/sqrt 2 | seen */
} block_toy;

static double block_cos(const double *a, const double *b, size_t len)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < len; i++)
        ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return ab / sqrt(aa * bb);
}

static int block_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    block_toy *o = ctx;
    for (size_t b = 0; b < nb; b++) {
        const double *x = t[0] + b * KB, *y = t[1] + b * KB;
        for (size_t v = 0; v < 2; v++)
            for (size_t blk = 0, off = 0; blk < 2; off += blocks_ab[blk++]) {
                const double *z = (v ? y : x) + off;
                double nz = sqrt(gpmc_dot(z, z, blocks_ab[blk]));
                o->worst_norm = fmax(o->worst_norm, fabs(nz - sqrt(0.5)));
            }
        val[b] = -block_cos(x, y, 2) + block_cos(x + 2, y + 2, 3);
    }
    return GPMC_OK;
}

/* One run of `plan` on `obj` (stream seed 3, point key `key`): the best value, the count
 * evaluated and the run's status. */
static int run_plan(const gpmc_search_objective *obj, const gpmc_search_plan *plan,
                    uint64_t key, double *best, size_t *evaluated)
{
    gpmc_search *s = gpmc_search_alloc(obj);
    assert_non_null(s);
    gpmc_stream st = {.r = gpmc_rng_alloc(), .seed = 3, .point_key = key, .trial = 0};
    assert_non_null(st.r);
    gpmc_rng_seek(st.r, 3, key, 0, 0);
    int rc = gpmc_search_run(s, &st, plan);
    *best = gpmc_search_best(s, 0, NULL);
    *evaluated = gpmc_search_evaluated(s);
    gpmc_search_free(s);
    gpmc_rng_free(st.r);
    return rc;
}

static double block_run(size_t nblocks, const size_t *block, size_t random, size_t angles,
                        size_t search, block_toy *o)
{
    memset(o, 0, sizeof *o);
    gpmc_search_objective obj = {.m = 2, .k = KB, .batch = 64, .ctx = o, .eval = block_eval,
                                 .nblocks = nblocks, .block = block};
    gpmc_search_plan plan = {.random = random, .angles = angles, .angle_a = 0, .angle_b = 1,
                             .search = search, .substream = 1};
    double best;
    size_t ev;
    assert_int_equal(run_plan(&obj, &plan, 5, &best, &ev), GPMC_OK);
    return best;
}

static void test_blocks(void **state)
{
    (void)state;
    block_toy o;
    /* The angle grid alone (G = 6 per block): point (pi, 0) is on it, value 2. */
    double grid = block_run(2, blocks_ab, 0, 36, 0, &o);
    assert_true(grid > 2 - 1e-12 && grid <= 2 + 1e-12);
    assert_true(o.worst_norm < 1e-15 * 8);
    /* The wrong variant, one angle for the whole vector, does not reach it. */
    double tied = block_run(0, NULL, 0, 36, 0, &o);
    print_message("blocks: one stratified angle %.4f\n", tied);
    assert_true(tied < 2 - 1e-3);
    /* Random tuples, then the climb (per-block steps and the moves keeping one block's
     * angle): 0.99 of the supremum; every tuple seen has its blocks at 1/sqrt 2. */
    double climbed = block_run(2, blocks_ab, 100, 0, 2000, &o);
    print_message("blocks: grid %.15f climbed %.6f worst block norm error %.2e\n", grid,
                  climbed, o.worst_norm);
    assert_true(climbed > 1.98 && climbed <= 2 + 1e-12);
    assert_true(o.worst_norm < 1e-15 * 8);
    /* Bad blocks are refused; one block of k is the same search as none, bitwise. */
    static const size_t short_sum[2] = {2, 2}, zero[2] = {0, 5}, whole[1] = {KB};
    gpmc_search_objective bad = {.m = 2, .k = KB, .batch = 8, .eval = block_eval,
                                 .nblocks = 2, .block = short_sum};
    assert_null(gpmc_search_alloc(&bad));
    bad.block = zero;
    assert_null(gpmc_search_alloc(&bad));
    bad.block = NULL;
    assert_null(gpmc_search_alloc(&bad));
    bad.block = blocks_ab, bad.nblocks = GPMC_SEARCH_MAX_BLOCKS + 1;
    assert_null(gpmc_search_alloc(&bad));
    double none = block_run(0, NULL, 100, 20, 500, &o), one = block_run(1, whole, 100, 20, 500, &o);
    assert_memory_equal(&none, &one, sizeof none);
}

/* The block-tied stages: f = 1 + (1 - cos(x_B, y_B)) / 2 where block A of x and y are
 * bitwise equal, else (1 - cos(x_B, y_B)) / 4: sup 2, only on the tie x_A = y_A, which no
 * uniform draw, angle-free plan or free climb ever produces (the wrong variant: no
 * stage, at most 0.5). Counts the tuples evaluated on that tie. */
typedef struct {
    size_t on_tie, calls;
} tie_toy;

static int tie_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    tie_toy *o = ctx;
    for (size_t b = 0; b < nb; b++) {
        const double *x = t[0] + b * KB, *y = t[1] + b * KB;
        double g = (1 - block_cos(x + 2, y + 2, 3)) / 2;
        int tied = memcmp(x, y, 2 * sizeof *x) == 0;
        o->on_tie += (size_t)tied;
        val[b] = tied ? 1 + g : g / 2;
    }
    o->calls += nb;
    return GPMC_OK;
}

static int tie_run(size_t block_tied, const size_t *tie, size_t nblocks, tie_toy *o,
                   double *best, size_t *evaluated)
{
    memset(o, 0, sizeof *o);
    gpmc_search_objective obj = {.m = 2, .k = KB, .batch = 64, .ctx = o, .eval = tie_eval,
                                 .nblocks = nblocks, .block = blocks_ab};
    gpmc_search_plan plan = {.random = 100, .angles = 0, .angle_a = 0, .angle_b = 1,
                             .search = 4000, .tie = tie, .block_tied = block_tied,
                             .substream = 1};
    return run_plan(&obj, &plan, 7, best, evaluated);
}

static void test_block_tied(void **state)
{
    (void)state;
    tie_toy o;
    double best;
    size_t ev;
    assert_int_equal(tie_run(0, NULL, 2, &o, &best, &ev), GPMC_OK);
    print_message("block tie: without the stage %.6f (%zu tuples on the tie)\n", best, o.on_tie);
    assert_true(best <= 0.5 + 1e-15 && o.on_tie == 0);
    assert_int_equal(tie_run(500, NULL, 2, &o, &best, &ev), GPMC_OK);
    print_message("block tie: with 500 per block %.6f (%zu tuples on the tie)\n", best, o.on_tie);
    assert_true(best > 1.99 && best <= 2 + 1e-12);
    /* every tuple of block A's stage is on the tie; the budget is unchanged */
    assert_true(o.on_tie >= 500);
    assert_int_equal(ev, 100 + 4000);
    assert_int_equal(o.calls, ev);
    /* refused: no blocks, a tie as well, more than search / blocks */
    static const size_t tie_xy[2] = {0, 0};
    assert_int_equal(tie_run(500, NULL, 0, &o, &best, &ev), GPMC_EINVAL);
    assert_int_equal(tie_run(500, tie_xy, 2, &o, &best, &ev), GPMC_EINVAL);
    assert_int_equal(tie_run(2001, NULL, 2, &o, &best, &ev), GPMC_EINVAL);
}

/* Successive halving (gpmc_search_plan.halve_every): two peaks, f(x) = max(x.e0, 0.9 x.e1)
 * on the unit sphere of R^4 (sup 1 at e0, a local max 0.9 at e1). 8 random starts (the
 * pool of a 128 batch) fall in both basins; halving at each fifth of the budget leaves the
 * last generations to the best parent, so no child of the last batch is nearer e1; the
 * wrong variant, every parent to the end, keeps the parents of the lower peak. */
typedef struct {
    size_t calls, last_nb, last_near_b;
} peaks_toy;

static int peaks_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    peaks_toy *o = ctx;
    o->calls += nb;
    o->last_nb = nb;
    o->last_near_b = 0;
    for (size_t b = 0; b < nb; b++) {
        const double *x = t[0] + b * K;
        val[b] = fmax(x[0], 0.9 * x[1]);
        o->last_near_b += x[1] > x[0];
    }
    return GPMC_OK;
}

static int peaks_run(double halve, peaks_toy *o, double *best, size_t *evaluated)
{
    memset(o, 0, sizeof *o);
    gpmc_search_objective obj = {.m = 1, .k = K, .batch = 128, .ctx = o, .eval = peaks_eval};
    gpmc_search_plan plan = {.random = 8, .search = 3000, .substream = 1,
                             .halve_every = halve};
    return run_plan(&obj, &plan, 11, best, evaluated);
}

static void test_halve(void **state)
{
    (void)state;
    peaks_toy o;
    double best, plain_best;
    size_t ev;
    assert_int_equal(peaks_run(0.2, &o, &best, &ev), GPMC_OK);
    size_t halved_near_b = o.last_near_b, nb = o.last_nb;
    assert_int_equal(ev, 8 + 3000);
    assert_int_equal(o.calls, ev);
    assert_int_equal(nb, 3000 % 128);
    assert_int_equal(peaks_run(0, &o, &plain_best, &ev), GPMC_OK);
    print_message("halve: last batch nearer the lower peak %zu / %zu halved, %zu / %zu not; "
                  "best %.6f, %.6f\n", halved_near_b, nb, o.last_near_b, o.last_nb, best,
                  plain_best);
    assert_int_equal(halved_near_b, 0);
    assert_true(o.last_near_b > 0);
    assert_true(best > 0.999 && best <= 1);
    /* halve_every outside [0, 1) is refused. */
    const double bad[] = {1, -0.1, NAN};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(peaks_run(bad[i], &o, &best, &ev), GPMC_EINVAL);
}

/* Flip growth (gpmc_search_plan.flip_growth): one vector in R^4, NF random hyperplanes
 * through 0, f(x) = the number on whose positive side x lies, aimed with D = sum nu nu^T
 * (positive definite, so flips go into the positive sides). A 16-tuple batch gives the one
 * random start 16 children, the flip children at 3, 7, 11, 15. A single flip moves the
 * start along one normal (then normalises): the child is in span(start, nu_i) for some i,
 * and on the positive side of that nu_i. With growth 3 the children make 1, 3, 9, 27 flips
 * in turn, so the later ones leave every such plane: the wrong variant that ignores the
 * growth (one flip each) is rejected. */
#define NF 32
static double dot4(const double *a, const double *b)
{
    double c = 0;
    for (size_t i = 0; i < K; i++)
        c += a[i] * b[i];
    return c;
}
typedef struct {
    double nu[NF][K];
    double start[K], kids[16][K];
    size_t calls;
} flips_toy;

static size_t positive_sides(const flips_toy *o, const double *x)
{
    size_t c = 0;
    for (size_t i = 0; i < NF; i++)
        c += dot4(o->nu[i], x) > 0;
    return c;
}

static int flips_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    flips_toy *o = ctx;
    for (size_t b = 0; b < nb; b++) {
        const double *x = t[0] + b * K;
        val[b] = (double)positive_sides(o, x);
        if (o->calls == 0)
            memcpy(o->start, x, sizeof o->start);
        else if (o->calls == 1 && b < 16)
            memcpy(o->kids[b], x, sizeof o->kids[b]);
    }
    o->calls++;
    return GPMC_OK;
}

static int flips_aim(void *ctx, size_t slot, const double *const *t, double *d)
{
    const flips_toy *o = ctx;
    (void)slot;
    (void)t;
    gram_of_rows(o->nu, NF, d);
    return GPMC_OK;
}

/* The i with child b of the run in span(start, nu_i) (residual below 1e-12), on nu_i's
 * positive side; NF if there is none. */
static size_t one_flip_normal(const flips_toy *o, size_t b)
{
    const double *x = o->start, *c = o->kids[b];
    for (size_t i = 0; i < NF; i++) {
        /* u: nu_i made orthogonal to the unit start; the residual of c off span(x, u) */
        double u[K], cx = dot4(c, x), nx = dot4(o->nu[i], x), uu, cu, res = 0;
        for (size_t j = 0; j < K; j++)
            u[j] = o->nu[i][j] - nx * x[j];
        uu = dot4(u, u);
        cu = dot4(c, u) / uu;
        for (size_t j = 0; j < K; j++) {
            double e = c[j] - cx * x[j] - cu * u[j];
            res += e * e;
        }
        if (sqrt(res) < 1e-12 && dot4(o->nu[i], c) > 0)
            return i;
    }
    return NF;
}

static int flips_run(size_t growth, flips_toy *o)
{
    memset(o, 0, sizeof *o);
    gsl_rng *r = gpmc_rng_alloc();
    assert_non_null(r);
    gpmc_rng_seek(r, 7, 2, 0, 9);
    for (size_t i = 0; i < NF; i++)
        gpmc_rng_unit_vector(r, o->nu[i], K);
    gpmc_rng_free(r);
    gpmc_search_objective obj = {.m = 1, .k = K, .batch = 16, .nnormals = NF, .ctx = o,
                                 .eval = flips_eval, .aim = flips_aim};
    gpmc_search *s = gpmc_search_alloc(&obj);
    assert_non_null(s);
    gpmc_search_set_normals(s, &o->nu[0][0], NF);
    gpmc_stream st = {.r = gpmc_rng_alloc(), .seed = 3, .point_key = 13, .trial = 0};
    assert_non_null(st.r);
    gpmc_rng_seek(st.r, 3, 13, 0, 0);
    gpmc_search_plan plan = {.random = 1, .search = 16, .substream = 1, .flip_growth = growth};
    int rc = gpmc_search_run(s, &st, &plan);
    gpmc_search_free(s);
    gpmc_rng_free(st.r);
    return rc;
}

static void test_flip_growth(void **state)
{
    (void)state;
    flips_toy o;
    assert_int_equal(flips_run(0, &o), GPMC_OK);
    assert_int_equal(o.calls, 2);
    double start[K];
    memcpy(start, o.start, sizeof start);
    print_message("flips: single flips along normals");
    for (size_t b = 3; b < 16; b += 4) {
        print_message(" %zu", one_flip_normal(&o, b));
        assert_true(one_flip_normal(&o, b) < NF);
    }
    assert_true(one_flip_normal(&o, 0) == NF); /* a random step is on no such plane */
    assert_int_equal(flips_run(3, &o), GPMC_OK);
    assert_memory_equal(start, o.start, sizeof start); /* the same start */
    size_t along[4];
    for (size_t i = 0; i < 4; i++)
        along[i] = one_flip_normal(&o, 3 + 4 * i);
    print_message("; growth 3: %zu %zu %zu %zu (%d: none); sides %zu -> %zu\n", along[0],
                  along[1], along[2], along[3], NF, positive_sides(&o, start),
                  positive_sides(&o, o.kids[15]));
    assert_true(along[0] < NF);
    assert_true(along[2] == NF && along[3] == NF);
    /* growth above the cap is refused */
    assert_int_equal(flips_run(GPMC_SEARCH_FLIP_GROWTH_MAX + 1, &o), GPMC_EINVAL);
}

/* The annealed ascents on a toy whose smooth surrogate x.y pulls every pair onto y = x
 * (the tie), with exact value 1 - x.y: the whole budget is the ascents' (4 of 100 steps
 * and one exact evaluation each), so the best value is an ascent's end point. Without
 * smooth_untie they end on y = x (value ~0); with it at step 50, when they are there
 * (the first 50 steps sum to ~2.2 rad), y is reflected, and the remaining steps (~0.3 rad
 * in all) cannot bring it back: value 1 + cos(0.3) > 1.9. */
static int pull_eval(void *ctx, const double *const *t, size_t nb, double *val)
{
    (void)ctx;
    for (size_t b = 0; b < nb; b++)
        val[b] = 1 - dot4(t[0] + b * K, t[1] + b * K);
    return GPMC_OK;
}

static int pull_smooth(void *ctx, const double *const *t, size_t nb, double tau, double *val,
                       double *const *grad)
{
    (void)ctx, (void)tau;
    for (size_t b = 0; b < nb; b++) {
        val[b] = dot4(t[0] + b * K, t[1] + b * K);
        memcpy(grad[0] + b * K, t[1] + b * K, K * sizeof(double));
        memcpy(grad[1] + b * K, t[0] + b * K, K * sizeof(double));
    }
    return GPMC_OK;
}

static double pull_run(size_t untie, int *rc)
{
    gpmc_search_objective obj = {.m = 2, .k = K, .batch = 8, .eval = pull_eval,
                                 .smooth = pull_smooth};
    gpmc_search_plan plan = {.angle_a = 0, .angle_b = 1, .search = 4 * 101, .substream = 1,
                             .smooth_starts = 4, .smooth_steps = 100, .smooth_untie = untie};
    double best;
    size_t ev;
    *rc = run_plan(&obj, &plan, 9, &best, &ev);
    assert_true(*rc != GPMC_OK || ev == 4 * 101);
    return best;
}

static void test_smooth_untie(void **state)
{
    (void)state;
    int rc;
    assert_true(pull_run(0, &rc) < 0.01);
    assert_int_equal(rc, GPMC_OK);
    assert_true(pull_run(50, &rc) > 1.9);
    assert_int_equal(rc, GPMC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_to_sup),
        cmocka_unit_test(test_reproducible_and_plan),
        cmocka_unit_test(test_draws),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_block_tied),
        cmocka_unit_test(test_halve),
        cmocka_unit_test(test_flip_growth),
        cmocka_unit_test(test_smooth_untie),
    };
    return cmocka_run_group_tests_name("search", tests, NULL, NULL);
}
