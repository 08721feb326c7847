/* gpmc run / resume / merge: everything that executes or combines trials. */
#include "gpmc/cli.h"
#include "gpmc/blas_kernel.h"
#include "gpmc/error.h"
#include "gpmc/journal.h"
#include "gpmc/lock.h"
#include "gpmc/memory.h"
#include "gpmc/progress.h"
#include "gpmc/runner.h"
#include "gpmc/sched.h"
#include "gpmc/stored_run.h"

#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static const char run_help[] =
    "usage: gpmc run SPEC [-o FILE] [--set key=value]... [--trials N] [--seed S]\n"
    "                [--shard i/N] [--checkpoint SECONDS] [--force] [--strict]\n"
    "\n"
    "Run every (grid point, trial) of SPEC and write the HDF5 result FILE\n"
    "(default results/<spec name>.h5). The file is rewritten atomically at every\n"
    "checkpoint (default every 60 s), so after a kill or SIGTERM `gpmc resume FILE`\n"
    "finishes the run with identical results.\n"
    "  --set key=value   override a spec entry (`n=100`, `grid.k=5,10`, `run.seed=3`)\n"
    "  --trials N        trials per grid point (same as --set run.trials=N)\n"
    "  --seed S          master seed (same as --set run.seed=S)\n"
    "  --shard i/N       run only tasks with (point*trials + trial) mod N == i\n"
    "  --force           overwrite an existing FILE\n"
    "  --dry-run         validate SPEC and FILE, print the plan, compute nothing\n"
    "  --strict          exit 1 if a summary statistic could not be computed (by default\n"
    "                    it is stored as NaN with a warning; the trials are always stored)\n";

static const char resume_help[] =
    "usage: gpmc resume FILE [--checkpoint SECONDS] [--strict]\n"
    "\n"
    "Finish an interrupted run: rebuild its spec from FILE, run the trials whose\n"
    "/trials/done entry is 0, and rewrite FILE. Any number of ranks may be used.\n";

static const char merge_help[] =
    "usage: gpmc merge OUT PART... [--force] [--strict]\n"
    "\n"
    "Combine result files of one spec (shards from `gpmc run --shard i/N`, or partial\n"
    "runs) into OUT. Parts must share the spec text, overrides, seed, trials and\n"
    "gpmc version. The merged /trials equal those of one unsharded run.\n";

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* All ranks agree on the worst status (the others sleep while rank 0 plans and writes). */
static int agree(int st)
{
    int worst;
    MPI_Request req;
    MPI_Iallreduce(&st, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req);
    gpmc_wait_yielding(&req, MPI_STATUS_IGNORE);
    return worst;
}

/* Prove that FILE's directory takes new files (FILE.tmp, then the rename), before any
 * compute. */
static int probe_writable(const char *out)
{
    /* A name of our own: a job still writing OUT.tmp must not see it vanish. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.%ld.probe", out, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return gpmc_error(GPMC_EINVAL, out, "cannot write here: %s", strerror(errno));
    fclose(f);
    remove(tmp);
    return GPMC_OK;
}

/* Refuse to clobber, and prove the directory is writable, before any compute. */
static int check_output(const char *out, int force)
{
    struct stat sb;
    if (!force && stat(out, &sb) == 0)
        return gpmc_error(GPMC_EINVAL, out,
                          "output exists (use --force to overwrite, or `gpmc resume %s`)", out);
    return probe_writable(out);
}

/* Bytes free in the directory of `file`, or -1. */
static double free_bytes(const char *file)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct statvfs vfs;
    return statvfs(dir, &vfs) == 0 ? (double)vfs.f_bavail * (double)vfs.f_frsize : -1;
}

typedef struct {
    const char *out;
    const char *created;
    double checkpoint_every, last_checkpoint;
    gpmc_progress progress;
    int nranks;
    int strict;         /* --strict: a summary statistic that failed makes the exit 1 */
    int write_first;    /* write the (empty) file before computing: run, not resume */
    int failed_checkpoints; /* in a row; the run goes on and retries at the next one */
    int warned;         /* the summary warning was printed once */
    gpmc_h5_report report; /* of the last write */
    gpmc_journal journal;  /* rank 0: trials appended since the last full write */
    int have_journal;
    double last_full, full_cost; /* when the last full write ended, and what it took */
} run_ctx;

