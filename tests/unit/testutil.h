/* Shared helpers of the cmocka unit tests. Include after <cmocka.h>. */
#ifndef GPMC_TESTUTIL_H
#define GPMC_TESTUTIL_H

#include <math.h>
#include <stddef.h>

/* |a - b| <= tol, printing both expressions and values on failure. */
#define assert_close(a, b, tol)                                                            \
    do {                                                                                   \
        double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                        \
            fail_msg("%s = %.17g vs %s = %.17g: |diff| %.3g > tol %.3g", #a, a_, #b, b_,   \
                     fabs(a_ - b_), t_);                                                   \
    } while (0)

/* Plain-loop dot product and norm: independent of the BLAS under test. */
static inline double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline double norm(const double *a, size_t n) { return sqrt(dot(a, a, n)); }

#endif
