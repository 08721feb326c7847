/* Shared helpers of the cmocka unit tests. Include after <cmocka.h>. */
#ifndef GPMC_TESTUTIL_H
#define GPMC_TESTUTIL_H

#include <math.h>

/* |a - b| <= tol, printing both expressions and values on failure. */
#define assert_close(a, b, tol)                                                            \
    do {                                                                                   \
        double a_ = (a), b_ = (b), t_ = (tol);                                             \
        if (!(fabs(a_ - b_) <= t_))                                                        \
            fail_msg("%s = %.17g vs %s = %.17g: |diff| %.3g > tol %.3g", #a, a_, #b, b_,   \
                     fabs(a_ - b_), t_);                                                   \
    } while (0)

#endif
