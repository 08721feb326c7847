#!/bin/sh
# Run each libFuzzer harness for FUZZ_SECONDS; called by `make fuzz`.
#
# README (fuzzing). `make fuzz [FUZZ_SECONDS=60] [FUZZ_ARGS='...']` builds the gpmc library
# and the harnesses tests/fuzz/fuzz_*.c with clang (-fsanitize=fuzzer,address,undefined,
# FUZZ_CC=clang, in FUZZ_BUILD=build-fuzz/) and runs each for FUZZ_SECONDS (default 60):
#   fuzz_spec     the spec parser: input = spec text [\0 override]..., parsed, planned
#   fuzz_results  the result-file readers (gpmc_h5_read_origin, gpmc_stored_run_open with
#                 its trials, the summary): input = a recipe of HDF5-API mutations applied to
#                 a valid file the harness writes with gpmc itself (see its top comment)
# It is not part of `make check` or CI. It prints one line per harness (executions, exec/s,
# cov/ft, corpus size, crash or not) and exits 1 when a harness crashed. A crash leaves its
# input in build-fuzz/crashes/ and its report in build-fuzz/logs/<h>.log; reproduce with
# `build-fuzz/<h> <input>` (FUZZ_RESULTS_VERBOSE=1 shows what the readers returned,
# FUZZ_RESULTS_LIST=1 what the recipe indices name). Seeds live in tests/fuzz/corpus/<h>/
# (committed; new inputs go to build-fuzz/corpus/<h>/), per-harness flags in
# tests/fuzz/<h>.options. FUZZ_ARGS adds libFuzzer flags, e.g. '-fork=2 -ignore_crashes=1'
# to keep going after a crash, or '-runs=0' to only replay the corpus. Needs clang and its
# libFuzzer runtime (Debian: apt-get install clang libclang-rt-14-dev).
#
#   FUZZ_BUILD=build-fuzz FUZZ_SECONDS=60 FUZZ_ARGS='...' sh tests/fuzz/run_fuzz.sh fuzz_spec ...
#
# Per harness: the old crash inputs tests/fuzz/crashes/<h>-* are replayed (each must run
# clean now), then flags from tests/fuzz/<h>.options (e.g. -dict=, -max_len=), then FUZZ_ARGS;
# the committed seeds tests/fuzz/corpus/<h>/ are read, new inputs go to
# $FUZZ_BUILD/corpus/<h>/ (never into the committed seeds), crash inputs to
# $FUZZ_BUILD/crashes/<h>-crash-<sha1>, the full log to $FUZZ_BUILD/logs/<h>.log.
# Prints executions, exec/s, coverage (cov/ft of libFuzzer's last status line), and the
# crash with the top of its stack; exits 1 when any harness crashed (or failed to start).
set -u
B=${FUZZ_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
ARGS=${FUZZ_ARGS:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 GPMC_BLAS_REEXEC=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$B/logs" "$B/crashes"
failed=0
for h in "$@"; do
    bin=$B/$h
    seeds=tests/fuzz/corpus/$h
    work=$B/corpus/$h
    log=$B/logs/$h.log
    # Old crash inputs (tests/fuzz/crashes/<h>-*) first: each must now run clean.
    regress=
    for f in tests/fuzz/crashes/"$h"-*; do [ -f "$f" ] && regress="$regress $f"; done
    if [ -n "$regress" ]; then
        # shellcheck disable=SC2086
        if "$bin" $regress >"$B/logs/$h.regress.log" 2>&1; then
            echo "$h: $(echo $regress | wc -w) old crash inputs (tests/fuzz/crashes/) run clean"
        else
            failed=1
            echo "$h: REGRESSION: an old crash input crashes again, see $B/logs/$h.regress.log"
            grep -m1 -E '^SUMMARY: |runtime error:' "$B/logs/$h.regress.log" | sed 's/^/    /'
        fi
    fi
    opts=
    [ -f "tests/fuzz/$h.options" ] && opts=$(grep -v '^#' "tests/fuzz/$h.options" | tr '\n' ' ')
    mkdir -p "$work"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$B/crashes/$h-" $opts $ARGS "$work" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    status=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1)
    cov=$(printf '%s\n' "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$status" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
    crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tr '\n' ' ')
    printf '%-13s %s execs (%s/s), cov: %s ft: %s corp: %s' "$h" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ $rc -eq 0 ] && [ -z "$crash" ]; then
        echo ", no crash"
    else
        failed=1
        echo ", CRASH (exit $rc)"
        # The sanitizer's summary line and the first frames of the report.
        grep -m1 -E '^SUMMARY: |ERROR: libFuzzer|runtime error:' "$log" | sed 's/^/    /'
        grep -E '^ *#[0-9]+ 0x' "$log" | grep -v -E '__asan_|__ubsan_|fuzzer::|libc_start| _start ' \
            | head -5 | sed 's/ (BuildId: [0-9a-f]*)//; s/0x[0-9a-f]* in //; s/^ */    /'
        [ -n "$crash" ] && echo "    input: $crash"
        echo "    log: $log (reproduce: $bin <input>)"
    fi
done
exit $failed
