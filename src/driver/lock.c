#include "gpmc/lock.h"
#include "gpmc/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pid the holder wrote, or -1. */
static long holder_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

int gpmc_lock_acquire(gpmc_lock *lock, const char *file)
{
    lock->fd = -1;
    if ((size_t)snprintf(lock->path, sizeof lock->path, "%s.lock", file) >= sizeof lock->path)
        return gpmc_error(GPMC_EINVAL, file, "path too long");
    /* The holder removes the lock file when done, so a lock taken on a file that was
     * removed meanwhile is no lock: retry until the locked inode is the one at the path. */
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return gpmc_error(GPMC_EIO, file, "cannot create the lock file '%s': %s", lock->path,
                              strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e != EWOULDBLOCK)
                return gpmc_error(GPMC_EIO, file, "cannot lock '%s': %s", lock->path, strerror(e));
            long pid = holder_pid(lock->path);
            char who[64] = "another process";
            if (pid > 0)
                snprintf(who, sizeof who, "process %ld", pid);
            return gpmc_error(GPMC_EINVAL, file,
                              "is being written by %s (it holds '%s'); wait for it to end or "
                              "stop it (SIGTERM checkpoints), then retry",
                              who, lock->path);
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(lock->path, &now) == 0 && held.st_ino == now.st_ino &&
            held.st_dev == now.st_dev) {
            char pid[32];
            int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)len) != len)
                (void)0; /* the pid is only for messages */
            lock->fd = fd;
            return GPMC_OK;
        }
        close(fd);
    }
    return gpmc_error(GPMC_EIO, file, "cannot lock '%s': it keeps being replaced", lock->path);
}

void gpmc_lock_release(gpmc_lock *lock)
{
    if (lock->fd < 0)
        return;
    unlink(lock->path); /* while still held: a newcomer then locks a fresh file */
    close(lock->fd);
    lock->fd = -1;
}