/* Say once that statistics are missing; the trials are in the file regardless. */
static void warn_summary(const char *out, const gpmc_h5_report *r, int *warned)
{
    if (!r->summary_failures || *warned)
        return;
    *warned = 1;
    fprintf(stderr,
            "gpmc: warning: %s: %zu summary statistic(s) could not be computed and are stored as "
            "NaN (attribute 'error'); every trial is stored, and `gpmc info` recomputes them. "
            "First: %s\n",
            out, r->summary_failures, r->summary_error);
}

/* The whole file, folding the journal in. */
static int write_file(run_ctx *ctx, const gpmc_results *res)
{
    gpmc_h5_meta meta = {gpmc_cli_command_line(), ctx->created, ctx->nranks,
                         gpmc_results_todo(res) == 0};
    double t0 = gpmc_now();
    int st = gpmc_h5_write(ctx->out, res, &meta, &ctx->report);
    if (!st) {
        ctx->last_full = gpmc_now();
        ctx->full_cost = ctx->last_full - t0;
        if (ctx->have_journal)
            gpmc_journal_folded(&ctx->journal, res);
        warn_summary(ctx->out, &ctx->report, &ctx->warned);
    }
    return st;
}

/* GPMC_CHECKPOINT_JOURNAL = always | never | auto (default). */
static int journal_mode(void)
{
    const char *m = getenv("GPMC_CHECKPOINT_JOURNAL");
    return !m || !strcmp(m, "auto") ? 0 : !strcmp(m, "always") ? 1 : -1;
}

/* A checkpoint costs what changed when a full write would cost too much: an append to the
 * journal when the last full write took over 2 s at a stop (SLURM warns 120 s ahead, and a
 * 10^6-point file takes minutes), or when full writes would take over a tenth of the time
 * between them; otherwise (small files) the whole file, as readers of FILE prefer. */
static int checkpoint(run_ctx *ctx, const gpmc_results *res, int stop)
{
    int mode = journal_mode();
    double since = gpmc_now() - ctx->last_full;
    int journal = ctx->have_journal && mode >= 0 &&
                  (mode == 1 || (stop ? ctx->full_cost > 2.0 : since < 10 * ctx->full_cost));
    if (journal) {
        size_t added;
        if (gpmc_journal_append(&ctx->journal, res, &added) == GPMC_OK)
            return GPMC_OK;
        fprintf(stderr, "gpmc: warning: journal append failed (%s); writing the whole file\n",
                gpmc_error_message());
    }
    return write_file(ctx, res);
}

/* What a write would take: the file size against the free space (after a failure). */
static void explain_space(const run_ctx *ctx, const gpmc_results *res)
{
    double need = gpmc_h5_estimate_plan_bytes(res->plan), avail = free_bytes(ctx->out);
    if (avail >= 0)
        fprintf(stderr, "gpmc: %s needs about %.2f MB; %.2f MB free there\n", ctx->out,
                need / 1e6, avail / 1e6);
}

static int tick(void *vctx, const gpmc_results *res)
{
    run_ctx *ctx = vctx;
    gpmc_progress_update(&ctx->progress, res, 0);
    if (gpmc_now() - ctx->last_checkpoint < ctx->checkpoint_every)
        return GPMC_OK;
    ctx->last_checkpoint = gpmc_now();
    /* A failed checkpoint (a full disk) leaves the previous one in place; computing goes
     * on and the next checkpoint retries. Only the final write decides the exit. */
    if (checkpoint(ctx, res, 0)) {
        if (ctx->failed_checkpoints++ == 0) {
            fprintf(stderr, "gpmc: warning: checkpoint failed (the previous one is kept; "
                            "computing goes on, the next checkpoint retries): %s\n",
                    gpmc_error_message());
            explain_space(ctx, res);
        }
    } else if (ctx->failed_checkpoints) {
        fprintf(stderr, "gpmc: checkpoint written again after %d failed\n", ctx->failed_checkpoints);
        ctx->failed_checkpoints = 0;
    }
    return GPMC_OK;
}

