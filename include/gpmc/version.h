/* What built this gpmc: generated into $(BUILD)/version.c by the Makefile, rewritten
 * only when it changes, so a new commit or new flags always reach the output files. */
#ifndef GPMC_VERSION_H
#define GPMC_VERSION_H

extern const char gpmc_version[];    /* release, e.g. "0.1.0" */
extern const char gpmc_git_commit[]; /* short hash, "-dirty" if the tree had changes */
extern const char gpmc_cflags[];     /* optimisation and sanitizer flags */

#endif
