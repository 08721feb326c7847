#include "gpmc/error.h"

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
