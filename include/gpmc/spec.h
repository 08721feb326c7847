/* Experiment specs: INI files (parsed with inih) validated against the experiment's
 * parameter table before any compute.
 *
 *   [run]     experiment = wdc      trials = 20      seed = 1
 *   [grid]    k = 5, 10, 20         (list)
 *             n = 100:1000:100      (inclusive linear range start:stop:step)
 *             n = log:10:1000:8     (8 log-spaced values from 10 to 1000; integers are
 *                                    rounded and duplicates dropped)
 *             n/k = log:2:100:8     (ratio axis: n = round(value * k) at every point;
 *                                    ratios that round to one n at some k are refused)
 *   [params]  ensemble = gaussian   (fixed values; anything absent takes its default)
 *
 * Grid points are the Cartesian product of the axes, the first axis in the file
 * varying slowest. Every error names the file, the line and the key. */
#ifndef GPMC_SPEC_H
#define GPMC_SPEC_H

#include "gpmc/experiment.h"

#include <stddef.h>
#include <stdint.h>

#define GPMC_NO_PARAM ((size_t)-1)

typedef struct {
    size_t param;       /* index into exp->params */
    size_t n;
    double *values;     /* as written (for a ratio axis: the ratios) */
    size_t ratio_of;    /* ratio axis: parameter the values multiply; else GPMC_NO_PARAM */
    int line;
} gpmc_axis;

typedef struct {
    char *path;                  /* for messages */
    char *text;                  /* the spec file's full text, stored in every output */
    char **overrides;            /* "key=value" strings applied after the file */
    size_t noverrides;
    const gpmc_experiment *exp;
    long trials;
    uint64_t seed;
    gpmc_value *fixed;           /* [exp->nparams]: defaults, then [params], then overrides */
    gpmc_axis *axes;             /* in file order */
    size_t naxes;
} gpmc_spec;

/* Parse `text` (read from `path`) and apply overrides ("key=value" or
 * "section.key=value"; a bare key goes to the section that already holds it, else to
 * [params]; `trials` and `seed` go to [run]). Validates every grid point.
 * GPMC_OK, or GPMC_EINVAL with a message "path:line: key 'name': what". */
int gpmc_spec_parse(gpmc_spec *spec, const char *path, const char *text,
                    char *const *overrides, size_t noverrides);
/* gpmc_spec_parse() against an explicit NULL-terminated registry (gpmc_spec_parse passes
 * gpmc_experiments); for tests with experiments of their own. */
int gpmc_spec_parse_with(gpmc_spec *spec, const gpmc_experiment *const *registry,
                         const char *path, const char *text, char *const *overrides,
                         size_t noverrides);
/* Read the file, then gpmc_spec_parse(). */
int gpmc_spec_load(gpmc_spec *spec, const char *path, char *const *overrides,
                   size_t noverrides);
void gpmc_spec_free(gpmc_spec *spec);

size_t gpmc_spec_npoints(const gpmc_spec *spec);
/* The values of every parameter at point p, ratio axes resolved. */
void gpmc_spec_point_values(const gpmc_spec *spec, size_t p, gpmc_value *out);
/* Index into spec->axes[axis].values of point p (the first axis varies slowest). */
size_t gpmc_spec_axis_index(const gpmc_spec *spec, size_t axis, size_t p);
/* Stream key of a point: hash of the experiment name and the canonical text of every
 * parameter without GPMC_PARAM_NOHASH. */
uint64_t gpmc_spec_point_key(const gpmc_experiment *exp, const gpmc_value *values);
/* Canonical text of one value ("10", "0.25", "gaussian", "700,600"). */
void gpmc_value_format(const gpmc_param_def *def, const gpmc_value *v, char *buf, size_t len);

#endif
