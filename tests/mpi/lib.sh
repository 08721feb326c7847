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
