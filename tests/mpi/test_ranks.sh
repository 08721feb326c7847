#!/bin/sh
# A trial depends only on (seed, point, trial): 1, 2 and 3 ranks give bitwise-identical
# /trials and /points, and so does a run with a different grid containing the same point.
. tests/mpi/lib.sh
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 5
seed = 7
[grid]
k = 3, 6
n/k = 2:6:2
[params]
pairs = 150
search = 150
INI
check "1 rank runs without mpirun" "$GPMC" run "$tmp/s.ini" -o "$tmp/r1.h5"
check "2 ranks" $MPIRUN -np 2 "$GPMC" run "$tmp/s.ini" -o "$tmp/r2.h5"
check "3 ranks (oversubscribed)" $MPIRUN -np 3 "$GPMC" run "$tmp/s.ini" -o "$tmp/r3.h5"
check "1 vs 2 ranks: /trials and /points bitwise identical" same "$tmp/r1.h5" "$tmp/r2.h5" trials points
check "1 vs 3 ranks: /trials and /points bitwise identical" same "$tmp/r1.h5" "$tmp/r3.h5" trials points
check "3 ranks: every rank ran trials (/timing/rank), rank 0 included" "$PYTHON" -c "
import h5py, numpy as np, sys
r = h5py.File('$tmp/r3.h5', 'r')['timing/rank'][()]
sys.exit(0 if set(np.unique(r)) == {0, 1, 2} else 1)"
# The point (k=6, n=24) alone, in a grid of its own: its trials must not change.
"$GPMC" run "$tmp/s.ini" -o "$tmp/one.h5" --set grid.k=6 --set n/k=4 >/dev/null 2>&1
check "a point's trials do not depend on the other points of the grid" "$PYTHON" -c "
import h5py, numpy as np, sys
a = h5py.File('$tmp/r1.h5'); b = h5py.File('$tmp/one.h5')
p = [i for i in range(len(a['grid/k'])) if a['grid/k'][i] == 6 and a['grid/n'][i] == 24][0]
sys.exit(0 if a['trials/eps_hat'][p].tobytes() == b['trials/eps_hat'][0].tobytes() else 1)"
finish