/* Run the plan's missing tasks on all ranks and write the result on rank 0. */
static int execute(run_ctx *ctx, const gpmc_plan *plan, gpmc_results *res)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ctx->nranks);
    size_t total = 0;
    if (rank == 0) {
        for (size_t p = 0; p < plan->P; p++)
            for (size_t t = 0; t < plan->T; t++)
                total += gpmc_plan_in_shard(plan, p, t);
        gpmc_progress_init(&ctx->progress, res, total);
        ctx->last_checkpoint = ctx->last_full = gpmc_now();
        /* A new run owns FILE (the lock is held): a journal left beside an older FILE of
         * that name is not ours. Resume keeps it: it was replayed into res. */
        ctx->have_journal = gpmc_journal_init(&ctx->journal, ctx->out, res) == GPMC_OK;
        if (ctx->have_journal && ctx->write_first)
            unlink(ctx->journal.path);
    }
    /* The first file before the first trial: a run that cannot write stops now rather
     * than after computing everything, and a stop at any moment leaves a file that
     * `gpmc resume` finishes. */
    int first = rank == 0 && ctx->write_first ? write_file(ctx, res) : GPMC_OK;
    if (agree(first)) {
        if (rank != 0)
            return GPMC_EXIT_FAILURE;
        gpmc_cli_fail(GPMC_EXIT_FAILURE);
        explain_space(ctx, res);
        fprintf(stderr, "gpmc: nothing was computed\n");
        gpmc_progress_free(&ctx->progress);
        if (ctx->have_journal)
            gpmc_journal_free(&ctx->journal);
        return GPMC_EXIT_FAILURE;
    }
    gpmc_sched_hooks hooks = {tick, ctx};
    int stopped = 0;
    int st = gpmc_sched_run(plan, plan->spec->seed, res, &hooks, MPI_COMM_WORLD, &stopped);
    if (rank != 0)
        return st ? GPMC_EXIT_FAILURE : stopped ? GPMC_EXIT_RESUMABLE : GPMC_EXIT_OK;
    size_t done = total - gpmc_results_todo(res);
    gpmc_progress_finish(&ctx->progress, res);
    gpmc_progress_free(&ctx->progress);
    /* Store what finished even after an error, so nothing computed is lost; a stop may
     * only append to the journal (fast), a finished run writes the whole file. */
    int wst = stopped && !st ? checkpoint(ctx, res, 1) : write_file(ctx, res);
    if (ctx->have_journal)
        gpmc_journal_free(&ctx->journal);
    if (st)
        return gpmc_cli_fail(GPMC_EXIT_FAILURE);
    if (wst) {
        gpmc_cli_fail(GPMC_EXIT_FAILURE);
        explain_space(ctx, res);
        fprintf(stderr, "gpmc: error: %s: not written; the last good checkpoint is still there: "
                        "free space, then `gpmc resume %s`\n", ctx->out, ctx->out);
        return GPMC_EXIT_FAILURE;
    }
    if (ctx->strict && ctx->report.summary_failures) {
        fprintf(stderr, "gpmc: error: %s: summary incomplete (--strict)\n", ctx->out);
        return GPMC_EXIT_FAILURE;
    }
    if (stopped) {
        struct stat jb;
        int journaled = ctx->have_journal && stat(ctx->journal.path, &jb) == 0;
        fprintf(stderr, "gpmc: stopped: %zu/%zu trials stored in %s%s; continue with: gpmc resume %s\n",
                done, total, ctx->out, journaled ? " and its .journal" : "", ctx->out);
        return GPMC_EXIT_RESUMABLE;
    }
    fprintf(stderr, "gpmc: wrote %s (%zu trials, %zu points)\n", ctx->out, done, plan->P);
    return GPMC_EXIT_OK;
}

/* Ranks on rank 0's node (collective): the memory estimate is per node. */
static int local_ranks(void)
{
    MPI_Comm node;
    int n = 1, root_n = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &n);
        MPI_Comm_free(&node);
    }
    root_n = n;
    MPI_Bcast(&root_n, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return root_n;
}

/* Refuse (on rank 0, before any allocation that grows with the run) a plan that cannot
 * fit this node's memory. Collective. */
static int check_memory(const gpmc_plan *plan, const char *where, gpmc_memory_estimate *est)
{
    int local = local_ranks(), st = GPMC_OK;
    if (gpmc_cli_rank() == 0) {
        gpmc_memory_estimate_plan(plan, local, est);
        st = gpmc_memory_check(est, where);
    }
    return st;
}

static int parse_double_opt(const char *opt, const char *v, double *out)
{
    char *end;
    *out = v ? strtod(v, &end) : 0;
    if (!v || *end || *out <= 0)
        return gpmc_error(GPMC_EINVAL, opt, "needs a positive number");
    return GPMC_OK;
}

