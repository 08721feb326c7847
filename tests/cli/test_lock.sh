#!/bin/sh
# One writer per results file (FILE.lock), resume refuses an unwritable place before any
# compute, and a stop at any moment, even during start-up, exits 3 with a resumable file.
. tests/mpi/lib.sh
slow_spec "$tmp/s.ini" 60
# An interrupted file: a run stopped by SIGTERM after its first checkpoint.
"$GPMC" run "$tmp/s.ini" -o "$tmp/a.h5" 2>/dev/null & pid=$!
wait_for "$tmp/a.h5"; kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 3 ] && ok "SIGTERM after the first checkpoint: exit 3" || notok "SIGTERM: exit 3" "rc=$rc"
cp "$tmp/a.h5" "$tmp/a0.h5"; cp "$tmp/a.h5" "$tmp/a1.h5"

"$GPMC" resume "$tmp/a.h5" 2>"$tmp/errA" & pidA=$!
wait_for "$tmp/a.h5.lock"
# The holder is stopped (it keeps its lock) while the three writers below try, so it cannot
# finish first however slow the machine: each must be refused by the lock itself (under
# ASan on a loaded machine a 120-trial resume ended before the merge started, which then
# rightly overwrote the finished file).
kill -STOP $pidA
t0=$(now)
"$GPMC" resume "$tmp/a.h5" 2>"$tmp/errB"; rc=$?
t1=$(now)
el=$(elapsed "$t0" "$t1")
refuse=$el
# "At once": refused while the holder still runs (it did not wait for the lock), and within
# 2 s in the plain build (under ASan a process alone takes ~2 s to start and exit).
alive=0; kill -0 $pidA 2>/dev/null && alive=1
lim=2; case $BUILD in *asan*) lim=8 ;; esac
[ $rc -eq 2 ] && grep -q "being written by process $pidA" "$tmp/errB" && [ $alive -eq 1 ] \
    && [ "$(within "$el" "$lim")" = 1 ] \
    && ok "a second resume of one file is refused at once (exit 2, names pid $pidA)" \
    || notok "second resume refused" "rc=$rc ${el}s holder alive=$alive $(cat "$tmp/errB")"
"$GPMC" run "$tmp/s.ini" -o "$tmp/a.h5" --force 2>"$tmp/errC"; rc=$?
[ $rc -eq 2 ] && grep -q "being written by process $pidA" "$tmp/errC" \
    && ok "run --force onto a file being resumed is refused (exit 2)" \
    || notok "run --force onto a resumed file" "rc=$rc $(cat "$tmp/errC")"
"$GPMC" merge "$tmp/a.h5" "$tmp/a0.h5" --force 2>"$tmp/errD"; rc=$?
[ $rc -eq 2 ] && grep -q "being written by process" "$tmp/errD" \
    && ok "merge --force onto a file being resumed is refused (exit 2)" \
    || notok "merge --force onto a resumed file" "rc=$rc $(cat "$tmp/errD")"
kill -CONT $pidA
wait $pidA; rc=$?
"$GPMC" run "$tmp/s.ini" -o "$tmp/ref.h5" 2>/dev/null
[ $rc -eq 0 ] && [ ! -e "$tmp/a.h5.lock" ] && same "$tmp/a.h5" "$tmp/ref.h5" trials points \
    && ok "the first resume finishes, bitwise equal, and removes its lock" \
    || notok "first resume" "rc=$rc $(tail -2 "$tmp/errA")"

# A lock left by a killed process is no lock: flock dies with its holder.
"$GPMC" resume "$tmp/a0.h5" 2>/dev/null & pid=$!
wait_for "$tmp/a0.h5.lock"; kill -KILL $pid; wait $pid 2>/dev/null
[ -e "$tmp/a0.h5.lock" ] && "$GPMC" resume "$tmp/a0.h5" 2>"$tmp/err" \
    && ok "a stale lock file of a killed process does not block resume" \
    || notok "stale lock" "$(cat "$tmp/err")"

# resume into a place it cannot write: refused before computing (exit 2). The file is the
# interrupted one (about 2 s of trials left in the plain build); "before computing" means
# within 1 s of what the lock refusal above took, the same start-up with no trial run.
ro=$tmp/ro
mkdir -p "$ro"
if [ "$(id -u)" = 0 ]; then
    mount -t tmpfs tmpfs "$ro" && cp "$tmp/a1.h5" "$ro/b.h5" && mount -o remount,ro "$ro"
else
    cp "$tmp/a1.h5" "$ro/b.h5"; chmod 555 "$ro"
fi
t0=$(now)
"$GPMC" resume "$ro/b.h5" 2>"$tmp/err"; rc=$?
t1=$(now)
el=$(elapsed "$t0" "$t1")
early=$(within "$el" "$refuse" 1)
[ $rc -eq 2 ] && grep -q "cannot write here" "$tmp/err" && [ "$early" = 1 ] \
    && ok "resume into an unwritable place: exit 2 before computing (${el}s, lock refusal ${refuse}s)" \
    || notok "resume unwritable" "rc=$rc ${el}s (lock refusal ${refuse}s) $(cat "$tmp/err")"
if [ "$(id -u)" = 0 ]; then umount "$ro"; else chmod 755 "$ro"; fi

# SIGTERM during start-up (before MPI is up, before the first trial): exit 3, and the file
# it leaves is finished by resume. (The handler is installed by a constructor, ~15 ms after
# the exec here: a signal before that has the default effect, which no program can catch;
# the shell's own sleep/fork take tens of ms, so the delays start at 0.15 s.)
for delay in 0.15 0.3 0.5; do
    rm -f "$tmp/e.h5"
    "$GPMC" run "$tmp/s.ini" --trials 4 -o "$tmp/e.h5" 2>"$tmp/err" & pid=$!
    sleep $delay; kill -TERM $pid; wait $pid; rc=$?
    if [ $rc -eq 0 ]; then ok "SIGTERM after ${delay}s: finished first (exit 0)"; continue; fi
    [ $rc -eq 3 ] && "$GPMC" resume "$tmp/e.h5" 2>>"$tmp/err" \
        && ok "SIGTERM after ${delay}s of start-up: exit 3, then resume finishes" \
        || notok "SIGTERM after ${delay}s" "rc=$rc $(cat "$tmp/err")"
done
finish
