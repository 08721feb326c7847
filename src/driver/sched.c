/* Dynamic scheduling: every worker holds the task it computes and, queued behind it, about
 * as much expected work as rank 0's longest stall so far (its own trial between polls, a
 * checkpoint), so it keeps computing while rank 0 is busy; behind a task expected to last
 * over 100 such stalls nothing is queued (the wait for the next task costs < 1%), because
 * a queued task is one that an idle rank cannot take at the end of the run (measured on
 * 32 ranks, a growing-cost grid: a fixed 4 tasks per worker gave 67% efficiency, 1 task
 * 99%). Rank 0 serves first: it computes a trial of its own only when every worker holds
 * its share, and while it computes it serves the workers from its trial's stop poll
 * (between the trial's batches), so a long trial on rank 0 cannot starve the others.
 * The order of the tasks is dispatch.h's. */
#include "gpmc/sched.h"
#include "gpmc/dispatch.h"
#include "gpmc/error.h"
#include "gpmc/runner.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_TASK = 11, TAG_STOP = 12, TAG_RESULT = 13, TAG_ERRMSG = 14 };
enum { HDR = 5 };          /* result header: p, t, seconds, status, stop flag */
enum { PREFETCH_MAX = 64 };

volatile sig_atomic_t gpmc_stop_requested = 0;

static void on_stop_signal(int sig)
{
    (void)sig;
    gpmc_stop_requested = 1;
}

void gpmc_install_stop_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART; /* installed before MPI_Init: its system calls must not see EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int stop_flag(void) { return gpmc_stop_requested != 0; }

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* MPI_Wait that sleeps: Open MPI's waits spin, and dozens of spinning ranks oversubscribed
 * on a few cores would starve the ones with work (rank 0 above all). The sleep grows from
 * 20 us to 1 ms, so a reply that is nearly there costs little latency. */
void gpmc_wait_yielding(MPI_Request *req, MPI_Status *status)
{
    int flag = 0;
    long ns = 20000;
    for (MPI_Test(req, &flag, status); !flag; MPI_Test(req, &flag, status)) {
        nap(ns);
        ns = ns < 500000 ? 2 * ns : 1000000;
    }
}

/* GPMC_PREFETCH=d: every worker holds exactly d tasks instead (for measuring the rule). */
static int fixed_depth(void)
{
    const char *env = getenv("GPMC_PREFETCH");
    long d = env ? strtol(env, NULL, 10) : 0;
    return d <= 0 ? 0 : d > PREFETCH_MAX ? PREFETCH_MAX : (int)d;
}

/* Results go out with MPI_Isend from a ring of buffers: a blocking send would wait while
 * rank 0 is busy (measured: 20% of a worker's time on 2 ranks when rank 0 computed). */
enum { NBUF = 4 };

static int worker(const gpmc_plan *plan, uint64_t seed, MPI_Comm comm)
{
    gpmc_runner run;
    size_t cap = HDR + plan->max_record + 1;
    const int nbuf = NBUF;
    double *bufs = malloc((size_t)nbuf * cap * sizeof *bufs);
    MPI_Request req[NBUF];
    for (int i = 0; i < NBUF; i++)
        req[i] = MPI_REQUEST_NULL;
    int st = gpmc_runner_init(&run, plan, seed), next = 0;
    run.stop_requested = stop_flag;
    if (!bufs && !st)
        st = gpmc_error(GPMC_ENOMEM, "worker", "out of memory");
    for (;;) {
        uint64_t task[2];
        MPI_Status ms;
        MPI_Request rq;
        MPI_Irecv(task, 2, MPI_UINT64_T, 0, MPI_ANY_TAG, comm, &rq);
        gpmc_wait_yielding(&rq, &ms);
        if (ms.MPI_TAG == TAG_STOP)
            break;
        size_t p = (size_t)task[0], t = (size_t)task[1];
        double secs = 0, hdr_only[HDR];
        double *out = bufs ? bufs + (size_t)next * cap : hdr_only;
        if (bufs)
            gpmc_wait_yielding(&req[next], MPI_STATUS_IGNORE); /* the buffer's previous send */
        int tst = st ? st : gpmc_runner_trial(&run, p, t, out + HDR, &secs);
        /* Not stored and not an error: the task stays undone and resume runs it. */
        size_t len = tst ? HDR : HDR + gpmc_plan_layout(plan, p)->total;
        double hdr[HDR] = {(double)p, (double)t, secs, (double)tst, (double)gpmc_stop_requested};
        memcpy(out, hdr, sizeof hdr);
        if (tst || !bufs) {
            const char *msg = gpmc_error_message();
            MPI_Send(out, (int)len, MPI_DOUBLE, 0, TAG_RESULT, comm);
            MPI_Send(msg, (int)strlen(msg) + 1, MPI_CHAR, 0, TAG_ERRMSG, comm);
        } else {
            MPI_Isend(out, (int)len, MPI_DOUBLE, 0, TAG_RESULT, comm, &req[next]);
            next = (next + 1) % nbuf;
        }
    }
    for (int i = 0; i < nbuf; i++)
        gpmc_wait_yielding(&req[i], MPI_STATUS_IGNORE);
    gpmc_runner_free(&run);
    free(bufs);
    return GPMC_OK;
}

