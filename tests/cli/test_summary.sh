#!/bin/sh
# A summary can never cost the trials: statistics that fail are NaN with an `error`
# attribute, the run exits 0 (1 with --strict), and info/resume recompute them. The
# writer at every threshold-list length; Clopper-Pearson at >= 500 trials.
. tests/mpi/lib.sh
spec() { # spec FILE TRIALS EPS-LIST
    cat >"$1" <<INI
[run]
experiment = wdc
trials = $2
seed = 5
[grid]
k = 2
n = 10, 11, 12, 13
[params]
pairs = 1
search = 0
angles = 0
eps = $3
INI
}
# h5check FILE PYTHON-EXPR: the expression, with f open, must be true.
h5check() { "$PYTHON" -c "import h5py, numpy as np, sys
f = h5py.File('$1', 'r')
sys.exit(0 if ($2) else 1)"; }

spec "$tmp/s.ini" 30 "0.2, 0.4, 0.6"
GPMC_FAULT=summary "$GPMC" run "$tmp/s.ini" -o "$tmp/f.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "warning: .*could not be computed" "$tmp/err" \
    && ok "a failing summary: exit 0 with a warning" || notok "a failing summary" "rc=$rc $(cat "$tmp/err")"
h5check "$tmp/f.h5" "f['trials/done'][:].sum() == 120 and np.isfinite(f['trials/eps_hat'][:]).all()" \
    && ok "a failing summary: every trial is in the file" || notok "a failing summary: trials" "missing"
h5check "$tmp/f.h5" "'error' in f['summary/eps_hat_le'].attrs and np.isnan(f['summary/eps_hat_le/ci_low'][:]).all() \
    and np.isfinite(f['summary/eps_hat_le/rate'][:]).all()" \
    && ok "a failing summary: NaN intervals, attribute 'error' on the group" || notok "error attribute" "missing"
"$GPMC" info "$tmp/f.h5" >"$tmp/info" 2>&1
grep -q "0\.[0-9][0-9] \[0\.[0-9][0-9], [01]\.[0-9][0-9]\]" "$tmp/info" && ! grep -q "interval n/a" "$tmp/info" \
    && ok "info recomputes the intervals the file lacks" || notok "info recomputes" "$(cat "$tmp/info")"
GPMC_FAULT=summary "$GPMC" run "$tmp/s.ini" -o "$tmp/g.h5" --strict 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && h5check "$tmp/g.h5" "f['trials/done'][:].sum() == 120" \
    && ok "--strict: exit 1, trials still stored" || notok "--strict" "rc=$rc $(cat "$tmp/err")"
"$GPMC" resume "$tmp/f.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && h5check "$tmp/f.h5" "'error' not in f['summary/eps_hat_le'].attrs \
    and np.isfinite(f['summary/eps_hat_le/ci_low'][:]).all()" \
    && ok "resume recomputes the summary" || notok "resume recomputes" "rc=$rc $(cat "$tmp/err")"

# Points without a finished trial: NaN rates and intervals, n = 0, "n/a" in info.
"$GPMC" run "$tmp/s.ini" --trials 1 --shard 1/8 -o "$tmp/e.h5" 2>"$tmp/err"
h5check "$tmp/e.h5" "(f['summary/eps_hat_le/n'][:] == 0).any() and \
    all(np.isnan(f['summary/eps_hat_le/' + s][:][f['summary/eps_hat_le/n'][:] == 0]).all() \
        for s in ('rate', 'ci_low', 'ci_high'))" \
    && ok "a point with no trial: NaN rate and interval, n = 0" || notok "empty point" "$(cat "$tmp/err")"
"$GPMC" info "$tmp/e.h5" | grep -q "n/a" && ok "info prints n/a for a point with no trial" \
    || notok "info n/a" "$("$GPMC" info "$tmp/e.h5")"

# The writer at every threshold-list length 1..64 (64 is the limit; 41..64 overflowed);
# under ASan (2 s a run) the lengths around the old overflow and the ends.
bad=
lengths=$(seq -s ' ' 1 64)
case $BUILD in *asan*) lengths="1 2 3 39 40 41 42 63 64" ;; esac
for E in $lengths; do   # 8 at a time: each run is mostly MPI start-up
    spec "$tmp/l$E.ini" 2 "$(seq -s, 1 "$E")"
    ("$GPMC" run "$tmp/l$E.ini" -o "$tmp/l$E.h5" 2>"$tmp/l$E.err" || echo "$E(rc $?)" >>"$tmp/lbad") &
    [ $((E % 8)) -eq 0 ] && wait
