#!/bin/sh
# Shards: `run --shard i/N` into separate files, `gpmc merge` gives the unsharded result;
# parts of different specs or seeds are refused.
. tests/mpi/lib.sh
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 7
seed = 5
[grid]
k = 4
n = 8, 16, 40
[params]
pairs = 100
search = 100
INI
"$GPMC" run "$tmp/s.ini" -o "$tmp/full.h5" 2>/dev/null
for i in 0 1 2; do "$GPMC" run "$tmp/s.ini" -o "$tmp/part$i.h5" --shard $i/3 2>/dev/null; done
check "merge of 3 shards" "$GPMC" merge "$tmp/merged.h5" "$tmp/part0.h5" "$tmp/part1.h5" "$tmp/part2.h5"
check "merged equals the unsharded run (bitwise /trials, /points)" same "$tmp/full.h5" "$tmp/merged.h5" trials points
check "merged file is marked complete and shard 0/1" "$PYTHON" -c "
import h5py, sys; f = h5py.File('$tmp/merged.h5', 'r')
sys.exit(0 if f.attrs['complete'] == 1 and f.attrs['shard'] == '0/1' else 1)"
"$GPMC" run "$tmp/s.ini" -o "$tmp/other.h5" --seed 6 --shard 1/3 2>/dev/null
"$GPMC" merge "$tmp/bad.h5" "$tmp/part0.h5" "$tmp/other.h5" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "other.h5" "$tmp/err" && [ ! -e "$tmp/bad.h5" ] \
    && ok "merge refuses a part with another seed, names it, writes nothing" \
    || notok "merge refuses a part with another seed" "rc=$rc $(cat "$tmp/err")"
finish
