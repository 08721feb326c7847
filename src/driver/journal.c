#include "gpmc/journal.h"
#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HEADER_MAGIC[8] = {'G', 'P', 'M', 'C', 'J', 'N', 'L', '1'};
#define RECORD_MAGIC UINT64_C(0x4452434552504d47) /* "GMPRECRD" */

typedef struct {
    char magic[8];
    uint64_t identity, P, T;
} header;

typedef struct {
    uint64_t magic, p, t;
    double seconds;
    int64_t rank;
    uint64_t len;
} record_head;

uint64_t gpmc_journal_identity(const gpmc_plan *plan)
{
    const gpmc_spec *spec = plan->spec;
    uint64_t h = gpmc_hash_str(GPMC_HASH_INIT, spec->text);
    for (size_t i = 0; i < spec->noverrides; i++)
        h = gpmc_hash_str(gpmc_hash_bytes(h, "\n", 1), spec->overrides[i]);
    uint64_t nums[4] = {spec->seed, (uint64_t)spec->trials, plan->shard_i, plan->shard_n};
    return gpmc_hash_bytes(h, nums, sizeof nums);
}

int gpmc_journal_path(char *out, size_t len, const char *file)
{
    if ((size_t)snprintf(out, len, "%s.journal", file) >= len)
        return gpmc_error(GPMC_EINVAL, file, "path too long");
    return GPMC_OK;
}

int gpmc_journal_init(gpmc_journal *j, const char *file, const gpmc_results *res)
{
    memset(j, 0, sizeof *j);
    int st = gpmc_journal_path(j->path, sizeof j->path, file);
    if (st)
        return st;
    size_t n = res->plan->P * res->plan->T;
    j->identity = gpmc_journal_identity(res->plan);
    j->stored = malloc(n + 1);
    if (!j->stored)
        return gpmc_error(GPMC_ENOMEM, file, "out of memory for the journal");
    memcpy(j->stored, res->done, n);
    return GPMC_OK;
}

