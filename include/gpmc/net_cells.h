/* The linear pieces of a ReLU network seen from its latent space (MATH.md Notation): near
 * x, unit i of layer l switches where w_{l,i}.G_{l-1}(z) = 0, locally the hyperplane with
 * normal nu_{l,i} = Lambda_{l-1,x}^T w_{l,i} through 0 (G_{l-1}(z) = Lambda_{l-1,x} z on
 * x's piece), and nu_{l,i}.x is the unit's pre-activation. These are the boundaries the
 * shared search (search.h, `cell`) crosses for the conditions on deep networks (rric,
 * r2wdc), where the hyperplanes move with the piece: the WDC's are W's rows.
 * Code: src/numerics/net_cells.c. */
#ifndef GPMC_NET_CELLS_H
#define GPMC_NET_CELLS_H

#include "gpmc/net.h"

#include <stddef.h>

typedef struct gpmc_net_cells gpmc_net_cells;

/* A workspace for `net` (referenced: keep it alive; its weights may change between
 * calls); NULL if out of memory. Layers 1..layers are reported (gpmc_net_cells_set_layers;
 * initially all). */
gpmc_net_cells *gpmc_net_cells_alloc(const gpmc_net *net);
void gpmc_net_cells_free(gpmc_net_cells *c);
/* Bytes gpmc_net_cells_alloc takes for widths width[0..depth]; SIZE_MAX on overflow. */
size_t gpmc_net_cells_bytes(const size_t *width, size_t depth);
/* The boundaries of layers 1..layers (<= depth) only: the units a condition's value
 * depends on (r2wdc's layer j: 1..j). */
void gpmc_net_cells_set_layers(gpmc_net_cells *c, size_t layers);
/* Rows of `stride` >= k doubles, the entries past k zero: for a search over lifted vectors
 * (rric's (x, extra coordinate)), whose first k entries are the latent point. */
void gpmc_net_cells_set_stride(gpmc_net_cells *c, size_t stride);
/* Most normals one call gives for widths width[0..depth]: width[1] + ... + width[depth]. */
size_t gpmc_net_cells_max(const size_t *width, size_t depth);

/* normals (count x stride, row-major; stride k unless set): nu_{l,i} for l = 1..layers, i = 1..width[l], layer by
 * layer, at the latent point x (k); *count their number. The search's `cell` callback
 * (ctx: a gpmc_net_cells). Always GPMC_OK. */
int gpmc_net_cells_normals(void *ctx, const double *x, double *normals, size_t *count);

#endif
