/* OpenBLAS kernel selection: see include/gpmc/blas_kernel.h. */
#include "gpmc/blas_kernel.h"
#include "gpmc/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenBLAS's own API; its cblas.h cannot be included next to gsl_cblas.h. */
char *openblas_get_corename(void);
char *openblas_get_config(void);

#define CORETYPE "OPENBLAS_CORETYPE"
#define MARKER "GPMC_BLAS_REEXEC_DONE"
#define OPTOUT "GPMC_BLAS_REEXEC"

const char *gpmc_blas_corename(void)
{
    const char *c = openblas_get_corename();
    return c && *c ? c : "unknown";
}

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

const char *gpmc_blas_kernel_origin(void)
{
    if (!env_set(CORETYPE))
        return "detected";
    return env_set(MARKER) ? "auto" : "user";
}

/* OpenBLAS's names (driver/others/dynamic.c) of the kernels without AVX2: what it falls
 * back to when it does not recognise a CPU, or older CPUs' own kernels. A name not listed
 * (Haswell, Zen, SkylakeX, Cooperlake, a newer one) is never replaced. */
static int generic_kernel(const char *core)
{
    static const char *const names[] = {
        "Unknown", "Katmai",      "Coppermine", "Northwood", "Prescott", "Banias",
        "Atom",    "Core2",       "Penryn",     "Dunnington", "Nehalem", "Athlon",
        "Opteron", "Opteron_SSE3", "Barcelona", "Nano",      "Bobcat",  "Sandybridge",
        "Bulldozer", "Piledriver",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(core, names[i]) == 0)
            return 1;
    return 0;
}

/* The kernel this CPU can run best among those we choose from, or NULL. The checks of
 * GCC's __builtin_cpu_supports include the OS's support (XSAVE state) for the registers. */
static const char *cpu_kernel(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (avx2)
        return "Haswell";
#endif
    return NULL;
}

static int rank0(void)
{
    const char *r = gpmc_cli_launcher_rank();
    return !r || strcmp(r, "0") == 0;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Is /proc/self/exe this program, so that executing it again with argv restarts it? Not
 * under valgrind (exec would leave the tool, or run it with our arguments) or when started
 * through a loader or emulator (ld.so, qemu: /proc/self/exe is that program). */
static int exe_is_us(const char *argv0, const char **why)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) {
        *why = "kept (no restart under valgrind)";
        return 0;
    }
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        *why = "kept (/proc/self/exe is not readable)";
        return 0;
    }
    exe[len] = '\0';
    static const char deleted[] = " (deleted)"; /* the binary was replaced since the start */
    size_t n = (size_t)len, nd = sizeof deleted - 1;
    if (n > nd && strcmp(exe + n - nd, deleted) == 0)
        exe[n - nd] = '\0';
    if (strcmp(base(exe), base(argv0)) == 0)
        return 1;
    struct stat a, b; /* argv[0] may be a link with another name */
    if (stat(argv0, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return 1;
    *why = "kept (no restart: argv[0] is not /proc/self/exe, started through a loader?)";
    return 0;
}

static void debug_line(int debug, const char *what)
{
    if (!debug)
        return;
    const char *r = gpmc_cli_launcher_rank();
    fprintf(stderr, "gpmc: blas: rank %s: kernel %s (%s): %s\n", r ? r : "-",
            gpmc_blas_corename(), gpmc_blas_kernel_origin(), what);
}

void gpmc_blas_kernel_select(int argc, char **argv)
{
    const char *dbg = getenv("GPMC_BLAS_DEBUG");
    int debug = dbg && *dbg && strcmp(dbg, "0") != 0;
    const char *core = gpmc_blas_corename();
    const char *want = generic_kernel(core) ? cpu_kernel() : NULL;
    if (!want) {
        debug_line(debug, "in use");
        return;
    }
    const char *opt = getenv(OPTOUT);
    if (env_set(CORETYPE)) {
        /* The user's choice stands; if it was ours and changed nothing, say so once. */
        if (env_set(MARKER) && rank0())
            fprintf(stderr,
                    "gpmc: warning: OpenBLAS still runs its generic '%s' kernels although "
                    "OPENBLAS_CORETYPE=%s is set (an OpenBLAS without DYNAMIC_ARCH?)\n",
                    core, getenv(CORETYPE));
        debug_line(debug, "kept (OPENBLAS_CORETYPE set)");
        return;
    }
    if (env_set(MARKER)) { /* re-executed, but OPENBLAS_CORETYPE was removed meanwhile */
        debug_line(debug, "kept (" MARKER " set)");
        return;
    }
    if (opt && strcmp(opt, "0") == 0) {
        if (rank0())
            fprintf(stderr,
                    "gpmc: warning: OpenBLAS runs its generic '%s' kernels on this CPU, which "
                    "can run '%s' (several times faster); kept because " OPTOUT "=0. "
                    "Fix: export OPENBLAS_CORETYPE=%s\n",
                    core, want, want);
        debug_line(debug, "kept (" OPTOUT "=0)");
        return;
    }
    const char *config = openblas_get_config();
    if (!config || !strstr(config, "DYNAMIC_ARCH")) {
        /* The variable only matters to a DYNAMIC_ARCH build: restarting would not help. */
        debug_line(debug, "kept (OpenBLAS without DYNAMIC_ARCH)");
        return;
    }
    const char *why = "kept";
    if (argc < 1 || !argv || !argv[0] || !exe_is_us(argv[0], &why)) {
        debug_line(debug, argc < 1 || !argv || !argv[0] ? "kept (no argv)" : why);
        return;
    }
    if (setenv(CORETYPE, want, 1) != 0 || setenv(MARKER, "1", 1) != 0) {
        unsetenv(CORETYPE);
        unsetenv(MARKER);
        debug_line(debug, "kept (setenv failed)");
        return;
    }
    if (debug) {
        const char *r = gpmc_cli_launcher_rank();
        fprintf(stderr, "gpmc: blas: rank %s: kernel %s (generic): restarting with " CORETYPE
                "=%s\n", r ? r : "-", core, want);
    }
    fflush(stdout);
    fflush(stderr);
    /* Blocked across the exec (the new image's constructor unblocks them after installing
     * its handler), so a stop in this window is delivered, not fatal. */
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, &old);
    execv("/proc/self/exe", argv);
    int err = errno; /* only reached if execv failed */
    sigprocmask(SIG_SETMASK, &old, NULL);
    unsetenv(CORETYPE);
    unsetenv(MARKER);
    if (rank0())
        fprintf(stderr,
                "gpmc: warning: could not restart with OPENBLAS_CORETYPE=%s (execv "
                "/proc/self/exe: %s); going on with OpenBLAS's generic '%s' kernels. "
                "Fix: export OPENBLAS_CORETYPE=%s\n",
                want, strerror(err), core, want);
    debug_line(debug, "kept (execv failed)");
}
