/* Closed forms of the theory (MATH.md): Q_{x,y}, M_{x^<->y^}, g(theta), h_{x,x0},
 * rho_d and the truncated-Gaussian alpha. Matrices are k x k, row-major. */
#ifndef GPMC_THEORY_H
#define GPMC_THEORY_H

#include <stddef.h>

/* The angle between x and y in [0, pi], computed stably (atan2 of |x^ y^ wedge| and
 * <x^, y^>), so near-parallel and near-antipodal pairs keep their accuracy.
 * A zero vector has no direction: the angle is NaN, and M and Q are filled with NaN. */
double gpmc_angle(const double *x, const double *y, size_t k);

/* M_{x^<->y^}: x^ -> y^, y^ -> x^, span{x,y}^perp -> 0. out is k x k. */
void gpmc_theory_M(const double *x, const double *y, size_t k, double *out);

/* Q_{x,y} = (pi - theta)/(2 pi) I + sin(theta)/(2 pi) M_{x^<->y^}; out is k x k.
 * `scale` multiplies the result (alpha in the WDC), so out = scale * Q. */
void gpmc_theory_Q(const double *x, const double *y, size_t k, double scale, double *out);

/* g(theta) = arccos(((pi - theta) cos theta + sin theta) / pi). */
double gpmc_theory_g(double theta);

/* rho_d (Hand-Voroninski): h_{x,x0} vanishes at -rho_d x0. */
double gpmc_theory_rho(int d);

/* h_{x,x0} for a d-layer network (MATH.md "Closed forms of the landscape"). out has k. */
void gpmc_theory_h(const double *x, const double *x0, size_t k, int d, double *out);

/* alpha of truncated Gaussian rows in R^k: P(chi^2_{k+2} <= 9k). */
double gpmc_theory_alpha_truncated(size_t k);

#endif
