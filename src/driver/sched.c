/* Dynamic scheduling with prefetch: every worker holds up to PREFETCH tasks, so it keeps
 * computing while rank 0 is busy with a trial of its own. One probe trial of every point
 * goes out first (the cost model learns every point's cost early), then the rest
 * point-major, so a rank mostly stays on one point and reuses its workspace. */
#include "gpmc/sched.h"
#include "gpmc/error.h"
#include "gpmc/runner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_TASK = 11, TAG_STOP = 12, TAG_RESULT = 13, TAG_ERRMSG = 14 };
enum { PREFETCH = 4, HDR = 5 }; /* result header: p, t, seconds, status, stop flag */

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

static void nap(void)
{
    struct timespec ts = {0, 1000000}; /* 1 ms: idle rank 0 must not steal a worker's core */
    nanosleep(&ts, NULL);
}

/* Results go out with MPI_Isend from a ring of buffers: a blocking send would wait while
 * rank 0 is inside a trial of its own (measured: 20% of a worker's time on 2 ranks). */
enum { NBUF = PREFETCH + 1 };

static int worker(const gpmc_plan *plan, uint64_t seed, MPI_Comm comm)
{
    gpmc_runner run;
    size_t cap = HDR + plan->max_record + 1;
    double *bufs = malloc(NBUF * cap * sizeof *bufs);
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
        MPI_Recv(task, 2, MPI_UINT64_T, 0, MPI_ANY_TAG, comm, &ms);
        if (ms.MPI_TAG == TAG_STOP)
            break;
        size_t p = (size_t)task[0], t = (size_t)task[1];
        double secs = 0, hdr_only[HDR];
        double *out = bufs ? bufs + (size_t)next * cap : hdr_only;
        if (bufs)
            MPI_Wait(&req[next], MPI_STATUS_IGNORE); /* the buffer's previous send */
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
            next = (next + 1) % NBUF;
        }
    }
    MPI_Waitall(NBUF, req, MPI_STATUSES_IGNORE);
    gpmc_runner_free(&run);
    free(bufs);
    return GPMC_OK;
}

typedef struct {
    const gpmc_plan *plan;
    gpmc_results *res;
    MPI_Comm comm;
    size_t *tasks;      /* [2 * ntasks] (p, t) pairs */
    size_t ntasks, next;
    int *outstanding;   /* per rank */
    int active;         /* workers not yet sent STOP */
    int stopping, status;
    char errmsg[2048];
    double *buf;
} master;

static void send_next(master *m, int w)
{
    if (!m->stopping && m->next < m->ntasks) {
        uint64_t task[2] = {m->tasks[2 * m->next], m->tasks[2 * m->next + 1]};
        m->next++;
        MPI_Send(task, 2, MPI_UINT64_T, w, TAG_TASK, m->comm);
        m->outstanding[w]++;
    } else if (m->outstanding[w] == 0) {
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
    MPI_Recv(m->buf, count, MPI_DOUBLE, w, TAG_RESULT, m->comm, &ms);
    m->outstanding[w]--;
    size_t p = (size_t)m->buf[0], t = (size_t)m->buf[1];
    int st = (int)m->buf[3];
    if (m->buf[4] != 0)
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
        gpmc_results_put(m->res, p, t, m->buf + HDR, m->buf[2], w);
    }
    send_next(m, w);
}

static int drain(master *m)
{
    int got = 0;
    while (m->active > 0) {
        int flag;
        MPI_Status probe;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, m->comm, &flag, &probe);
        if (!flag)
            break;
        receive_result(m, &probe);
        got = 1;
    }
    return got;
}

static int rank0(const gpmc_plan *plan, uint64_t seed, gpmc_results *res,
                 const gpmc_sched_hooks *hooks, MPI_Comm comm, int size)
{
    master m;
    memset(&m, 0, sizeof m);
    m.plan = plan;
    m.res = res;
    m.comm = comm;
    size_t todo = gpmc_results_todo(res);
    m.tasks = malloc((2 * todo + 1) * sizeof *m.tasks);
    m.outstanding = calloc((size_t)size, sizeof *m.outstanding);
    m.buf = malloc((HDR + plan->max_record + 1) * sizeof *m.buf);
    gpmc_runner run;
    int st = gpmc_runner_init(&run, plan, seed);
    run.stop_requested = stop_flag;
    if (!m.tasks || !m.outstanding || !m.buf)
        st = st ? st : gpmc_error(GPMC_ENOMEM, "scheduler", "out of memory");
    if (st)
        fail(&m, st);
    /* Probes first: one trial of every point, so the cost model (ETA) has every point's
     * own timing early; then the rest point-major, so a rank stays on one point. Only the
     * order changes: a trial's result depends on its stream alone. */
    for (int pass = 0; pass < 2 && m.tasks; pass++)
        for (size_t p = 0; p < plan->P; p++) {
            size_t first = plan->T;
            for (size_t t = 0; t < plan->T; t++) {
                if (!gpmc_plan_in_shard(plan, p, t) || res->done[p * plan->T + t])
                    continue;
                if (first == plan->T)
                    first = t;
                if (pass == 0 ? t != first : t == first)
                    continue;
                m.tasks[2 * m.ntasks] = p;
                m.tasks[2 * m.ntasks + 1] = t;
                m.ntasks++;
                if (pass == 0)
                    break;
            }
        }
    m.active = size - 1;
    for (int q = 0; q < PREFETCH; q++)
        for (int w = 1; w < size; w++)
            if (q == 0 || m.outstanding[w] > 0)
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
        if (!m.stopping && m.next < m.ntasks) {
            size_t p = m.tasks[2 * m.next], t = m.tasks[2 * m.next + 1];
            m.next++;
            double secs;
            int tst = gpmc_runner_trial(&run, p, t, m.buf + HDR, &secs);
            if (tst == GPMC_ESTOPPED)
                m.stopping = 1;
            else if (tst)
                fail(&m, tst);
            else
                gpmc_results_put(res, p, t, m.buf + HDR, secs, 0);
            continue;
        }
        if (m.active == 0)
            break;
        if (!drain(&m))
            nap();
    }
    gpmc_runner_free(&run);
    free(m.tasks);
    free(m.outstanding);
    free(m.buf);
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
    MPI_Bcast(flags, 2, MPI_INT, 0, comm);
    *stopped = flags[1];
    return flags[0];
}
