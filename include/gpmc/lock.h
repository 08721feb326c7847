/* One writer per results file: an exclusive flock(2) on FILE.lock, held by rank 0 from
 * before the first trial to after the last write, so two `gpmc resume FILE` (or a
 * `run --force` onto a file being resumed) cannot compute the same trials and race on
 * FILE.tmp. The lock dies with its process (kill -9 included): no stale locks. flock may
 * not be enforced across hosts on some network file systems (old NFS, some Lustre
 * mounts): there it protects only processes on one node. */
#ifndef GPMC_LOCK_H
#define GPMC_LOCK_H

typedef struct {
    int fd;          /* -1: not held */
    char path[4096]; /* FILE.lock */
} gpmc_lock;

/* Take the lock of results file `file` without waiting. GPMC_OK, or GPMC_EINVAL with a
 * message naming the holder's pid when another process holds it (GPMC_EIO if the lock
 * file cannot be created). */
int gpmc_lock_acquire(gpmc_lock *lock, const char *file);
/* Release and remove FILE.lock (no-op if not held). */
void gpmc_lock_release(gpmc_lock *lock);

#endif
