/* The HDF5 file (format_version 1, README "Output"). Rank 0 writes the whole file to
 * FILE.tmp and renames it over FILE, so the file on disk is always complete: every
 * checkpoint is a valid result file and `gpmc resume` reads it. */
#ifndef GPMC_H5IO_H
#define GPMC_H5IO_H

#include "gpmc/results.h"

#define GPMC_FORMAT_VERSION 1

typedef struct {
    const char *command_line;
    const char *created;   /* UTC ISO 8601 of the first start */
    int nranks;
    int complete;          /* every task of the shard is done */
} gpmc_h5_meta;

/* What a write could not do without failing: statistics left NaN (each group with such a
 * NaN has an attribute `error`). The trials are always written in full. */
typedef struct {
    size_t summary_failures;
    char summary_error[512]; /* the first failure */
} gpmc_h5_report;

/* Write `res` to path (via path.tmp and a rename). report may be NULL. */
int gpmc_h5_write(const char *path, const gpmc_results *res, const gpmc_h5_meta *meta,
                  gpmc_h5_report *report);

/* About how many bytes gpmc_h5_write puts on disk for this plan ("needs about X MB",
 * the memory estimate). */
double gpmc_h5_estimate_plan_bytes(const gpmc_plan *plan);

/* What a file says about how it was made: enough to rebuild its spec and plan. */
typedef struct {
    char *spec_path, *spec_text, *created, *command_line;
    char **overrides;
    size_t noverrides;
    unsigned shard_i, shard_n;
    uint64_t seed;
    long trials;
    char *experiment, *gpmc_version;
    char *blas_kernel; /* /code openblas_corename, NULL if the file does not say */
    char *git_commit;  /* root git_commit of the build that wrote it, NULL if absent */
} gpmc_h5_origin;

int gpmc_h5_read_origin(const char *path, gpmc_h5_origin *origin);
void gpmc_h5_origin_free(gpmc_h5_origin *origin);
/* Load the stored trials of `path` into res (built from the same spec and plan). */
int gpmc_h5_read_results(const char *path, gpmc_results *res);

#endif