int gpmc_cmd_run(int argc, char **argv)
{
    const char *spec_path = NULL, *out = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    int force = 0, dry_run = 0, strict = 0, st = GPMC_OK;
    unsigned shard_i = 0, shard_n = 1;
    double every = 60;
    char default_out[4096], created[32];
    for (int i = 1; i < argc && !st; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (gpmc_cli_rank() == 0)
                fputs(run_help, stdout);
            free(sets);
            return GPMC_EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            out = v, i++;
        } else if (!strcmp(a, "--set")) {
            if (!v || !strchr(v, '='))
                st = gpmc_error(GPMC_EINVAL, "--set", "expects key=value");
            else
                sets[nsets++] = strdup(v);
            i++;
        } else if (!strcmp(a, "--trials") || !strcmp(a, "--seed")) {
            if (!v)
                st = gpmc_error(GPMC_EINVAL, a, "needs a value");
            else {
                char buf[512];
                snprintf(buf, sizeof buf, "run.%s=%s", a + 2, v);
                sets[nsets++] = strdup(buf);
            }
            i++;
        } else if (!strcmp(a, "--shard")) {
            if (gpmc_plan_parse_shard(v, &shard_i, &shard_n))
                st = gpmc_error_wrap(GPMC_EINVAL, "--shard");
            i++;
        } else if (!strcmp(a, "--checkpoint")) {
            st = parse_double_opt(a, v, &every);
            i++;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--dry-run")) {
            dry_run = 1;
        } else if (!strcmp(a, "--strict")) {
            strict = 1;
        } else if (a[0] == '-' || spec_path) {
            st = gpmc_error(GPMC_EINVAL, "run", "unexpected argument '%s' (see gpmc run --help)", a);
        } else {
            spec_path = a;
        }
    }
    if (!st && !spec_path)
        st = gpmc_error(GPMC_EINVAL, "run", "no spec file given (see gpmc run --help)");
    if (!st && !out) {
        const char *base = strrchr(spec_path, '/');
        base = base ? base + 1 : spec_path;
        snprintf(default_out, sizeof default_out, "results/%.*s.h5",
                 (int)(strcspn(base, ".")), base);
        out = default_out;
    }
    gpmc_spec spec;
    int have_spec = 0;
    if (!st) {
        st = gpmc_spec_load(&spec, spec_path, sets, nsets);
        have_spec = !st;
    }
    gpmc_lock lock = {-1, ""};
    /* The default output's directory, results/, is made here (a fresh directory, an
     * installed gpmc); a directory given with -o must exist. */
    if (!st && gpmc_cli_rank() == 0 && out == default_out && mkdir("results", 0755) != 0 &&
        errno != EEXIST)
        st = gpmc_error(GPMC_EINVAL, "results/", "cannot create it: %s", strerror(errno));
    if (!st && gpmc_cli_rank() == 0)
        st = check_output(out, force);
    if (!st && gpmc_cli_rank() == 0 && !dry_run)
        st = gpmc_lock_acquire(&lock, out);
    for (size_t i = 0; i < nsets; i++)
        free(sets[i]);
    free(sets);
    if (agree(st)) {
        gpmc_lock_release(&lock);
        if (have_spec)
            gpmc_spec_free(&spec);
        return st ? gpmc_cli_fail(GPMC_EXIT_USAGE) : GPMC_EXIT_USAGE;
    }
    gpmc_plan plan;
    gpmc_results res;
    int have_res = 0;
    st = gpmc_plan_init(&plan, &spec, shard_i, shard_n);
    int code, planned = !st;
    gpmc_memory_estimate mem;
    if (agree(st)) {
        code = st ? gpmc_cli_fail(GPMC_EXIT_FAILURE) : GPMC_EXIT_FAILURE;
    } else if (agree(check_memory(&plan, spec_path, &mem))) {
        code = gpmc_cli_rank() == 0 ? gpmc_cli_fail(GPMC_EXIT_USAGE) : GPMC_EXIT_USAGE;
    } else if (dry_run) {
        if (gpmc_cli_rank() == 0) {
            size_t tasks = 0;
            for (size_t p = 0; p < plan.P; p++)
                for (size_t t = 0; t < plan.T; t++)
                    tasks += gpmc_plan_in_shard(&plan, p, t);
            printf("%s: experiment %s, %zu points x %zu trials = %zu tasks in shard %u/%u; "
                   "output %s\n", spec_path, plan.exp->name, plan.P, plan.T, tasks, shard_i,
                   shard_n, out);
            printf("memory: about %.3g GB on rank 0, %.3g GB per other rank, %.3g GB on rank 0's "
                   "node, of %.3g GB (%s)\n", mem.rank0 / 1e9, mem.worker / 1e9, mem.node / 1e9,
                   mem.limit / 1e9, mem.limit_source);
        }
        code = GPMC_EXIT_OK;
    } else if (agree(gpmc_cli_rank() == 0 ? (st = gpmc_results_init(&res, &plan),
                                             have_res = !st, st) : GPMC_OK)) {
        code = gpmc_cli_rank() == 0 ? gpmc_cli_fail(GPMC_EXIT_FAILURE) : GPMC_EXIT_FAILURE;
    } else {
        iso_now(created, sizeof created);
        run_ctx ctx = {.out = out, .created = created, .checkpoint_every = every,
                       .strict = strict, .write_first = 1};
        code = execute(&ctx, &plan, have_res ? &res : NULL);
    }
    gpmc_lock_release(&lock);
    if (have_res)
        gpmc_results_free(&res);
    if (planned)
        gpmc_plan_free(&plan);
    gpmc_spec_free(&spec);
    return code;
}

