#!/bin/sh
# Resume is a normal path: a run stopped by SIGTERM (exit 3) or killed by SIGKILL after a
# checkpoint is finished by `gpmc resume`, and the result equals an uninterrupted run.
. tests/mpi/lib.sh
# Under ASan a trial is several times slower: fewer trials still leave the run long enough
# to be stopped mid-way.
trials=160
case $BUILD in *asan*) trials=60 ;; esac
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = $trials
seed = 11
[grid]
k = 8
n = 200, 400
[params]
pairs = 2000
search = 2000
INI
check "uninterrupted reference run" "$GPMC" run "$tmp/s.ini" -o "$tmp/ref.h5"

# SIGTERM to every rank (what srun --signal and scancel do), 2 ranks.
$MPIRUN -np 2 "$GPMC" run "$tmp/s.ini" -o "$tmp/term.h5" --checkpoint 0.2 2>"$tmp/term.err" &
pid=$!
if wait_partial "$tmp/term.h5"; then
    pkill -TERM -P $pid
    wait $pid; rc=$?
    [ $rc -eq 3 ] && ok "SIGTERM: exit code 3 (resumable)" || notok "SIGTERM: exit code 3 (resumable)" "rc=$rc: $(tail -2 "$tmp/term.err")"
    set -- $(done_of "$tmp/term.h5")
    [ -n "${1:-}" ] && [ "$1" -lt "$2" ] && ok "SIGTERM: partial file readable ($1/$2 done)" \
        || notok "SIGTERM: partial file readable" "done=${1:-unreadable}"
    grep -q "gpmc resume" "$tmp/term.err" && ok "SIGTERM: message says how to resume" \
        || notok "SIGTERM: message says how to resume" "$(cat "$tmp/term.err")"
    check "resume with 3 ranks" $MPIRUN -np 3 "$GPMC" resume "$tmp/term.h5"
    check "SIGTERM + resume equals uninterrupted (bitwise /trials, /points)" same "$tmp/ref.h5" "$tmp/term.h5" trials points
else
    kill $pid 2>/dev/null; wait $pid
    notok "SIGTERM: a partial checkpoint appeared" "no partial checkpoint within 60 s"
fi

# SIGTERM to mpirun (a user's kill): it forwards the signal; the ranks checkpoint, though
# mpirun itself always exits 1 after a signal.
$MPIRUN -np 2 "$GPMC" run "$tmp/s.ini" -o "$tmp/mpirun.h5" --checkpoint 0.2 2>"$tmp/mpirun.err" &
pid=$!
if wait_partial "$tmp/mpirun.h5"; then
    kill -TERM $pid
    wait $pid
    grep -q "continue with: gpmc resume" "$tmp/mpirun.err" && ok "SIGTERM to mpirun: ranks stop with a checkpoint" \
        || notok "SIGTERM to mpirun: ranks stop with a checkpoint" "$(tail -3 "$tmp/mpirun.err")"
    check "SIGTERM to mpirun: resume" "$GPMC" resume "$tmp/mpirun.h5"
    check "SIGTERM to mpirun + resume equals uninterrupted" same "$tmp/ref.h5" "$tmp/mpirun.h5" trials points
else
    kill $pid 2>/dev/null; wait $pid
    notok "SIGTERM to mpirun: a partial checkpoint appeared" "no partial checkpoint within 60 s"
fi

# SIGKILL: nothing is flushed on the way out; the last checkpoint must be a complete file.
"$GPMC" run "$tmp/s.ini" -o "$tmp/kill.h5" --checkpoint 0.2 2>/dev/null &
pid=$!
if wait_partial "$tmp/kill.h5"; then
    kill -KILL $pid; wait $pid 2>/dev/null
    set -- $(done_of "$tmp/kill.h5")
    [ -n "${1:-}" ] && ok "SIGKILL: last checkpoint is a complete HDF5 file ($1/$2 done)" \
        || notok "SIGKILL: last checkpoint is a complete HDF5 file" "unreadable"
    check "resume after SIGKILL" "$GPMC" resume "$tmp/kill.h5"
    check "SIGKILL + resume equals uninterrupted (bitwise)" same "$tmp/ref.h5" "$tmp/kill.h5" trials points
else
    kill $pid 2>/dev/null; wait $pid
    notok "SIGKILL: a partial checkpoint appeared" "no partial checkpoint within 60 s"
fi
check "resume of a complete file is a no-op that keeps it identical" sh -c \
    "cp '$tmp/ref.h5' '$tmp/ref2.h5' && '$GPMC' resume '$tmp/ref2.h5' && '$PYTHON' tests/mpi/h5same.py '$tmp/ref.h5' '$tmp/ref2.h5' trials points"
finish