typedef struct {
    const gpmc_plan *plan;
    gpmc_results *res;
    MPI_Comm comm;
    gpmc_dispatch order;
    int depth;          /* GPMC_PREFETCH, or 0: the rule at the top */
    int *outstanding;   /* per rank: tasks held */
    double *expect;     /* [rank][PREFETCH_MAX]: their expected seconds, oldest first */
    int *first;         /* per rank: ring index of the oldest */
    double stall;       /* rank 0's longest gap between two services so far */
    double last_drain;
    int active;         /* workers not yet sent STOP */
    int stopping, status;
    char errmsg[2048];
    double *rbuf;       /* a worker's result */
    /* What serving costs rank 0 (GPMC_SCHED_STATS=1 prints it): the per-message cost the
     * scheduling model (analysis/sched_model.py) needs. CPU time, so that oversubscribed
     * runs measure what a dedicated core would spend. */
    size_t served, own_trials;
    double serve_cpu;
} master;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Does worker w need another task now? (the rule at the top of the file) */
static int wants_more(const master *m, int w)
{
    int n = m->outstanding[w];
    if (n == 0)
        return 1;
    if (m->depth)
        return n < m->depth;
    if (n >= PREFETCH_MAX)
        return 0;
    const double *e = m->expect + (size_t)w * PREFETCH_MAX;
    double current = e[m->first[w]], queued = 0;
    if (!(current < 100 * m->stall)) /* long, or unknown: nothing behind it */
        return 0;
    for (int i = 1; i < n; i++) {
        double x = e[(m->first[w] + i) % PREFETCH_MAX];
        queued += isnan(x) ? INFINITY : x;
    }
    return queued < m->stall;
}

/* Top worker w up to its share; STOP once it holds nothing and nothing is left. */
static void send_next(master *m, int w)
{
    size_t p, t;
    while (!m->stopping && wants_more(m, w) && gpmc_dispatch_next(&m->order, &p, &t)) {
        uint64_t task[2] = {p, t};
        MPI_Send(task, 2, MPI_UINT64_T, w, TAG_TASK, m->comm);
        int slot = (m->first[w] + m->outstanding[w]) % PREFETCH_MAX;
        m->expect[(size_t)w * PREFETCH_MAX + slot] = gpmc_dispatch_seconds(&m->order, p);
        m->outstanding[w]++;
    }
    if (m->outstanding[w] == 0) {
        MPI_Send(NULL, 0, MPI_UINT64_T, w, TAG_STOP, m->comm);
        m->active--;
    }
}

static void fail(master *m, int st)
{
    if (!m->status) {
        m->status = st;
        snprintf(m->errmsg, sizeof m->errmsg, "%s", gpmc_error_message());
    }
    m->stopping = 1;
}

static void receive_result(master *m, const MPI_Status *probe)
{
    int w = probe->MPI_SOURCE, count;
    MPI_Status ms;
    MPI_Get_count(probe, MPI_DOUBLE, &count);
    MPI_Recv(m->rbuf, count, MPI_DOUBLE, w, TAG_RESULT, m->comm, &ms);
    m->outstanding[w]--;
    m->first[w] = (m->first[w] + 1) % PREFETCH_MAX;
    size_t p = (size_t)m->rbuf[0], t = (size_t)m->rbuf[1];
    int st = (int)m->rbuf[3];
    if (m->rbuf[4] != 0)
        m->stopping = 1;
    if (st) {
        char msg[2048];
        MPI_Recv(msg, (int)sizeof msg, MPI_CHAR, w, TAG_ERRMSG, m->comm, &ms);
        msg[sizeof msg - 1] = '\0';
        if (st == GPMC_ESTOPPED)
            m->stopping = 1; /* the trial was cut short: left undone for resume */
        else
            fail(m, gpmc_error(st, NULL, "rank %d: %s", w, msg));
    } else {
        gpmc_results_put(m->res, p, t, m->rbuf + HDR, m->rbuf[2], w);
        gpmc_dispatch_learned(&m->order);
    }
    send_next(m, w);
}

static int drain(master *m)
{
    int got = 0;
    double c0 = cpu_now(), now = gpmc_now();
    if (now - m->last_drain > m->stall)
        m->stall = now - m->last_drain;
    m->last_drain = now;
    while (m->active > 0) {
        int flag;
        MPI_Status probe;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, m->comm, &flag, &probe);
        if (!flag)
            break;
        receive_result(m, &probe);
        m->served++;
        got = 1;
    }
    if (got)
        m->serve_cpu += cpu_now() - c0;
    return got;
}

