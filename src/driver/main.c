/* gpmc: Monte Carlo verification of generative-prior random-matrix conditions. */
#include "gpmc/blas_kernel.h"
#include "gpmc/cli.h"
#include "gpmc/error.h"
#include "gpmc/sched.h"
#include "gpmc/version.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
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

int main(int argc, char **argv)
{
    /* First of all: OpenBLAS may have loaded its generic kernels (a virtualised CPU it does
     * not recognise); this may re-execute the program with OPENBLAS_CORETYPE set. */
    gpmc_blas_kernel_select(argc, argv);
    /* One BLAS thread per rank: ranks fill the cores, and a threaded GEMM sums in an order
     * that depends on the thread count, which would break bitwise reproducibility. */
    openblas_set_num_threads(1);
    /* run and resume catch SIGTERM/SIGINT from the start: a stop during start-up ends in
     * the first checkpoint and exit 3, never in the default action's 143. */
    const char *cmd0 = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd0, "run") || !strcmp(cmd0, "resume"))
        gpmc_install_stop_handler();
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
    MPI_Finalize();
    return code;
}
