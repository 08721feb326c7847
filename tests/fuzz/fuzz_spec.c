/* libFuzzer harness for the spec parser (gpmc_spec_parse), run by `make fuzz`.
 *
 * Input: the spec text up to the first NUL byte; every further NUL-separated piece (at
 * most MAX_OVERRIDES, empty ones skipped) is one `--set key=value` override. A parsed
 * spec is then planned (gpmc_plan_init: every point's values, stream key and record
 * layout) when its grid is small enough to stay fast, and every fixed value is formatted
 * back to text the way the HDF5 writer does. Every outcome must be GPMC_OK or an error
 * status with a message: never a crash, a sanitizer report or a leak.
 *
 * Seeds: tests/fuzz/corpus/fuzz_spec/ (copies of jobs/specs/ *.ini, tests/specs/bad/ *.ini,
 * tests/analysis/wdc_small.ini and a few with overrides appended after a NUL). */
#include "gpmc/error.h"
#include "gpmc/plan.h"
#include "gpmc/spec.h"

#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OVERRIDES 8
#define MAX_PLAN_POINTS 10000 /* skip gpmc_plan_init above this (speed, not correctness) */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gsl_set_error_handler_off();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return 0;
}

/* The product of the axis lengths, saturating instead of wrapping. */
static size_t grid_points(const gpmc_spec *spec)
{
    size_t n = 1;
    for (size_t a = 0; a < spec->naxes; a++) {
        if (spec->axes[a].n && n > SIZE_MAX / spec->axes[a].n)
            return SIZE_MAX;
        n *= spec->axes[a].n;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    /* Split: text \0 override \0 override ... */
    char *overrides[MAX_OVERRIDES];
    size_t nov = 0;
    size_t textlen = strlen(buf);
    for (size_t i = textlen + 1; i < size && nov < MAX_OVERRIDES;) {
        size_t len = strlen(buf + i);
        if (len)
            overrides[nov++] = buf + i;
        i += len + 1;
    }

    gpmc_spec spec;
    memset(&spec, 0, sizeof spec);
    gpmc_error_clear();
    int st = gpmc_spec_parse(&spec, "fuzz.ini", buf, overrides, nov);
    if (st) {
        /* A failure must leave a message. */
        const char *msg = gpmc_error_message();
        if (!msg || !*msg || !strcmp(msg, "unknown error")) {
            fprintf(stderr, "fuzz_spec: status %d without an error message\n", st);
            abort();
        }
    } else {
        size_t P = grid_points(&spec);
        if (P != gpmc_spec_npoints(&spec)) {
            fprintf(stderr, "fuzz_spec: gpmc_spec_npoints %zu, axes give %zu\n",
                    gpmc_spec_npoints(&spec), P);
            abort();
        }
        char text[4096];
        for (size_t i = 0; i < spec.exp->nparams; i++)
            gpmc_value_format(&spec.exp->params[i], &spec.fixed[i], text, sizeof text);
        if (P <= MAX_PLAN_POINTS) {
            gpmc_plan plan;
            if (gpmc_plan_init(&plan, &spec, 0, 1) == GPMC_OK)
                gpmc_plan_free(&plan);
        }
    }
    gpmc_error_clear();
    gpmc_spec_free(&spec);
    free(buf);
    return 0;
}
