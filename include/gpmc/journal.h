/* The journal: an append-only file FILE.journal of finished trials beside the last complete
 * FILE. A full write of FILE costs its whole size (10^6 points: minutes); an append costs
 * what changed. Checkpoints between full writes, and the checkpoint at a stop, append here;
 * the next full write folds the journal in and removes it. Readers of FILE (h5py) see the
 * last complete checkpoint; gpmc resume, info and merge replay the journal on top of it.
 *
 * Layout (native byte order, doubles as stored): a header {"GPMCJNL1", identity, P, T},
 * then records {RECORD_MAGIC, p, t, seconds, rank, len, len doubles, FNV-1a of the record}.
 * A record cut short by a kill (no or a bad checksum) ends the replay: it and anything after
 * it are ignored, and their trials are simply run again. */
#ifndef GPMC_JOURNAL_H
#define GPMC_JOURNAL_H

#include "gpmc/results.h"

#include <stdint.h>

typedef struct {
    char path[4096];   /* FILE.journal */
    uint64_t identity; /* of the run: spec text, overrides, seed, trials, shard */
    uint8_t *stored;   /* [P * T] 1 once the trial is in FILE or the journal */
    size_t appended;   /* records in the journal */
} gpmc_journal;

/* FILE.journal into out (GPMC_EINVAL if it does not fit). */
int gpmc_journal_path(char *out, size_t len, const char *file);

/* The identity that ties a journal to its run. */
uint64_t gpmc_journal_identity(const gpmc_plan *plan);

/* Start tracking for results file `file`: every trial done in `res` now counts as stored. */
int gpmc_journal_init(gpmc_journal *j, const char *file, const gpmc_results *res);
void gpmc_journal_free(gpmc_journal *j);
/* Append (and fsync) every done trial not yet stored; *added = how many. */
int gpmc_journal_append(gpmc_journal *j, const gpmc_results *res, size_t *added);
/* FILE was just written whole from res: the journal is folded in; remove it. */
void gpmc_journal_folded(gpmc_journal *j, const gpmc_results *res);

/* Replay FILE.journal, if any, into res (trials not done there yet; a record of a trial
 * that is done must be identical). *replayed = trials added. A journal of another run,
 * or records that do not fit the plan, are GPMC_EINVAL naming the file. */
int gpmc_journal_replay(const char *file, gpmc_results *res, size_t *replayed);

#endif
