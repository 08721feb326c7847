/* gpmc: Monte Carlo verification of generative-prior random-matrix conditions. */
#include "gpmc/blas_kernel.h"
#include "gpmc/cli.h"
#include "gpmc/error.h"
#include "gpmc/sched.h"
#include "gpmc/version.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>

static const char usage[] =
    "usage: gpmc <command> [options]\n"
    "\n"
    "commands:\n"
    "  list                      experiments, their parameters and outputs\n"
    "  run SPEC [options]        run a spec (see `gpmc run --help`)\n"
    "  resume FILE               finish an interrupted run\n"
    "  merge OUT PART...         combine the shards of one spec\n"
    "  info FILE                 summary table of a result file\n"
    "\n"
    "analysis (installed next to gpmc by `make install`; analysis/*.py in the source tree):\n"
    "  gpmc-table FILE [--format markdown|csv|latex]   gpmc-plot FILE -o FIG.png|pdf|svg\n"
    "\n"
    "Run under mpirun or srun for several ranks; alone it runs as one rank.\n"
    "exit codes: 0 done, 1 runtime failure, 2 bad usage or spec (nothing computed),\n"
    "            3 stopped by a signal after a checkpoint (run `gpmc resume FILE`)\n";

void openblas_set_num_threads(int n); /* OpenBLAS's cblas.h clashes with gsl_cblas.h */

/* The stop handler goes in before main, as soon as the libraries are loaded: a SIGTERM
 * in start-up (a SLURM preemption right after the job starts) must end in the first
 * checkpoint and exit 3, not in the default action's 143. Across the BLAS re-exec the
 * signals are blocked (the mask survives execve, the handler does not); unblocking here
 * delivers one that arrived meanwhile. Commands other than run/resume undo it in main. */
__attribute__((constructor)) static void early_stop_handler(void)
{
    gpmc_install_stop_handler();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* For commands that do not checkpoint: the default actions, and a stop that came during
 * start-up takes effect now. */
static void default_stop_action(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (gpmc_stop_requested)
        raise(SIGTERM);
}

int main(int argc, char **argv)
{
    /* First of all: OpenBLAS may have loaded its generic kernels (a virtualised CPU it does
     * not recognise); this may re-execute the program with OPENBLAS_CORETYPE set. */
    gpmc_blas_kernel_select(argc, argv);
    /* One BLAS thread per rank: ranks fill the cores, and a threaded GEMM sums in an order
     * that depends on the thread count, which would break bitwise reproducibility. */
    openblas_set_num_threads(1);
    const char *cmd0 = argc > 1 ? argv[1] : "";
    if (strcmp(cmd0, "run") != 0 && strcmp(cmd0, "resume") != 0)
        default_stop_action();
    /* Only run and resume talk to other ranks: the others skip MPI_Init, which as a
     * singleton starts an orted (0.3 s of a 0.4 s `gpmc info`). */
    int use_mpi = !strcmp(cmd0, "run") || !strcmp(cmd0, "resume");
    if (use_mpi)
        MPI_Init(&argc, &argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages name the object instead */
    gpmc_error_library_init();             /* no library may abort a run */
    gpmc_cli_set_command_line(argc, argv);
    int code;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "list"))
        code = gpmc_cmd_list(argc - 1, argv + 1);
    else if (!strcmp(cmd, "run"))
        code = gpmc_cmd_run(argc - 1, argv + 1);
    else if (!strcmp(cmd, "resume"))
        code = gpmc_cmd_resume(argc - 1, argv + 1);
    else if (!strcmp(cmd, "info"))
        code = gpmc_cmd_info(argc - 1, argv + 1);
    else if (!strcmp(cmd, "merge"))
        code = gpmc_cmd_merge(argc - 1, argv + 1);
    else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (gpmc_cli_rank() == 0)
            fputs(usage, stdout);
        code = GPMC_EXIT_OK;
    } else if (!strcmp(cmd, "--version")) {
        if (gpmc_cli_rank() == 0) {
            printf("gpmc %s (%s)\n", gpmc_version, gpmc_git_commit);
            printf("blas: OpenBLAS %s (%s)\n", gpmc_blas_corename(), gpmc_blas_kernel_origin());
        }
        code = GPMC_EXIT_OK;
    } else {
        if (gpmc_cli_rank() == 0) {
            if (*cmd)
                fprintf(stderr, "gpmc: error: unknown command '%s'\n\n", cmd);
            fputs(usage, stderr);
        }
        code = GPMC_EXIT_USAGE;
    }
    if (use_mpi)
        MPI_Finalize();
    return code;
}