/* Rank 0's own trial polls this between its batches: serve the workers, and tell the trial
 * to stop if the run is stopping. The poll takes no argument, hence the pointer. */
static master *serving;

static int serve_from_trial(void)
{
    if (gpmc_stop_requested)
        serving->stopping = 1;
    drain(serving);
    return serving->stopping;
}

static void report_stats(const master *m, int size, double wall)
{
    const char *env = getenv("GPMC_SCHED_STATS");
    if (!env || strcmp(env, "1"))
        return;
    fprintf(stderr,
            "gpmc: scheduler: %d ranks, prefetch %s, longest stall %.3g s, %zu results served "
            "in %.6g s of rank 0's CPU (%.3g us each), rank 0 ran %zu trials, wall %.6g s\n",
            size, m->depth ? "fixed" : "adaptive", m->stall, m->served, m->serve_cpu,
            m->served ? 1e6 * m->serve_cpu / (double)m->served : 0.0, m->own_trials, wall);
}

static int rank0(const gpmc_plan *plan, uint64_t seed, gpmc_results *res,
                 const gpmc_sched_hooks *hooks, MPI_Comm comm, int size)
{
    double t_start = gpmc_now();
    master m;
    memset(&m, 0, sizeof m);
    m.plan = plan;
    m.res = res;
    m.comm = comm;
    m.depth = fixed_depth();
    m.stall = 1e-3; /* a floor: message latency, a nap */
    m.outstanding = calloc((size_t)size, sizeof *m.outstanding);
    m.first = calloc((size_t)size, sizeof *m.first);
    m.expect = calloc((size_t)size * PREFETCH_MAX, sizeof *m.expect);
    m.rbuf = malloc((HDR + plan->max_record + 1) * sizeof *m.rbuf);
    double *tbuf = malloc((plan->max_record + 1) * sizeof *tbuf);
    int ost = gpmc_dispatch_init(&m.order, res);
    gpmc_runner run;
    int st = gpmc_runner_init(&run, plan, seed);
    serving = &m;
    run.stop_requested = serve_from_trial;
    if (!st && ost)
        st = ost;
    if (!st && (!m.outstanding || !m.first || !m.expect || !m.rbuf || !tbuf))
        st = gpmc_error(GPMC_ENOMEM, "scheduler", "out of memory");
    if (st)
        fail(&m, st);
    m.active = size - 1;
    m.last_drain = gpmc_now();
    for (int w = 1; w < size; w++)
        send_next(&m, w);

    for (;;) {
        drain(&m);
        if (gpmc_stop_requested)
            m.stopping = 1;
        if (hooks && hooks->tick && !m.status) {
            int hst = hooks->tick(hooks->ctx, res);
            if (hst)
                fail(&m, hst);
        }
        size_t p, t;
        /* Every worker was topped up when it last reported: what is left is rank 0's. */
        if (!m.stopping && gpmc_dispatch_next(&m.order, &p, &t)) {
            double secs;
            int tst = gpmc_runner_trial(&run, p, t, tbuf, &secs);
            m.own_trials++;
            if (tst == GPMC_ESTOPPED)
                m.stopping = 1;
            else if (tst)
                fail(&m, tst);
            else {
                gpmc_results_put(res, p, t, tbuf, secs, 0);
                gpmc_dispatch_learned(&m.order);
            }
            continue;
        }
        if (m.active == 0)
            break;
        if (!drain(&m))
            nap(m.active > 0 ? 200000 : 0); /* 0.2 ms: an idle rank 0 must not steal a core */
    }
    report_stats(&m, size, gpmc_now() - t_start);
    serving = NULL;
    gpmc_runner_free(&run);
    if (!ost)
        gpmc_dispatch_free(&m.order);
    free(m.outstanding);
    free(m.first);
    free(m.expect);
    free(m.rbuf);
    free(tbuf);
    if (m.status)
        gpmc_error(m.status, NULL, "%s", m.errmsg);
    return m.status;
}

int gpmc_sched_run(const gpmc_plan *plan, uint64_t seed, gpmc_results *res,
                   const gpmc_sched_hooks *hooks, MPI_Comm comm, int *stopped)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int st = rank == 0 ? rank0(plan, seed, res, hooks, comm, size) : worker(plan, seed, comm);
    int flags[2] = {st, rank == 0 ? (int)gpmc_stop_requested : 0};
    if (rank == 0 && !st && res && gpmc_results_todo(res) > 0)
        flags[1] = 1; /* stopped early for a reason other than our own signal */
    MPI_Request req; /* the workers wait here while rank 0 writes: sleeping, not spinning */
    MPI_Ibcast(flags, 2, MPI_INT, 0, comm, &req);
    gpmc_wait_yielding(&req, MPI_STATUS_IGNORE);
    *stopped = flags[1];
    return flags[0];
}
