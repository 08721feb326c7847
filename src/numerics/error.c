#include "gpmc/error.h"

#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char message[2048];

int gpmc_error(int status, const char *where, const char *fmt, ...)
{
    char what[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (where && *where)
        snprintf(message, sizeof message, "%s: %s", where, what);
    else
        snprintf(message, sizeof message, "%s", what);
    return status;
}

int gpmc_error_wrap(int status, const char *where)
{
    /* Shift the message right and put "where: " in front; truncate at the end. */
    size_t wl = strlen(where) + 2, ml = strlen(message);
    if (wl >= sizeof message)
        wl = sizeof message - 1;
    if (wl + ml >= sizeof message)
        ml = sizeof message - 1 - wl;
    memmove(message + wl, message, ml);
    message[wl + ml] = '\0';
    memcpy(message, where, wl - 2);
    message[wl - 2] = ':';
    message[wl - 1] = ' ';
    return status;
}

const char *gpmc_error_message(void) { return message[0] ? message : "unknown error"; }

void gpmc_error_clear(void) { message[0] = '\0'; }

/* ---- library error handlers ---- */

static unsigned long gsl_errors;
static char gsl_last[512];

void gpmc_gsl_record(const char *reason, const char *file, int line, int gsl_errno)
{
    gsl_errors++;
    snprintf(gsl_last, sizeof gsl_last, "GSL: %s (%s:%d, %s)", reason ? reason : "?",
             file ? file : "?", line, gsl_strerror(gsl_errno));
}

unsigned long gpmc_gsl_error_count(void) { return gsl_errors; }

const char *gpmc_gsl_last_error(void) { return gsl_last[0] ? gsl_last : "GSL: no error"; }

void gpmc_error_library_init(void)
{
    /* GSL's default handler calls abort(): a single non-converging special function would
     * take every computed trial with it. Record instead; callers check results. */
    gsl_set_error_handler(gpmc_gsl_record);
}