void gpmc_journal_free(gpmc_journal *j)
{
    free(j->stored);
    j->stored = NULL;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *c = buf;
    while (len > 0) {
        ssize_t w = write(fd, c, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

int gpmc_journal_append(gpmc_journal *j, const gpmc_results *res, size_t *added)
{
    const gpmc_plan *plan = res->plan;
    *added = 0;
    int fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return gpmc_error(GPMC_EIO, j->path, "cannot open: %s", strerror(errno));
    struct stat sb;
    int st = fstat(fd, &sb) == 0 ? GPMC_OK : gpmc_error(GPMC_EIO, j->path, "%s", strerror(errno));
    if (!st && sb.st_size == 0) {
        header h = {{0}, j->identity, plan->P, plan->T};
        memcpy(h.magic, HEADER_MAGIC, sizeof h.magic);
        if (write_all(fd, &h, sizeof h))
            st = gpmc_error(GPMC_EIO, j->path, "cannot write: %s", strerror(errno));
    }
    /* One buffer per record: head, data, checksum, written with one write(2). */
    size_t cap = sizeof(record_head) + (plan->max_record + 1) * sizeof(double) + sizeof(uint64_t);
    unsigned char *buf = st ? NULL : malloc(cap);
    if (!st && !buf)
        st = gpmc_error(GPMC_ENOMEM, j->path, "out of memory");
    for (size_t p = 0; p < plan->P && !st; p++)
        for (size_t t = 0; t < plan->T && !st; t++) {
            size_t i = p * plan->T + t;
            if (!res->done[i] || j->stored[i])
                continue;
            size_t len = gpmc_plan_layout(plan, p)->total;
            record_head rh = {RECORD_MAGIC, p, t, res->seconds[i], res->rank[i], len};
            memcpy(buf, &rh, sizeof rh);
            memcpy(buf + sizeof rh, gpmc_results_record(res, p, t), len * sizeof(double));
            size_t body = sizeof rh + len * sizeof(double);
            uint64_t sum = gpmc_hash_bytes(GPMC_HASH_INIT, buf, body);
            memcpy(buf + body, &sum, sizeof sum);
            if (write_all(fd, buf, body + sizeof sum)) {
                st = gpmc_error(GPMC_EIO, j->path, "cannot write: %s", strerror(errno));
                break;
            }
            j->stored[i] = 1;
            j->appended++;
            (*added)++;
        }
    free(buf);
    if (fsync(fd) != 0 && !st)
        st = gpmc_error(GPMC_EIO, j->path, "cannot write: %s", strerror(errno));
    if (close(fd) != 0 && !st)
        st = gpmc_error(GPMC_EIO, j->path, "cannot write: %s", strerror(errno));
    /* A failed append leaves records whose trials were not marked stored: the next append
     * writes them again, and replay keeps the first good copy. */
    return st;
}

void gpmc_journal_folded(gpmc_journal *j, const gpmc_results *res)
{
    memcpy(j->stored, res->done, res->plan->P * res->plan->T);
    j->appended = 0;
    unlink(j->path);
}

int gpmc_journal_replay(const char *file, gpmc_results *res, size_t *replayed)
{
    const gpmc_plan *plan = res->plan;
    char path[4096];
    *replayed = 0;
    int st = gpmc_journal_path(path, sizeof path, file);
    if (st)
        return st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? GPMC_OK : gpmc_error(GPMC_EIO, path, "cannot read: %s", strerror(errno));
    header h;
    if (fread(&h, sizeof h, 1, f) != 1) {
        fclose(f);
        return GPMC_OK; /* killed while writing the header: nothing in it */
    }
    if (memcmp(h.magic, HEADER_MAGIC, sizeof h.magic) != 0)
        st = gpmc_error(GPMC_EINVAL, path, "not a gpmc journal");
    else if (h.identity != gpmc_journal_identity(plan) || h.P != plan->P || h.T != plan->T)
        st = gpmc_error(GPMC_EINVAL, path,
                        "belongs to another run than %s (spec, overrides, seed, trials or shard "
                        "differ): move it away to use %s alone", file, file);
    size_t cap = sizeof(record_head) + (plan->max_record + 1) * sizeof(double) + sizeof(uint64_t);
    unsigned char *buf = st ? NULL : malloc(cap);
    if (!st && !buf)
        st = gpmc_error(GPMC_ENOMEM, path, "out of memory");
    while (!st) {
        record_head rh;
        if (fread(&rh, sizeof rh, 1, f) != 1)
            break; /* the end, or a record cut short */
        size_t len = 0;
        if (rh.magic != RECORD_MAGIC || rh.p >= plan->P || rh.t >= plan->T ||
            rh.len != (len = gpmc_plan_layout(plan, (size_t)rh.p)->total)) {
            st = gpmc_error(GPMC_EINVAL, path, "record %zu does not fit the run (point %llu, "
                            "trial %llu, %llu values)", *replayed, (unsigned long long)rh.p,
                            (unsigned long long)rh.t, (unsigned long long)rh.len);
            break;
        }
        memcpy(buf, &rh, sizeof rh);
        uint64_t sum;
        if (fread(buf + sizeof rh, sizeof(double), len, f) != len || fread(&sum, sizeof sum, 1, f) != 1)
            break; /* cut short by a kill */
        if (sum != gpmc_hash_bytes(GPMC_HASH_INIT, buf, sizeof rh + len * sizeof(double)))
            break; /* a torn write: ignore it and what follows */
        const double *data = (const double *)(buf + sizeof rh);
        size_t i = (size_t)rh.p * plan->T + (size_t)rh.t;
        if (res->done[i]) {
            if (memcmp(gpmc_results_record(res, (size_t)rh.p, (size_t)rh.t), data,
                       len * sizeof(double)) != 0)
                st = gpmc_error(GPMC_EINVAL, path, "trial %llu of point %llu differs from %s",
                                (unsigned long long)rh.t, (unsigned long long)rh.p, file);
            continue;
        }
        gpmc_results_put(res, (size_t)rh.p, (size_t)rh.t, data, rh.seconds, (int)rh.rank);
        (*replayed)++;
    }
    free(buf);
    fclose(f);
    return st;
}
