#!/bin/sh
# Parallel efficiency of the scheduler, measured with real ranks: the `synthetic`
# experiment (trials sleep, so 32 ranks fit on two cores) on a grid whose trial cost grows
# x100 along it (seconds = log:0.05:5:12, 30 trials: 436 s of trials, 13.6 s of ideal wall
# on 32 ranks). Efficiency = trial seconds / (32 x (wall - start-up)), the start-up and
# tear-down of 32 ranks measured on a near-empty run just before. Today's order (the
# largest expected trials first, learned from probes; workers hold little beyond the task
# they compute) must give >= 90%; the order before it (point-major in grid order, 4 tasks
# per worker, rank 0 computing without serving) measured 47% here. A timing property:
# on a loaded machine it can only get worse, so the better of two attempts counts (both
# are printed). The model then predicts 1,024 ranks (>= 90%) and prints the heavy-tail
# case. Also: the results of 1 and 7 ranks are bitwise identical, whatever order.
. tests/mpi/lib.sh
case $BUILD in *asan*)
    echo "skip - scheduler efficiency with 32 ranks: ranks start far too slowly under ASan ($BUILD)"
    exit 0 ;;
esac
cat >"$tmp/grow.ini" <<INI
[run]
experiment = synthetic
trials = 30
seed = 1
[grid]
seconds = log:0.05:5:12
INI
# Tiny trials: run with --trials 1 it is the near-empty run; whole, it measures rank 0.
cat >"$tmp/tiny.ini" <<INI
[run]
experiment = synthetic
trials = 20000
seed = 1
[params]
seconds = 0
INI
"$PYTHON" - "$GPMC" "$tmp" <<'PY' >"$tmp/out" 2>&1
import re, subprocess, sys, time
import h5py
gpmc, tmp = sys.argv[1:3]
mpirun = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", "32"]
env = dict(__import__("os").environ, GPMC_SCHED_STATS="1", GPMC_PROGRESS_SECONDS="1000")
def run(spec, out, *extra):
    t0 = time.monotonic()
    r = subprocess.run(mpirun + [gpmc, "run", spec, "-o", out, "--force", *extra], env=env,
                       capture_output=True, text=True)
    return time.monotonic() - t0, r
best = 0
for attempt in (1, 2):
    base, r0 = run(f"{tmp}/tiny.ini", f"{tmp}/empty.h5", "--trials", "1")
    wall, r = run(f"{tmp}/grow.ini", f"{tmp}/grow.h5")
    if r0.returncode or r.returncode:
        print("run failed:", r0.stderr[-500:], r.stderr[-500:]); sys.exit(1)
    with h5py.File(f"{tmp}/grow.h5") as f:
        work = f["timing/trial_seconds"][()].sum()
    eff = work / (32 * (wall - base))
    st = re.search(r"scheduler: .*", r.stderr)
    sched_wall = float(re.search(r"wall ([0-9.e+-]+) s", st[0])[1])
    print(f"attempt {attempt}: {work:.1f} s of trials, wall {wall:.2f} s - start-up {base:.2f} s:"
          f" efficiency {eff:.3f} (scheduler phase alone {work / 32 / sched_wall:.3f}); {st[0]}")
    best = max(best, eff)
    if best >= 0.90:
        break
print(f"best {best:.3f}")
sys.exit(0 if best >= 0.90 else 1)
PY
[ $? -eq 0 ] && ok "32 ranks, growing-cost grid: efficiency >= 90%: $(tail -2 "$tmp/out" | head -1 | cut -c 1-200)" \
    || notok "32 ranks, growing-cost grid: efficiency >= 90%" "$(cat "$tmp/out")"

# The model (analysis/sched_model.py) replays the protocol at 128-4,096 ranks, 30 tasks per
# rank, drawing each point's trial times from the run above, with rank 0's cost per result
# measured here (its CPU time per result served, tiny trials on 32 ranks).
GPMC_SCHED_STATS=1 $MPIRUN -np 32 $GPMC run "$tmp/tiny.ini" -o "$tmp/tiny.h5" --force 2>"$tmp/tiny.err"
cost=$(sed -n 's/.*CPU (\([0-9.e+-]*\) us each).*/\1e-6/p' "$tmp/tiny.err")
if [ -n "$cost" ] && [ -f "$tmp/grow.h5" ]; then
    "$PYTHON" analysis/sched_model.py "$tmp/grow.h5" --ranks 128,1024,4096 --protocol new \
        --message-cost "$cost" --no-table >"$tmp/model" 2>&1
    "$PYTHON" analysis/sched_model.py --workload heavy --ranks 128,1024,4096 --protocol new \
        --message-cost "$cost" --no-table >>"$tmp/model" 2>&1
    cat "$tmp/model"
    eff=$(sed -n 's/.*1024 ranks, protocol new: efficiency \([0-9.]*\).*/\1/p' "$tmp/model" | head -1)
    "$PYTHON" -c "import sys; sys.exit(0 if float('${eff:-0}') >= 0.90 else 1)" \
        && ok "model, growing-cost grid from the measured run, 1,024 ranks: efficiency $eff >= 0.90 (rank 0: $cost s per result)" \
        || notok "model predicts >= 90% at 1,024 ranks" "$(cat "$tmp/model")"
else
    notok "model of 1,024 ranks" "no per-result cost measured ($(tail -2 "$tmp/tiny.err")) or no run file"
fi

cat >"$tmp/small.ini" <<INI
[run]
experiment = synthetic
trials = 10
seed = 4
[grid]
seconds = log:0.0005:0.005:4
[params]
spread = 1
INI
$GPMC run "$tmp/small.ini" -o "$tmp/one.h5" --force 2>/dev/null \
    && $MPIRUN -np 7 $GPMC run "$tmp/small.ini" -o "$tmp/seven.h5" --force 2>/dev/null
check "synthetic on 1 and 7 ranks: /trials bitwise identical (slept drawn from the streams)" \
    same "$tmp/one.h5" "$tmp/seven.h5" trials
finish
