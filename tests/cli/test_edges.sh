#!/bin/sh
# Every registered experiment's edges, tested for free: tests/edges/edge_specs walks each
# experiment's parameter table and writes tiny specs at every parameter's minimum, its
# budget-bounded maximum and its default, lists of 1 and GPMC_LIST_MAX elements, grid
# axes of one value and of rounded or repeated values, and a few combinations; each runs
# under `timeout` (a few under mpirun -np 3), then tests/edges/check_file.py checks the
# outcome (exit 0 or 2, never a signal) and the file's invariants. One line per case.
#
# Env: BUILD, PYTHON; GPMC_EDGES_SUBSET=1 runs ~10 cases only (the default when BUILD is a
# sanitizer build, e.g. build-asan; GPMC_EDGES_SUBSET=0 forces the full sweep);
# GPMC_EDGES_TIMEOUT (seconds per command, default 20, 60 under sanitizers);
# GPMC_EDGES_JOBS (single-rank cases run at once, default: the number of cores).
. tests/mpi/lib.sh
start=$(date +%s)
PKGS=${PKGS:-"gsl hdf5 fftw3 openblas lapacke inih ompi-c"}

# The sanitizer flags the library was built with (the Makefile records them in version.c).
san=$(sed -n 's/.*gpmc_cflags\[\] = "\(.*\)";.*/\1/p' "$BUILD/version.c" 2>/dev/null \
      | tr ' ' '\n' | grep -- '^-f' | tr '\n' ' ')
subset=${GPMC_EDGES_SUBSET:-}
if [ -z "$subset" ]; then
    subset=0
    case "$san $(basename "$BUILD")" in *sanitize*|*asan*) subset=1 ;; esac
fi
case "$san" in *sanitize*) tmo_default=60 ;; *) tmo_default=20 ;; esac
TMO=${GPMC_EDGES_TIMEOUT:-$tmo_default}
export GPMC_EDGES_TIMEOUT=$TMO
# A case is mostly process start-up (measured: 0.1 s of CPU in 0.7 s of wall for a run and
# its info), so six lanes per core keep the cores busy (661 cases: 3 per core 139 s, 6 per
# core 124 s).
JOBS=${GPMC_EDGES_JOBS:-$((6 * $(nproc 2>/dev/null || echo 2)))}

if [ ! -x "$GPMC" ] || [ ! -f "$BUILD/libgpmc.a" ]; then
    notok "edges: build" "no $GPMC or $BUILD/libgpmc.a (make BUILD=$BUILD tests)"
    finish
fi

# The generator: $BUILD/tests/edge_specs if the Makefile built it from the current
# source, else compiled here with the Makefile's flags.
gen=$BUILD/tests/edge_specs
if [ ! -x "$gen" ] || [ tests/edges/edge_specs.c -nt "$gen" ] || [ "$BUILD/libgpmc.a" -nt "$gen" ]; then
    gen=$tmp/edge_specs
    libs=$(pkg-config --libs $PKGS | tr ' ' '\n' | grep -vx -- -lgslcblas | tr '\n' ' ')
    if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -g -D_POSIX_C_SOURCE=200809L -Iinclude \
            $(pkg-config --cflags $PKGS) $san tests/edges/edge_specs.c "$BUILD/libgpmc.a" \
            -o "$gen" $san $libs -lm >"$tmp/cc.log" 2>&1; then
        notok "edges: compile tests/edges/edge_specs.c" "$(tail -5 "$tmp/cc.log")"
        finish
    fi
fi
cases=$tmp/cases
out=$tmp/out
mkdir -p "$out"
if ! ASAN_OPTIONS=detect_leaks=0 "$gen" "$cases" 2>"$tmp/gen.log"; then
    notok "edges: edge_specs" "$(tail -3 "$tmp/gen.log")"
    finish
fi
echo "# $(cat "$tmp/gen.log")"

# The cases to run: "id ranks" lines (subset: only those tagged so).
# The sanitizer subset: the first 2 tagged cases of each experiment (all defaults, fewer
# tasks than ranks, one trial, ...): under ASan each case costs ~2 s of start-up.
awk -F'\t' -v sub_only="$subset" '
    sub_only == 1 && ($4 !~ /(^|,)subset(,|$)/ || ++taken[$2] > 2) { next }
    { print $1, ($4 ~ /(^|,)mpi(,|$)/ ? 3 : 1) }' "$cases/cases.tsv" >"$tmp/todo"

run_case() { # id ranks
    f=$out/$1.h5
    t0=$(now)
    if [ "$2" -gt 1 ]; then
        timeout -k 5 "$TMO" $MPIRUN -np "$2" "$GPMC" run "$cases/$1.ini" -o "$f" \
            >"$out/$1.out" 2>"$out/$1.err" </dev/null
    else
        timeout -k 5 "$TMO" "$GPMC" run "$cases/$1.ini" -o "$f" \
            >"$out/$1.out" 2>"$out/$1.err" </dev/null
    fi
    rc=$?
    t1=$(now)
    irc=-
    if [ -f "$f" ]; then
        timeout -k 5 "$TMO" "$GPMC" info "$f" >"$out/$1.info" 2>&1 </dev/null
        irc=$?
    fi
    printf '%s %s %s %s\n' "$2" "$rc" "$irc" "$(elapsed "$t0" "$t1")" \
        >"$out/$1.res"
}

# Single-rank cases in $JOBS lanes, then the MPI cases (3 ranks each) in a third as many.
lanes() { # NP_TEST NLANES: the cases whose rank count passes the test, spread over lanes
    lane=0
    while [ "$lane" -lt "$2" ]; do
        awk -v l="$lane" -v j="$2" "\$2 $1" "$tmp/todo" | awk -v l="$lane" -v j="$2" '(NR - 1) % j == l' \
            >"$tmp/lane$lane"
        (while read -r id np; do run_case "$id" "$np"; done <"$tmp/lane$lane") &
        lane=$((lane + 1))
    done
    wait
}
lanes "== 1" "$JOBS"
lanes "> 1" "$(( (JOBS + 2) / 3 ))"

"$PYTHON" tests/edges/check_file.py "$cases" "$out"
rc=$?
[ "$subset" = 1 ] && echo "# subset of the sweep (GPMC_EDGES_SUBSET=1 or a sanitizer build)"
echo "# edges: $(wc -l <"$tmp/todo") cases in $(($(date +%s) - start)) s (timeout $TMO s, $JOBS lanes)"
exit $((rc != 0 || nfail > 0))
