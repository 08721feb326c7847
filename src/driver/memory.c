#include "gpmc/memory.h"
#include "gpmc/error.h"
#include "gpmc/h5io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Scheduler buffers: a ring of result sends (prefetch + 1) plus one receive (sched.c). */
enum { SEND_BUFFERS = 6 };

static double workspace_max(const gpmc_plan *plan)
{
    if (!plan->exp->workspace_bytes)
        return 0;
    gpmc_value *v = calloc(plan->exp->nparams + 1, sizeof *v);
    double mx = 0;
    for (size_t p = 0; p < plan->P && v; p++) {
        gpmc_point pt = gpmc_plan_point(plan, p, v);
        size_t b = plan->exp->workspace_bytes(&pt);
        mx = fmax(mx, b == SIZE_MAX ? INFINITY : (double)b);
    }
    free(v);
    return mx;
}

static void lower_limit(gpmc_memory_estimate *est, double bytes, const char *source)
{
    if (bytes > 0 && (est->limit <= 0 || bytes < est->limit)) {
        est->limit = bytes;
        snprintf(est->limit_source, sizeof est->limit_source, "%s", source);
    }
}

/* A number from the first line of a file ("max" and garbage give -1). */
static double read_number(const char *file)
{
    FILE *f = fopen(file, "r");
    char line[64] = "";
    if (!f)
        return -1;
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    char *end;
    double v = strtod(line, &end);
    return end == line ? -1 : v;
}

static double env_number(const char *name)
{
    const char *s = getenv(name);
    char *end;
    double v = s ? strtod(s, &end) : -1;
    return s && end != s ? v : -1;
}

static void node_limit(gpmc_memory_estimate *est)
{
    est->limit = 0;
    snprintf(est->limit_source, sizeof est->limit_source, "unknown");
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        lower_limit(est, (double)pages * (double)page, "physical memory");
    lower_limit(est, read_number("/sys/fs/cgroup/memory.max"), "cgroup memory.max");
    double v1 = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (v1 < 1e18) /* v1 says "no limit" with a huge number */
        lower_limit(est, v1, "cgroup memory.limit_in_bytes");
    /* SLURM gives megabytes. */
    double node = env_number("SLURM_MEM_PER_NODE"), cpu = env_number("SLURM_MEM_PER_CPU"),
           cpus = env_number("SLURM_CPUS_ON_NODE");
    if (node > 0)
        lower_limit(est, node * 1048576.0, "SLURM_MEM_PER_NODE");
    else if (cpu > 0)
        lower_limit(est, cpu * 1048576.0 * (cpus > 0 ? cpus : 1), "SLURM_MEM_PER_CPU");
    /* For tests and for a user who wants headroom: a lower limit in bytes. */
    lower_limit(est, env_number("GPMC_MEMORY_LIMIT"), "GPMC_MEMORY_LIMIT");
}

void gpmc_memory_estimate_plan(const gpmc_plan *plan, int local_ranks, gpmc_memory_estimate *est)
{
    double P = (double)plan->P, T = (double)plan->T, records = 0;
    for (size_t p = 0; p < plan->P; p++)
        records += (double)gpmc_plan_layout(plan, p)->total;
    double ws = workspace_max(plan), msg = SEND_BUFFERS * 8.0 * (double)(plan->max_record + 8);
    double plan_bytes = (double)gpmc_plan_bytes(plan);
    /* rank 0: every record (T per point) and the per-task seconds/rank/done, the file
     * image twice (HDF5's in-memory file and the copy written out) plus one (P, T) column,
     * a workspace of its own (it computes too) and the message buffers. */
    double results = 8 * T * records + 13 * P * T;
    double file = gpmc_h5_estimate_plan_bytes(plan);
    est->rank0 = plan_bytes + results + 2 * file + 8 * P * T + ws + msg;
    est->worker = plan_bytes + ws + msg;
    est->node = est->rank0 + (local_ranks > 1 ? (double)(local_ranks - 1) * est->worker : 0);
    node_limit(est);
}

int gpmc_memory_check(const gpmc_memory_estimate *est, const char *where)
{
    if (est->limit <= 0 || est->node <= est->limit)
        return GPMC_OK;
    return gpmc_error(GPMC_EINVAL, where,
                      "needs about %.2f GB on rank 0's node (rank 0 %.2f GB: trials, the file "
                      "image, a workspace; each other rank %.2f GB), more than the %.2f GB of %s: "
                      "fewer points, trials or ranks per node, or store_matrices = false",
                      est->node / 1e9, est->rank0 / 1e9, est->worker / 1e9, est->limit / 1e9,
                      est->limit_source);
}
