#!/bin/sh
# The command line as a user meets it: help, list, info, progress, usage errors.
. tests/mpi/lib.sh
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 3
seed = 2
[grid]
k = 3
n = 6, 12
[params]
pairs = 50
search = 50
eps = 0.5, 1
INI
for c in run resume merge info list; do
    check "gpmc $c --help exits 0 and prints usage" sh -c "'$GPMC' $c --help | grep -q usage"
done
check "gpmc --help lists the commands" sh -c "'$GPMC' --help | grep -q 'resume FILE'"
check "gpmc list documents wdc's parameters and outputs" sh -c \
    "'$GPMC' list | grep -q '^wdc' && '$GPMC' list | grep -q 'store_matrices' && '$GPMC' list | grep -q '/trials/eps_hat'"
"$GPMC" nosuch >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown command 'nosuch'" "$tmp/err" && ok "unknown command: exit 2 with message" \
    || notok "unknown command: exit 2 with message" "rc=$rc"
GPMC_PROGRESS_SECONDS=0 "$GPMC" run "$tmp/s.ini" -o "$tmp/a.h5" 2>"$tmp/progress" >/dev/null
grep -q "^gpmc: 6/6 trials (100%)" "$tmp/progress" && grep -q "ETA" "$tmp/progress" \
    && ok "progress lines on a log (done/total, rate, ETA)" || notok "progress lines" "$(cat "$tmp/progress")"
"$GPMC" info "$tmp/a.h5" >"$tmp/info" 2>&1
grep -q "2 points x 3 trials, 6 done" "$tmp/info" && grep -q "P(eps_hat<=0.5)" "$tmp/info" \
    && [ "$(grep -c '^ *3 ' "$tmp/info")" -eq 2 ] \
    && ok "info prints one row per point with quantiles and P(eps_hat <= eps)" \
    || notok "info table" "$(cat "$tmp/info")"
echo "not hdf5" >"$tmp/junk.h5"
"$GPMC" info "$tmp/junk.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "gpmc: error: .*junk.h5" "$tmp/err" && ok "info on a non-HDF5 file: exit 2 naming it" \
    || notok "info on a non-HDF5 file" "rc=$rc $(cat "$tmp/err")"
"$GPMC" resume "$tmp/missing.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "missing.h5" "$tmp/err" && ok "resume of a missing file: exit 2 naming it" \
    || notok "resume of a missing file" "rc=$rc $(cat "$tmp/err")"
"$GPMC" run "$tmp/s.ini" -o "$tmp/b.h5" --shard 3/2 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "shard" "$tmp/err" && [ ! -e "$tmp/b.h5" ] && ok "bad --shard: exit 2, no file" \
    || notok "bad --shard" "rc=$rc $(cat "$tmp/err")"
"$GPMC" run "$tmp/s.ini" -o "$tmp/c.h5" --trials 2 --seed 9 --set n=7 2>/dev/null
check "--trials, --seed and --set reach the file" "$PYTHON" -c "
import h5py, sys; f = h5py.File('$tmp/c.h5', 'r')
sys.exit(0 if f.attrs['trials'] == 2 and f.attrs['seed'] == 9 and list(f['grid/n'][:]) == [7] else 1)"
"$GPMC" run "$tmp/s.ini" -o "$tmp/d.h5" --dry-run >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "2 points x 3 trials = 6 tasks" "$tmp/out" && [ ! -e "$tmp/d.h5" ] \
    && [ -z "$(ls "$tmp" | grep probe)" ] \
    && ok "--dry-run validates and prints the plan, writes nothing" || notok "--dry-run" "rc=$rc $(cat "$tmp/out")"
finish
