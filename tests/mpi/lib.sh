# Shared helpers of the shell suites: report lines and a scratch dir.
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
GPMC=$(pwd)/$BUILD/gpmc
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
MPIRUN="mpirun --oversubscribe --bind-to none"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nfail=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; nfail=$((nfail + 1)); }
# check NAME CMD...: ok when CMD succeeds.
check() { name=$1; shift; if out=$("$@" 2>&1); then ok "$name"; else notok "$name" "$(echo "$out" | tail -3)"; fi; }
same() { "$PYTHON" tests/mpi/h5same.py "$@"; }
finish() { exit $((nfail > 0)); }
# slow_spec FILE TRIALS: a wdc spec of 2 points whose trials take ~20 ms each, for tests
# that must act while a run is under way (stops, locks, full disks, journals).
slow_spec() {
    cat >"$1" <<INI
[run]
experiment = wdc
trials = $2
seed = 3
[grid]
k = 5
n = 200, 400
[params]
pairs = 2000
search = 2000
angles = 64
INI
}
# now: wall seconds with nanoseconds; elapsed T0 T1: T1 - T0 (2 decimals); within E L
# [EXTRA]: 1 if E <= L + EXTRA, else 0 (the time bounds of the suites).
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
within() { awk -v e="$1" -v l="$2" -v x="${3:-0}" 'BEGIN { print (e <= l + x) }'; }
# wait_for FILE: until FILE exists (20 s at most).
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done; }
# done_of FILE -> "done total" from the file on disk (fails if unreadable).
done_of() { "$PYTHON" -c "
import h5py; d = h5py.File('$1', 'r')['trials/done'][()]; print(int(d.sum()), d.size)" 2>/dev/null; }
# wait_partial FILE: until a checkpoint with some but not all trials is on disk (<= 60 s).
wait_partial() {
    i=0
    while [ $i -lt 600 ]; do
        set -- "$1" $(done_of "$1")
        if [ -n "${2:-}" ] && [ "$2" -gt 0 ] && [ "$2" -lt "$3" ]; then return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
