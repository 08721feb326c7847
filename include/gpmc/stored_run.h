/* A result file opened with everything needed to extend or summarise it: the origin
 * recorded in the file, the spec rebuilt from the stored text, its plan and trials. */
#ifndef GPMC_STORED_RUN_H
#define GPMC_STORED_RUN_H

#include "gpmc/h5io.h"

typedef struct {
    gpmc_h5_origin origin;
    gpmc_spec spec;
    gpmc_plan plan;
    gpmc_results res;
    int have_spec, have_plan, have_res;
    size_t journaled; /* trials replayed from FILE.journal (not yet in the HDF5 file) */
} gpmc_stored_run;

/* Rebuild spec and plan from `path`; with load_trials, also read its trials. */
int gpmc_stored_run_open(gpmc_stored_run *run, const char *path, int load_trials);
/* The two halves of open: spec and plan only (cheap: the memory estimate comes between),
 * then the results store, with the trials read when load_trials. */
int gpmc_stored_run_plan(gpmc_stored_run *run, const char *path);
int gpmc_stored_run_load(gpmc_stored_run *run, const char *path, int load_trials);
void gpmc_stored_run_close(gpmc_stored_run *run);

#endif
