/* The MPI scheduler: tasks = (point, trial) handed out dynamically by rank 0, which also
 * computes; every result comes back to rank 0. A trial depends only on its stream, so
 * the results do not depend on the number of ranks or the order. */
#ifndef GPMC_SCHED_H
#define GPMC_SCHED_H

#include "gpmc/results.h"

#include <mpi.h>
#include <signal.h>

/* Set by the SIGTERM/SIGINT handler on any rank; the run stops handing out tasks,
 * collects the trials under way, checkpoints and exits GPMC_EXIT_RESUMABLE. */
extern volatile sig_atomic_t gpmc_stop_requested;
void gpmc_install_stop_handler(void);

/* MPI_Wait that sleeps between tests instead of spinning: ranks that wait for rank 0
 * (oversubscribed on a laptop, many per core) leave it the CPU. */
void gpmc_wait_yielding(MPI_Request *req, MPI_Status *status);

typedef struct {
    /* Rank 0, between tasks: progress, checkpoints. Non-zero status aborts the run. */
    int (*tick)(void *ctx, const gpmc_results *res);
    void *ctx;
} gpmc_sched_hooks;

/* Collective over comm. On rank 0 `res` holds the done mask (skipped) and receives every
 * result; other ranks pass NULL. *stopped (all ranks) = 1 if a stop was requested.
 * Returns GPMC_OK or the first error of any rank (the message is on rank 0). */
int gpmc_sched_run(const gpmc_plan *plan, uint64_t seed, gpmc_results *res,
                   const gpmc_sched_hooks *hooks, MPI_Comm comm, int *stopped);

#endif
