/* The exact WDC supremum at k = 2 (MATH.md, Conditions 1; the `wdc` experiment's
 * search_mode = exact). Code and derivation: src/numerics/wdc_exact2.c.
 *
 * With x = (cos a, sin a), y = (cos b, sin b) (the deviation is scale-invariant), each
 * mask 1{w_i.x > 0} is constant on the N = 2 n' arcs of the circle cut at phi_i +- pi/2
 * (n' the nonzero rows), so on each of the N^2 arc-pair rectangles the masked Gram is a
 * constant 2 x 2 matrix and the deviation a smooth function of (a, b). A closed form
 * reduces each rectangle to one variable u = a - b; a branch and bound with a derived
 * second-derivative bound maximises it to a relative tolerance. The values REPORTED
 * (res->eps, res->eps_diag) are computed by the library evaluator (gpmc_wdc_eval_pairs)
 * at the reported pairs; the closed form only steers and bounds. */
#ifndef GPMC_WDC_EXACT2_H
#define GPMC_WDC_EXACT2_H

#include "gpmc/wdc_eval.h"

#include <stddef.h>

/* Relative tolerance of the branch and bound (see wdc_exact2.c): the reported eps is
 * within GPMC_WDC_EXACT2_RTOL_TOTAL x sup of the supremum, barring arcs narrower than
 * 1e-10 rad (then eps is still a value attained by its pair, and `upper` still bounds). */
#define GPMC_WDC_EXACT2_RTOL 1e-10
#define GPMC_WDC_EXACT2_RTOL_TOTAL 1e-9

typedef struct gpmc_wdc_exact2 gpmc_wdc_exact2;

typedef struct {
    double eps;        /* evaluator's deviation at (x, y) */
    double upper;      /* certified upper bound on sup_{x,y} (rounding included) */
    double x[2], y[2]; /* unit witness pair */
    double eps_diag;   /* evaluator's deviation at (xd, xd) */
    double upper_diag; /* upper bound on sup_x ||W+x^T W+x - alpha I/2|| */
    double xd[2];
    double best_closed; /* the closed form's maximum (what eps reproduces) */
    size_t arcs;        /* N */
    size_t fevals;      /* closed-form evaluations of the 1-D reduction */
} gpmc_wdc_exact2_result;

/* A workspace for n rows (k = 2); NULL if out of memory. */
gpmc_wdc_exact2 *gpmc_wdc_exact2_alloc(size_t n);
void gpmc_wdc_exact2_free(gpmc_wdc_exact2 *ex);
/* Bytes gpmc_wdc_exact2_alloc(n) takes, SIZE_MAX on overflow. */
size_t gpmc_wdc_exact2_bytes(size_t n);

/* The suprema for W (n x 2, row-major) and alpha; ev must hold the same W and alpha
 * (gpmc_wdc_eval_set_w) and batch >= 1. GPMC_OK or the evaluator's status. */
int gpmc_wdc_exact2_run(gpmc_wdc_exact2 *ex, const double *w, double alpha, gpmc_wdc_eval *ev,
                        gpmc_wdc_exact2_result *res);

/* The closed form on one rectangle, exposed for its test: the spectral norm of
 * [[g00, g01], [g01, g11]] - alpha Q_{x,y} at x = (cos a, sin a), y = (cos b, sin b). */
double gpmc_wdc_exact2_closed(const double g[3], double alpha, double a, double b);

#endif
