#!/bin/sh
# rric: a trial depends only on (seed, point, trial): 1 and 2 ranks give bitwise-identical
# /trials and /points (eps_hat, eps_span, the witnesses), over the measurement kinds.
. tests/mpi/lib.sh
cat >"$tmp/s.ini" <<INI
[run]
experiment = rric
trials = 4
seed = 11
[grid]
measurement = gaussian, bernoulli, subsampled, fourier
m = 10, 30
[params]
k = 3
widths = 10,40
quads = 200
search = 400
angles = 32
INI
check "rric: 1 rank" "$GPMC" run "$tmp/s.ini" -o "$tmp/r1.h5"
check "rric: 2 ranks" $MPIRUN -np 2 "$GPMC" run "$tmp/s.ini" -o "$tmp/r2.h5"
check "rric: 1 vs 2 ranks: /trials and /points bitwise identical" same "$tmp/r1.h5" "$tmp/r2.h5" trials points
check "rric: eps_hat <= eps_span in every trial (1e-9: rounding at n = 40)" "$PYTHON" -c "
import h5py, numpy as np, sys
f = h5py.File('$tmp/r1.h5', 'r')
h, s = f['trials/eps_hat'][()], f['trials/eps_span'][()]
sys.exit(0 if np.all(np.isfinite(h)) and np.all(h <= s + 1e-9) else 1)"
finish