/* Kernels change the last bits of results: say so when trials of two kernels meet. */
static void warn_kernel(const char *file, const char *theirs, const char *ours, const char *what)
{
    if (theirs && ours && strcmp(theirs, ours))
        fprintf(stderr, "gpmc: warning: %s was computed with the OpenBLAS %s kernel, %s %s: "
                        "trials agree to rounding, not bitwise (set OPENBLAS_CORETYPE=%s to match)\n",
                file, theirs, what, ours, theirs);
}

int gpmc_cmd_resume(int argc, char **argv)
{
    const char *path = NULL;
    double every = 60;
    int st = GPMC_OK, strict = 0;
    for (int i = 1; i < argc && !st; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (gpmc_cli_rank() == 0)
                fputs(resume_help, stdout);
            return GPMC_EXIT_OK;
        } else if (!strcmp(argv[i], "--strict")) {
            strict = 1;
        } else if (!strcmp(argv[i], "--checkpoint")) {
            st = parse_double_opt(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &every);
            i++;
        } else if (argv[i][0] == '-' || path) {
            st = gpmc_error(GPMC_EINVAL, "resume", "unexpected argument '%s'", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!st && !path)
        st = gpmc_error(GPMC_EINVAL, "resume", "no result file given (see gpmc resume --help)");
    if (agree(st))
        return gpmc_cli_fail(GPMC_EXIT_USAGE);
    /* Lock before reading, so what we read is what nobody else is extending; probe the
     * directory before computing, so the trials are not computed for nothing. */
    gpmc_lock lock = {-1, ""};
    if (gpmc_cli_rank() == 0) {
        struct stat sb;
        st = stat(path, &sb) != 0 ? gpmc_error(GPMC_EINVAL, path, "no such file") : GPMC_OK;
        st = st ? st : probe_writable(path);
        st = st ? st : gpmc_lock_acquire(&lock, path);
    }
    if (agree(st)) {
        gpmc_lock_release(&lock);
        return st ? gpmc_cli_fail(GPMC_EXIT_USAGE) : GPMC_EXIT_USAGE;
    }
    gpmc_stored_run run;
    gpmc_memory_estimate mem;
    st = gpmc_stored_run_plan(&run, path);
    if (!agree(st))
        st = check_memory(&run.plan, path, &mem);
    if (!agree(st) && gpmc_cli_rank() == 0)
        st = gpmc_stored_run_load(&run, path, 1);
    int code;
    if (agree(st)) {
        code = st ? gpmc_cli_fail(GPMC_EXIT_USAGE) : GPMC_EXIT_USAGE;
    } else {
        if (gpmc_cli_rank() == 0)
            warn_kernel(path, run.origin.blas_kernel, gpmc_blas_corename(), "this resume uses");
        run_ctx ctx = {.out = path, .created = run.origin.created, .checkpoint_every = every,
                       .strict = strict};
        code = execute(&ctx, &run.plan, gpmc_cli_rank() == 0 ? &run.res : NULL);
    }
    gpmc_stored_run_close(&run);
    gpmc_lock_release(&lock);
    return code;
}

static int same_origin(const gpmc_h5_origin *a, const gpmc_h5_origin *b, const char *part)
{
    if (strcmp(a->spec_text, b->spec_text) || strcmp(a->experiment, b->experiment))
        return gpmc_error(GPMC_EINVAL, part, "was run from a different spec");
    if (a->seed != b->seed || a->trials != b->trials)
        return gpmc_error(GPMC_EINVAL, part, "has a different seed or trial count");
    if (strcmp(a->gpmc_version, b->gpmc_version))
        return gpmc_error(GPMC_EINVAL, part, "was written by gpmc %s, not %s", b->gpmc_version,
                          a->gpmc_version);
    if (a->noverrides != b->noverrides)
        return gpmc_error(GPMC_EINVAL, part, "has different --set overrides");
    for (size_t i = 0; i < a->noverrides; i++)
        if (strcmp(a->overrides[i], b->overrides[i]))
            return gpmc_error(GPMC_EINVAL, part, "has different --set overrides");
    return GPMC_OK;
}

int gpmc_cmd_merge(int argc, char **argv)
{
    if (gpmc_cli_rank() != 0)
        return GPMC_EXIT_OK;
    const char *out = NULL;
    const char **parts = calloc((size_t)argc + 1, sizeof *parts);
    size_t nparts = 0;
    int force = 0, strict = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(merge_help, stdout);
            free(parts);
            return GPMC_EXIT_OK;
        } else if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--strict"))
            strict = 1;
        else if (!out)
            out = argv[i];
        else
            parts[nparts++] = argv[i];
    }
    gpmc_lock lock = {-1, ""};
    int st = (!out || !nparts) ? gpmc_error(GPMC_EINVAL, "merge", "usage: gpmc merge OUT PART...")
                               : check_output(out, force);
    st = st ? st : gpmc_lock_acquire(&lock, out);
    if (st) {
        gpmc_lock_release(&lock);
        free(parts);
        return gpmc_cli_fail(GPMC_EXIT_USAGE);
    }
    gpmc_stored_run base;
    st = gpmc_stored_run_open(&base, parts[0], 1);
    /* The merged file covers every task: shard 0 of 1. */
    base.plan.shard_i = 0;
    base.plan.shard_n = 1;
    for (size_t i = 1; i < nparts && !st; i++) {
        gpmc_stored_run part;
        st = gpmc_stored_run_open(&part, parts[i], 1);
        st = st ? st : same_origin(&base.origin, &part.origin, parts[i]);
        if (!st) {
            warn_kernel(parts[i], part.origin.blas_kernel, base.origin.blas_kernel,
                        "the first part used");
            if (part.origin.git_commit && base.origin.git_commit &&
                strcmp(part.origin.git_commit, base.origin.git_commit))
                fprintf(stderr, "gpmc: warning: %s was written by build %s, the first part by "
                                "%s: trials agree to rounding, not necessarily bitwise\n",
                        parts[i], part.origin.git_commit, base.origin.git_commit);
        }
        for (size_t p = 0; p < base.plan.P && !st; p++)
            for (size_t t = 0; t < base.plan.T; t++) {
                if (!part.res.done[p * base.plan.T + t])
                    continue;
                if (base.res.done[p * base.plan.T + t] &&
                    memcmp(gpmc_results_record(&base.res, p, t), gpmc_results_record(&part.res, p, t),
                           gpmc_plan_layout(&base.plan, p)->total * sizeof(double)) != 0) {
                    st = gpmc_error(GPMC_EINVAL, parts[i],
                                    "trial %zu of point %zu differs from an earlier part", t, p);
                    break;
                }
                gpmc_results_put(&base.res, p, t, gpmc_results_record(&part.res, p, t),
                                 part.res.seconds[p * base.plan.T + t],
                                 part.res.rank[p * base.plan.T + t]);
            }
        gpmc_stored_run_close(&part);
    }
    int code = GPMC_EXIT_OK;
    if (st) {
        code = gpmc_cli_fail(GPMC_EXIT_USAGE);
    } else {
        gpmc_h5_meta meta = {gpmc_cli_command_line(), base.origin.created, 1,
                             gpmc_results_todo(&base.res) == 0};
        gpmc_h5_report report;
        int warned = 0;
        if (gpmc_h5_write(out, &base.res, &meta, &report))
            code = gpmc_cli_fail(GPMC_EXIT_FAILURE);
        else if (warn_summary(out, &report, &warned), strict && report.summary_failures)
            code = GPMC_EXIT_FAILURE;
        else
            fprintf(stderr, "gpmc: merged %zu parts into %s (%zu/%zu trials%s)\n", nparts, out,
                    base.res.ndone, base.plan.P * base.plan.T,
                    meta.complete ? "" : "; some are missing");
    }
    gpmc_stored_run_close(&base);
    gpmc_lock_release(&lock);
    free(parts);
    return code;
}
