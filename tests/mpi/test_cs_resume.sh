#!/bin/sh
# A `cs` sweep stopped by SIGTERM in the middle (2 ranks) and resumed (3 ranks) equals an
# uninterrupted run bitwise: Algorithm 2's trials depend on their streams alone, whatever
# their iteration counts and the order they ran in.
. tests/mpi/lib.sh
cat >"$tmp/cs.ini" <<INI
[run]
experiment = cs
trials = 150
seed = 5
[grid]
k = 2, 4, 8
[params]
widths = 60,120
m = 40
noise = tau
noise_level = 1e-4
max_iter = 4000
INI
check "cs: uninterrupted reference run" "$GPMC" run "$tmp/cs.ini" -o "$tmp/ref.h5"
# Full checkpoints (no journal appends), so the partial state is in the file wait_partial reads:
# under ASan a full write costs enough that the journal would take the checkpoints.
GPMC_CHECKPOINT_JOURNAL=never $MPIRUN -np 2 "$GPMC" run "$tmp/cs.ini" -o "$tmp/cs.h5" \
    --checkpoint 0.1 2>"$tmp/cs.err" &
pid=$!
if wait_partial "$tmp/cs.h5"; then
    pkill -TERM -P $pid
    wait $pid; rc=$?
    set -- $(done_of "$tmp/cs.h5")
    [ $rc -eq 3 ] && [ -n "${1:-}" ] && [ "$1" -lt "$2" ] \
        && ok "cs: SIGTERM mid-sweep: exit 3 with $1/$2 trials stored" \
        || notok "cs: SIGTERM mid-sweep: exit 3 with a partial file" "rc=$rc done=${1:-?}: $(tail -2 "$tmp/cs.err")"
    check "cs: resume with 3 ranks" $MPIRUN -np 3 "$GPMC" resume "$tmp/cs.h5"
    check "cs: stop + resume equals uninterrupted (bitwise /trials)" same "$tmp/ref.h5" "$tmp/cs.h5" trials
else
    kill $pid 2>/dev/null; wait $pid
    notok "cs: a partial checkpoint appeared" "no partial checkpoint within 60 s"
fi
finish
