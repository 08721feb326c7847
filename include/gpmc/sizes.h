/* Size arithmetic that saturates at SIZE_MAX instead of wrapping, for workspace byte
 * counts: a point whose workspace overflows size_t is refused before any allocation. */
#ifndef GPMC_SIZES_H
#define GPMC_SIZES_H

#include <stddef.h>
#include <stdint.h>

/* a * b, SIZE_MAX on overflow. */
static inline size_t gpmc_size_mul(size_t a, size_t b)
{
    return a != 0 && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

/* a + b, SIZE_MAX on overflow. */
static inline size_t gpmc_size_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

#endif
