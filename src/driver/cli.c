/* gpmc list / info and the helpers every command shares. */
#include "gpmc/cli.h"
#include "gpmc/error.h"
#include "gpmc/stats.h"
#include "gpmc/stored_run.h"
#include "gpmc/summary.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char command_line[8192];

void gpmc_cli_set_command_line(int argc, char **argv)
{
    command_line[0] = '\0';
    for (int i = 0; i < argc; i++) {
        size_t used = strlen(command_line);
        snprintf(command_line + used, sizeof command_line - used, "%s%s", i ? " " : "", argv[i]);
    }
}

const char *gpmc_cli_command_line(void) { return command_line; }

const char *gpmc_cli_launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return v;
    }
    return NULL;
}

int gpmc_cli_rank(void)
{
    int rank = 0, init = 0;
    MPI_Initialized(&init);
    if (init) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return rank;
    }
    const char *r = gpmc_cli_launcher_rank();
    return r && strcmp(r, "0") != 0 ? 1 : 0; /* only whether it is rank 0 matters here */
}

int gpmc_cli_fail(int code)
{
    if (gpmc_cli_rank() == 0)
        fprintf(stderr, "gpmc: error: %s\n", gpmc_error_message());
    return code;
}

static const char *type_name(gpmc_param_type t)
{
    switch (t) {
    case GPMC_PARAM_INT: return "int";
    case GPMC_PARAM_REAL: return "real";
    case GPMC_PARAM_BOOL: return "bool";
    case GPMC_PARAM_CHOICE: return "choice";
    case GPMC_PARAM_REAL_LIST: return "real list";
    case GPMC_PARAM_INT_LIST: return "int list";
    }
    return "?";
}

static void print_experiment(const gpmc_experiment *exp)
{
    printf("%s — %s\n  parameters:\n", exp->name, exp->summary);
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        char range[96] = "";
        if (d->type == GPMC_PARAM_CHOICE)
            snprintf(range, sizeof range, " {%s}", d->choices);
        else if (d->type != GPMC_PARAM_BOOL)
            snprintf(range, sizeof range, " [%g, %g]", d->min, d->max);
        printf("    %-16s %-9s %s%s%s%s%s\n      %s\n", d->name, type_name(d->type),
               d->def ? "default " : "required", d->def ? d->def : "", range,
               (d->flags & GPMC_PARAM_NOHASH) ? " (not in the stream key: same matrices)" : "", "",
               d->doc);
    }
    printf("  outputs:\n");
    for (size_t f = 0; f < exp->nfields; f++) {
        const gpmc_field_def *fd = &exp->fields[f];
        char where[128];
        if (fd->shape)
            snprintf(where, sizeof where, "/points/<p>/%s (T,%s)%s%s", fd->name, fd->shape,
                     fd->when ? " if " : "", fd->when ? fd->when : "");
        else
            snprintf(where, sizeof where, "/%s/%s (P,T)",
                     (fd->flags & GPMC_FIELD_TIMING) ? "timing" : "trials", fd->name);
        printf("    %-40s %s%s%s%s\n", where, fd->doc, fd->units ? " [" : "",
               fd->units ? fd->units : "", fd->units ? "]" : "");
    }
    printf("\n");
}

int gpmc_cmd_list(int argc, char **argv)
{
    (void)argv;
    if (gpmc_cli_rank() != 0)
        return GPMC_EXIT_OK;
    if (argc > 1) {
        printf("usage: gpmc list\n\nThe experiments, their parameters (spec keys) and outputs.\n");
        return GPMC_EXIT_OK;
    }
    /* The science first; the tools for testing gpmc itself after, under their heading. */
    for (int diag = 0; diag <= 1; diag++) {
        int heading = 0;
        for (size_t e = 0; gpmc_experiments[e]; e++) {
            if (gpmc_experiments[e]->diagnostic != diag)
                continue;
            if (diag && !heading++)
                printf("diagnostics (for testing gpmc itself, not the theory):\n\n");
            print_experiment(gpmc_experiments[e]);
        }
    }
    return GPMC_EXIT_OK;
}

/* The scalar, non-timing, non-0/1 fields worth a column: the first few. */
static size_t info_fields(const gpmc_experiment *exp, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t f = 0; f < exp->nfields && n < max; f++)
        if (!exp->fields[f].shape && !(exp->fields[f].flags & GPMC_FIELD_TIMING) &&
            !gpmc_summary_is_success(exp, f)) /* those get a rate column each */
            idx[n++] = f;
    return n;
}

/* "rate [lo, hi]"; n/a where no trial has a value, and an interval that could not be
 * computed is said so rather than shown as a number. */
static void print_rate(size_t k, size_t n)
{
    char cell[64];
    double lo, hi;
    if (n == 0)
        snprintf(cell, sizeof cell, "n/a (no trials)");
    else if (gpmc_summary_interval(k, n, &lo, &hi))
        snprintf(cell, sizeof cell, "%.2f [interval n/a]", (double)k / (double)n);
    else
        snprintf(cell, sizeof cell, "%.2f [%.2f, %.2f]", (double)k / (double)n, lo, hi);
    printf(" | %-22s", cell);
}

