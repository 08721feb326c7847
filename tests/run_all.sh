#!/bin/sh
# Runs every suite and ends with one line: "N passed, N failed".
# Suites: C unit (cmocka), MPI ranks, resume, bad input, merge, pytest (analysis).
# A suite that cannot run counts as failed; nothing is skipped silently.
# Env: BUILD (build dir), PYTHON (python with h5py), GPMC_CHECK_SLURM=1 (add the SLURM suite).
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
passed=0
failed=0
skipped=0
log=$(mktemp -d)
t_unit=$(date +%s)
trap 'rm -rf "$log"' EXIT

add() { passed=$((passed + $1)); failed=$((failed + $2)); }

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)". The binaries are
# independent (each its own files and streams): they run one per core at a time, then are
# reported in name order.
ls "$BUILD"/tests/test_* 2>/dev/null | xargs -r -P "$(nproc 2>/dev/null || echo 2)" -I{} \
    sh -c 't="$1"; n=$(basename "$t"); [ -x "$t" ] || exit 0; "$t" >"$2/$n.out" 2>&1; echo $? >"$2/$n.rc"' \
    unit {} "$log"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    rc=$(cat "$log/$name.rc" 2>/dev/null || echo 1)
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    add "$p" "$f"
    if [ "$f" -ne 0 ]; then echo "FAIL unit $name:"; cat "$log/$name.out"; else echo "ok   unit $name ($p)"; fi
done
if ! ls "$BUILD"/tests/test_* >/dev/null 2>&1; then echo "FAIL unit: no test binaries in $BUILD/tests"; add 0 1; fi

# Shell suites print "ok - name" / "not ok - name: why" per check, and "skip - name: why"
# for a check this machine cannot run (e.g. the full-disk test needs root for a tmpfs). The SLURM suite
# (real daemons, root) runs when GPMC_CHECK_SLURM=1, as in CI.
slurm=
[ "${GPMC_CHECK_SLURM:-0}" = 1 ] && slurm=tests/slurm/run.sh
suites=$(ls tests/cli/test_*.sh tests/mpi/test_*.sh tests/specs/test_*.sh 2>/dev/null; echo $slurm)
# Suites that bound a time (ETA, efficiency, "at once", "early", a stop's latency), that
# race a running process (a signal once a checkpoint is seen: under load the run can end
# first), or that already use every core (the edge sweep's lanes, the SLURM daemons) run
# alone; the others wait mostly on process start-up, so they run one per core at a time.
# Every suite has its own scratch directory.
alone="cli_test_edges cli_test_eta cli_test_full_disk cli_test_journal cli_test_lock cli_test_memory \
       cli_test_stop mpi_test_cs_resume mpi_test_resume mpi_test_sched_efficiency slurm_run"
suite_name() { echo "$(basename "$(dirname "$1")")_$(basename "$1" .sh)"; }
export BUILD PYTHON
pool=
for s in $suites; do
    case " $alone " in *" $(suite_name "$s") "*) ;; *) pool="$pool $s" ;; esac
done
# pytest (mostly one Python process) runs beside the pool.
t_shell=$(date +%s)
havepy=0
if "$PYTHON" -c 'import pytest, h5py, numpy, matplotlib' 2>/dev/null; then
    havepy=1
    GPMC_BIN=$(pwd)/$BUILD/gpmc "$PYTHON" -m pytest -q -p no:cacheprovider tests/analysis \
        >"$log/pytest.out" 2>&1 &
    pypid=$!
fi
printf '%s\n' $pool | xargs -r -P "$(nproc 2>/dev/null || echo 2)" -I{} sh tests/run_suite.sh {} "$log"
[ $havepy = 1 ] && wait $pypid
t_alone=$(date +%s)
for s in $suites; do
    case " $alone " in *" $(suite_name "$s") "*) sh tests/run_suite.sh "$s" "$log" ;; esac
done
t_end=$(date +%s)
for s in $suites; do
    name=$(suite_name "$s")
    rc=$(cat "$log/$name.rc" 2>/dev/null || echo 1)
    secs=$(cat "$log/$name.secs" 2>/dev/null || echo 0)
    p=$(grep -c '^ok - ' "$log/$name.out" 2>/dev/null)
    f=$(grep -c '^not ok - ' "$log/$name.out" 2>/dev/null)
    s=$(grep -c '^skip - ' "$log/$name.out" 2>/dev/null)
    p=${p:-0}; f=${f:-0}; s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; fi  # ran nothing
    add "$p" "$f"
    skipped=$((skipped + s))
    [ "$s" -ne 0 ] && grep '^skip - ' "$log/$name.out" | sed "s/^/SKIP $name: /"
    if [ "$f" -ne 0 ]; then echo "FAIL $name (${secs}s):"; cat "$log/$name.out" 2>/dev/null; else echo "ok   $name ($p, ${secs}s)"; fi
done

# pytest: the analysis tools, against files written by this build's gpmc.
if [ $havepy = 1 ]; then
    p=$(grep -Eo '[0-9]+ passed' "$log/pytest.out" | tail -1 | cut -d' ' -f1)
    f=$(grep -Eo '[0-9]+ (failed|error)' "$log/pytest.out" | awk '{s+=$1} END {print s+0}')
    p=${p:-0}
    [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1   # pytest ran nothing: that is a failure
    add "$p" "$f"
    if [ "$f" -ne 0 ]; then echo "FAIL pytest:"; tail -40 "$log/pytest.out"; else echo "ok   pytest ($p)"; fi
else
    echo "FAIL pytest: $PYTHON cannot import pytest/h5py/numpy/matplotlib (make deps installs them)"
    add 0 1
fi

echo "# wall: unit binaries $((t_shell - t_unit)) s, suites one per core with pytest" \
    "$((t_alone - t_shell)) s, suites alone $((t_end - t_alone)) s"
if [ "$skipped" -ne 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
