#include "gpmc/stored_run.h"
#include "gpmc/error.h"
#include "gpmc/journal.h"

#include <string.h>

int gpmc_stored_run_open(gpmc_stored_run *run, const char *path, int load_trials)
{
    int st = gpmc_stored_run_plan(run, path);
    return st ? st : gpmc_stored_run_load(run, path, load_trials);
}

int gpmc_stored_run_plan(gpmc_stored_run *run, const char *path)
{
    memset(run, 0, sizeof *run);
    int st = gpmc_h5_read_origin(path, &run->origin);
    if (st)
        return st;
    st = gpmc_spec_parse(&run->spec, run->origin.spec_path, run->origin.spec_text,
                         run->origin.overrides, run->origin.noverrides);
    if (st)
        return gpmc_error_wrap(st, path);
    run->have_spec = 1;
    if (run->spec.seed != run->origin.seed || run->spec.trials != run->origin.trials)
        return gpmc_error(GPMC_EINVAL, path, "stored spec does not reproduce the stored seed/trials");
    st = gpmc_plan_init(&run->plan, &run->spec, run->origin.shard_i, run->origin.shard_n);
    if (st)
        return st;
    run->have_plan = 1;
    return GPMC_OK;
}

int gpmc_stored_run_load(gpmc_stored_run *run, const char *path, int load_trials)
{
    int st = gpmc_results_init(&run->res, &run->plan);
    if (st)
        return st;
    run->have_res = 1;
    if (!load_trials)
        return GPMC_OK;
    st = gpmc_h5_read_results(path, &run->res);
    /* The trials appended since the file's last full write. */
    return st ? st : gpmc_journal_replay(path, &run->res, &run->journaled);
}

void gpmc_stored_run_close(gpmc_stored_run *run)
{
    if (run->have_res)
        gpmc_results_free(&run->res);
    if (run->have_plan)
        gpmc_plan_free(&run->plan);
    if (run->have_spec)
        gpmc_spec_free(&run->spec);
    gpmc_h5_origin_free(&run->origin);
    memset(run, 0, sizeof *run);
}
