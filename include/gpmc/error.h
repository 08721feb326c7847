/* Error reporting: library functions return a status and leave one message here,
 * with the place it happened, so the CLI can print `gpmc: error: <where>: <what>`. */
#ifndef GPMC_ERROR_H
#define GPMC_ERROR_H

/* Exit codes of the gpmc command (documented in the README). */
enum {
    GPMC_EXIT_OK = 0,
    GPMC_EXIT_FAILURE = 1,   /* runtime failure: I/O, library error */
    GPMC_EXIT_USAGE = 2,     /* bad command line or bad spec; nothing was computed */
    GPMC_EXIT_RESUMABLE = 3  /* stopped by SIGTERM/SIGINT after a checkpoint: `gpmc resume` */
};

/* Status codes returned by library functions. */
enum { GPMC_OK = 0, GPMC_EINVAL = 1, GPMC_EIO = 2, GPMC_ENOMEM = 3, GPMC_ENUM = 4,
       GPMC_ESTOPPED = 5 /* a trial ended early on a stop request: discarded, not a failure */ };

/* Record an error (printf-style) and return `status`, so callers can write
 * `return gpmc_error(GPMC_EINVAL, "spec.ini:3: key 'n'", "must be >= 1");`. */
int gpmc_error(int status, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the current message with an outer location ("run: " + "spec.ini:3: ..."). */
int gpmc_error_wrap(int status, const char *where);

const char *gpmc_error_message(void);
void gpmc_error_clear(void);

/* Install gpmc's handlers for the libraries that would otherwise abort the process:
 * GSL's default handler calls abort(); this one records the error (count and message) and
 * returns, so every GSL result is checked by its caller (status, or NaN/range). Called
 * first thing by the gpmc command; numerics that call GSL install it around their calls. */
void gpmc_error_library_init(void);
void gpmc_gsl_record(const char *reason, const char *file, int line, int gsl_errno);
unsigned long gpmc_gsl_error_count(void); /* errors recorded so far */
const char *gpmc_gsl_last_error(void);

#endif