int gpmc_cmd_info(int argc, char **argv)
{
    if (gpmc_cli_rank() != 0)
        return GPMC_EXIT_OK;
    if (argc != 2 || argv[1][0] == '-') {
        printf("usage: gpmc info FILE\n\nSummary table of a result file, recomputed from its "
               "stored trials.\n");
        return argc == 2 ? GPMC_EXIT_OK : GPMC_EXIT_USAGE;
    }
    gpmc_stored_run run;
    if (gpmc_stored_run_open(&run, argv[1], 1)) {
        gpmc_stored_run_close(&run);
        return gpmc_cli_fail(GPMC_EXIT_USAGE);
    }
    const gpmc_plan *plan = &run.plan;
    const gpmc_experiment *exp = plan->exp;
    const gpmc_spec *spec = &run.spec;
    size_t todo = gpmc_results_todo(&run.res);
    printf("%s: experiment %s, seed %llu, %zu points x %zu trials, %zu done%s, shard %u/%u\n",
           argv[1], exp->name, (unsigned long long)spec->seed, plan->P, plan->T, run.res.ndone,
           todo ? " (incomplete: gpmc resume)" : "", plan->shard_i, plan->shard_n);
    if (run.journaled)
        printf("(%zu of these trials are in %s.journal, not yet in the HDF5 file that h5py "
               "reads: gpmc resume folds them in)\n", run.journaled, argv[1]);
    size_t fidx[3];
    size_t nf = info_fields(exp, fidx, 3);
    size_t thr_field = exp->nfields;
    for (size_t f = 0; f < exp->nfields; f++)
        if (exp->fields[f].threshold && !exp->fields[f].shape) {
            thr_field = f;
            break;
        }
    const gpmc_value *thr = thr_field < exp->nfields
                                ? &spec->fixed[gpmc_param_index(exp, exp->fields[thr_field].threshold)]
                                : NULL;
    size_t nthr = thr ? (thr->len < 3 ? thr->len : 3) : 0;
    /* header */
    for (size_t a = 0; a < spec->naxes; a++)
        printf("%10s ", exp->params[spec->axes[a].param].name);
    printf("%6s", "done");
    for (size_t i = 0; i < nf; i++)
        printf(" | %-24s", exp->fields[fidx[i]].name);
    for (size_t e = 0; e < nthr; e++) {
        char h[64];
        snprintf(h, sizeof h, "P(%s<=%g)", exp->fields[thr_field].name, thr->list[e]);
        printf(" | %-22s", h);
    }
    for (size_t f = 0; f < exp->nfields; f++)
        if (gpmc_summary_is_success(exp, f)) {
            char h[64];
            snprintf(h, sizeof h, "%s [95%% CI]", exp->fields[f].name);
            printf(" | %-22s", h);
        }
    printf("\n");
    for (size_t a = 0; a < spec->naxes; a++)
        printf("%10s ", "");
    printf("%6s", "");
    for (size_t i = 0; i < nf; i++)
        printf(" | %-24s", "median [q05, q95]");
    for (size_t e = 0; e < nthr; e++)
        printf(" | %-22s", "rate [95% CI]");
    printf("\n");
    double *scratch = malloc((plan->T + 1) * sizeof *scratch);
    gpmc_value *v = calloc(exp->nparams + 1, sizeof *v);
    for (size_t p = 0; p < plan->P && scratch && v; p++) {
        gpmc_spec_point_values(spec, p, v);
        for (size_t a = 0; a < spec->naxes; a++) {
            char text[64];
            gpmc_value_format(&exp->params[spec->axes[a].param], &v[spec->axes[a].param], text,
                              sizeof text);
            printf("%10s ", text);
        }
        size_t nd = 0;
        for (size_t t = 0; t < plan->T; t++)
            nd += run.res.done[p * plan->T + t];
        printf("%6zu", nd);
        for (size_t i = 0; i < nf; i++) {
            gpmc_field_stats s;
            gpmc_summary_field(&run.res, p, fidx[i], scratch, &s);
            char cell[64];
            snprintf(cell, sizeof cell, "%.4g [%.3g, %.3g]", s.q50, s.q05, s.q95);
            printf(" | %-24s", cell);
        }
        for (size_t e = 0; e < nthr; e++) {
            size_t k, n;
            gpmc_summary_count_le(&run.res, p, thr_field, thr->list[e], &k, &n);
            print_rate(k, n);
        }
        for (size_t f = 0; f < exp->nfields; f++)
            if (gpmc_summary_is_success(exp, f)) {
                size_t k, n;
                gpmc_summary_count_success(&run.res, p, f, &k, &n);
                print_rate(k, n);
            }
        printf("\n");
    }
    /* What each column is: fields of opposite kinds (a lower bound next to an upper
     * bound, rric's eps_hat and eps_span) must not read alike. */
    for (size_t i = 0; i < nf; i++)
        printf("  %s: %s\n", exp->fields[fidx[i]].name, exp->fields[fidx[i]].doc);
    free(scratch);
    free(v);
    gpmc_stored_run_close(&run);
    return GPMC_EXIT_OK;
}
