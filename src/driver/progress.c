#include "gpmc/progress.h"
#include "gpmc/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void gpmc_progress_init(gpmc_progress *pr, size_t done0, size_t total)
{
    pr->start = pr->last = gpmc_now();
    pr->total = total;
    pr->done0 = done0;
    pr->tty = isatty(STDERR_FILENO);
    const char *env = getenv("GPMC_PROGRESS_SECONDS");
    pr->interval = env ? atof(env) : (pr->tty ? 0.5 : 30.0);
}

static void eta_text(double s, char *buf, size_t len)
{
    if (s != s || s < 0)
        snprintf(buf, len, "?");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void gpmc_progress_update(gpmc_progress *pr, size_t done, int force)
{
    double now = gpmc_now();
    if (!force && now - pr->last < pr->interval)
        return;
    pr->last = now;
    double el = now - pr->start, rate = el > 0 ? (double)(done - pr->done0) / el : 0;
    char eta[32];
    eta_text(rate > 0 ? (double)(pr->total - done) / rate : -1, eta, sizeof eta);
    fprintf(stderr, "%sgpmc: %zu/%zu trials (%.0f%%)  %.3g trials/s  ETA %s%s",
            pr->tty ? "\r" : "", done, pr->total,
            pr->total ? 100.0 * (double)done / (double)pr->total : 100.0, rate, eta,
            pr->tty ? "   " : "\n");
    fflush(stderr);
}

void gpmc_progress_finish(gpmc_progress *pr, size_t done)
{
    gpmc_progress_update(pr, done, 1);
    if (pr->tty)
        fputc('\n', stderr);
}