done
wait
[ -s "$tmp/lbad" ] && bad="$(cat "$tmp/lbad")"
"$PYTHON" -c "import h5py, sys
for E in map(int, '$lengths'.split()):
    with h5py.File('$tmp/l%d.h5' % E, 'r') as f:
        g = f['summary/eps_hat_le']
        if g['rate'].shape != (4, E) or g['threshold'][-1] != E or g['k'][:].max() > 2:
            sys.exit('length %d: %s' % (E, g['rate'].shape))" 2>"$tmp/err" || bad="$bad $(cat "$tmp/err")"
[ -z "$bad" ] && ok "summary written for threshold-list lengths $(echo $lengths | cut -d' ' -f1)..64 ($(echo $lengths | wc -w) lengths)" \
    || notok "threshold-list lengths" "failed for:$bad"

# 2,000 trials, 64 thresholds (GSL's inverse aborted here): every interval finite and
# bracketing its rate.
spec "$tmp/big.ini" 2000 "$(seq -s, 1 64 | sed 's/\([0-9][0-9]*\)/\1e-2/g')"
$MPIRUN -np 2 "$GPMC" run "$tmp/big.ini" -o "$tmp/big.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && h5check "$tmp/big.h5" "all(np.isfinite(f['summary/eps_hat_le/' + s][:]).all() \
        for s in ('rate', 'ci_low', 'ci_high')) and \
    (f['summary/eps_hat_le/ci_low'][:] <= f['summary/eps_hat_le/rate'][:]).all() and \
    (f['summary/eps_hat_le/rate'][:] <= f['summary/eps_hat_le/ci_high'][:]).all() and \
    f['trials/done'][:].sum() == 8000" \
    && ok "2000 trials x 64 thresholds: finite intervals bracketing every rate" \
    || notok "2000 trials x 64 thresholds" "rc=$rc $(tail -3 "$tmp/err")"

# Several success-like fields (landscape: where descent ends): each has its rate and
# interval in /summary/<field>, the three partition the trials, and `gpmc info` shows a
# column each. At k = 1 the negative half-line is invariant, so from -x0 the descent ends
# at -rho_d x0 (up to the finite-width deviation) in most trials; at k = 5 it escapes.
cat >"$tmp/ls.ini" <<INI
[run]
experiment = landscape
trials = 30
seed = 1
[grid]
k = 1, 5
[params]
width = 200
depth = 2
start = angle
start_angle = 3.1
INI
"$GPMC" run "$tmp/ls.ini" -o "$tmp/ls.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && h5check "$tmp/ls.h5" "all(set(f['summary/' + g]) >= {'rate', 'ci_low', 'ci_high', 'k', 'n'} \
        for g in ('near_x0', 'near_neg_rho', 'elsewhere')) and \
    ((f['summary/near_x0/k'][:] + f['summary/near_neg_rho/k'][:] + f['summary/elsewhere/k'][:]) \
        == f['summary/near_x0/n'][:]).all() and (f['summary/near_x0/n'][:] == 30).all() and \
    f['summary/near_neg_rho/ci_low'][0] > 0.5 and f['summary/near_x0/ci_low'][1] > 0.5" \
    && "$GPMC" info "$tmp/ls.h5" | grep -q "near_x0 \[95% CI\].*near_neg_rho \[95% CI\].*elsewhere \[95% CI\]" \
    && ok "several success fields: rates + intervals each in /summary/<field>, a partition, info columns" \
    || notok "several success fields (landscape)" "rc=$rc $(tail -3 "$tmp/err")"
finish
