/* Which OpenBLAS kernel runs, and choosing a better one than a generic fallback.
 *
 * OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels from the CPU's family/model when the
 * library loads. On a virtualised CPU reported without a model it falls back to generic
 * kernels ("Prescott": SSE3, dgemm 5-7x slower than the AVX-512 kernels on the same CPU).
 * It reads OPENBLAS_CORETYPE only at load time, so the fix has to be in the environment
 * before the process starts: gpmc_blas_kernel_select() sets it and re-executes the
 * program, once, before MPI_Init.
 *
 * Environment:
 *   OPENBLAS_CORETYPE       set by the user: always respected, nothing is changed
 *   GPMC_BLAS_REEXEC=0      opt-out: keep the detected kernel, print one warning with the fix
 *   GPMC_BLAS_REEXEC_DONE=1 marker set on the re-executed process (prevents loops)
 *   GPMC_BLAS_DEBUG=1       print the decision and the kernel on stderr (every rank)
 */
#ifndef GPMC_BLAS_KERNEL_H
#define GPMC_BLAS_KERNEL_H

/* The kernel OpenBLAS is running (openblas_get_corename()), e.g. "SkylakeX", "Prescott". */
const char *gpmc_blas_corename(void);

/* How that kernel was chosen: "detected" (OpenBLAS's own detection), "auto" (gpmc set
 * OPENBLAS_CORETYPE and re-executed), "user" (OPENBLAS_CORETYPE came from the user).
 * Depends only on the environment. */
const char *gpmc_blas_kernel_origin(void);

/* Call first thing in main(), before MPI_Init and before any other output or state.
 * If OpenBLAS runs a generic kernel on a CPU with AVX-512 (-> "SkylakeX") or AVX2+FMA
 * (-> "Haswell"), OPENBLAS_CORETYPE is unset, GPMC_BLAS_REEXEC is not "0" and the process
 * is the program itself (not under valgrind or a loader), it sets OPENBLAS_CORETYPE and
 * GPMC_BLAS_REEXEC_DONE=1 and execv()s /proc/self/exe with argv: it does not return then.
 * Otherwise (or if execv fails: one warning) it returns and the program goes on with the
 * kernel it has. The decision depends only on the environment, argv[0] and the CPU flags,
 * so every rank of a node takes the same one; warnings come from rank 0 only (read from
 * OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK or SLURM_PROCID, as MPI is not up yet).
 * argv must be main()'s argv (argv[argc] == NULL). */
void gpmc_blas_kernel_select(int argc, char **argv);

#endif
