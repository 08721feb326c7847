#include "gpmc/progress.h"
#include "gpmc/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void gpmc_progress_init(gpmc_progress *pr, const gpmc_results *res, size_t total)
{
    pr->start = pr->last = gpmc_now();
    pr->total = total;
    pr->done0 = total - gpmc_results_todo(res);
    pr->work0 = gpmc_cost_done_seconds(res);
    pr->eta = NAN;
    pr->tty = isatty(STDERR_FILENO);
    const char *env = getenv("GPMC_PROGRESS_SECONDS");
    pr->interval = env ? atof(env) : (pr->tty ? 0.5 : 30.0);
    /* Without the model (out of memory) the ETA is "?", nothing worse. */
    pr->est = malloc((res->plan->P + 1) * sizeof *pr->est);
    if (gpmc_cost_init(&pr->cost, res->plan) != 0) {
        free(pr->est);
        pr->est = NULL;
    }
}

void gpmc_progress_free(gpmc_progress *pr)
{
    if (pr->est)
        gpmc_cost_free(&pr->cost);
    free(pr->est);
    pr->est = NULL;
}

double gpmc_progress_eta(gpmc_progress *pr, const gpmc_results *res)
{
    if (!pr->est)
        return NAN;
    double el = gpmc_now() - pr->start, work = gpmc_cost_done_seconds(res) - pr->work0;
    double remaining = gpmc_cost_remaining(&pr->cost, res, pr->est);
    if (gpmc_results_todo(res) == 0)
        return 0;
    return work > 0 && el > 0 && isfinite(remaining) ? remaining * el / work : NAN;
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

void gpmc_progress_update(gpmc_progress *pr, const gpmc_results *res, int force)
{
    double now = gpmc_now();
    if (!force && now - pr->last < pr->interval)
        return;
    pr->last = now;
    size_t done = pr->total - gpmc_results_todo(res);
    double el = now - pr->start, rate = el > 0 ? (double)(done - pr->done0) / el : 0;
    pr->eta = gpmc_progress_eta(pr, res);
    char eta[32];
    eta_text(pr->eta, eta, sizeof eta);
    fprintf(stderr, "%sgpmc: %zu/%zu trials (%.0f%%)  %.3g trials/s  ETA %s%s",
            pr->tty ? "\r" : "", done, pr->total,
            pr->total ? 100.0 * (double)done / (double)pr->total : 100.0, rate, eta,
            pr->tty ? "   " : "\n");
    fflush(stderr);
}

void gpmc_progress_finish(gpmc_progress *pr, const gpmc_results *res)
{
    gpmc_progress_update(pr, res, 1);
    if (pr->tty)
        fputc('\n', stderr);
}
