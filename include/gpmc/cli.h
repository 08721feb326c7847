/* The gpmc commands. Each returns a GPMC_EXIT_* code; errors are printed on rank 0 as
 * `gpmc: error: <where>: <what>`. */
#ifndef GPMC_CLI_H
#define GPMC_CLI_H

int gpmc_cmd_list(int argc, char **argv);
int gpmc_cmd_run(int argc, char **argv);
int gpmc_cmd_resume(int argc, char **argv);
int gpmc_cmd_info(int argc, char **argv);
int gpmc_cmd_merge(int argc, char **argv);

/* Print the current error message as `gpmc: error: ...` (rank 0 only) and return code. */
int gpmc_cli_fail(int code);
/* This process's rank: MPI's once initialised (run, resume), else the launcher's (nonzero
 * iff the launcher's rank variable says another rank), so `mpirun gpmc info` prints once. */
int gpmc_cli_rank(void);
/* The rank the launcher put in the environment (Open MPI, PMIx, PMI, SLURM), or NULL. */
const char *gpmc_cli_launcher_rank(void);
/* The command line as one string, for the output file. */
const char *gpmc_cli_command_line(void);
void gpmc_cli_set_command_line(int argc, char **argv);

#endif
