#!/bin/sh
# `make bench`: the WDC pair evaluator against the BLAS bound (inside bench_wdc: the same
# two GEMMs alone, measured in the same run) and against a PyTorch peer (CPU, one
# thread) running the same batched evaluation. Prints every measurement and the ratio
# C/peer in pairs/s for each size. Then Algorithm 2 (bench_cs) against its BLAS floor and
# its NumPy and PyTorch peers (peer_cs.py). Then the RRIC and R2WDC evaluators
# (bench_conditions) against dgemm, with the WDC one, in one table.
#
# bench_wdc runs twice: on OpenBLAS's generic kernels (OPENBLAS_CORETYPE=Prescott, what
# OpenBLAS falls back to on a CPU it does not recognise) and on the kernel gpmc picks
# (include/gpmc/blas_kernel.h); the ratios auto/generic show what the choice is worth.
#
# Environment: BUILD (build tree, default build), PYTHON (default python3; if it cannot
# import torch, /usr/bin/python3 is tried: Debian's python3-torch lives there).
#
# A peer that cannot run (PyTorch not importable, or the peer fails) is reported by one
# line `peer: SKIPPED (why)` at the end, and the exit status stays 0: the C measurements
# above it still stand. `run_bench.sh --peer-only` runs only the peer part (no C ratios).
set -eu

peer_only=0
case "${1:-}" in
    --peer-only) peer_only=1 ;;
    "") ;;
    *) echo "usage: run_bench.sh [--peer-only]" >&2; exit 2 ;;
esac

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS
here=$(dirname "$0")
# val(key): the value of word key=value on the current line (the bench output's format).
awk_val='function val(key,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
    return ""
}'

c_out=
kern=
if [ "$peer_only" = 0 ]; then
    if [ ! -x "$BUILD/bench/bench_wdc" ]; then
        echo "run_bench: $BUILD/bench/bench_wdc not built (make $BUILD/bench/bench_wdc)" >&2
        exit 1
    fi

    echo "== C: $BUILD/bench/bench_wdc, generic BLAS kernel (OPENBLAS_CORETYPE=Prescott, one thread)"
    g_out=$(OPENBLAS_CORETYPE=Prescott "$BUILD/bench/bench_wdc")
    echo "$g_out"
    echo "== C: $BUILD/bench/bench_wdc, BLAS kernel as gpmc chooses it (one thread)"
    c_out=$(env -u OPENBLAS_CORETYPE -u GPMC_BLAS_REEXEC -u GPMC_BLAS_REEXEC_DONE "$BUILD/bench/bench_wdc")
    echo "$c_out"
    kern=$(echo "$c_out" | sed -n 's/^blas kernel: //p')

    echo "== ratio auto/generic (BLAS kernel $kern vs Prescott)"
    printf '%s\n%s\n' "$g_out" "$c_out" | awk -v kern="$kern" "$awk_val"'
        $1 == "blas" { run++ }
        $1 == "dgemm" { d[run] = val("gflops"); dn = val("n") }
        $1 == "wdc_eval" { s = "wdc_eval n=" val("n") " k=" val("k"); e[s, run] = val("pairs_per_s")
                           if (run == 1) order[++ne] = s }
        $1 == "wdc_trial" { s = "wdc_trial n=" val("n") " k=" val("k"); e[s, run] = val("pairs_per_s")
                            if (run == 1) order[++ne] = s }
        END {
            if (d[1] > 0)
                printf "dgemm n=%s: Prescott %.2f GFLOP/s, %s %.2f GFLOP/s, ratio = %.2f\n",
                       dn, d[1], kern, d[2], d[2] / d[1]
            for (i = 1; i <= ne; i++) if (e[order[i], 1] > 0)
                printf "%s: Prescott %.0f pairs/s, %s %.0f pairs/s, ratio = %.2f\n", order[i],
                       e[order[i], 1], kern, e[order[i], 2], e[order[i], 2] / e[order[i], 1]
        }'
fi

# The shared search's climb on the WDC (bench_wdc's wdc_climb lines): candidates per second
# with the screen (children ranked by certified Rayleigh-quotient bounds, LAPACK only for
# the kept child of each parent) and without it, same W, budget and run (goal: >= 2x).
if [ "$peer_only" = 0 ]; then
    echo "== climb: screened vs exact candidates (BLAS kernel $kern)"
    echo "$c_out" | awk "$awk_val"'
        $1 == "wdc_climb" {
            printf "wdc climb n=%s k=%s: screened %.0f candidates/s, exact %.0f candidates/s, speedup = %.2f (best found: %.4f vs %.4f)\n",
                   val("n"), val("k"), val("screened_per_s"), val("exact_per_s"), val("speedup"),
                   val("eps_screened"), val("eps_exact")
        }'
fi

# Algorithm 2 (cs) at the paper's 2-layer setting: C against the BLAS floor (the products
# an iteration cannot avoid, timed alone in the same run) and against the NumPy code its
# authors would write and a PyTorch CPU version (tests/bench/peer_cs.py). Ratios are of
# iteration rates: C/peer > 1 means C is faster; C/floor = floor time / C time (goal:
# >= 0.83, i.e. C within 1.2x of the floor).
if [ "$peer_only" = 0 ] && [ -x "$BUILD/bench/bench_cs" ]; then
    echo "== C: $BUILD/bench/bench_cs (Algorithm 2, k=20, widths 700,600, m=300; one thread)"
    cs_out=$(env -u OPENBLAS_CORETYPE -u GPMC_BLAS_REEXEC -u GPMC_BLAS_REEXEC_DONE "$BUILD/bench/bench_cs")
    echo "$cs_out"
    cs_kern=$(echo "$cs_out" | sed -n 's/^blas kernel: //p')
    cs_py=/usr/bin/python3
    "$PYTHON" -c 'import torch' 2>/dev/null && cs_py=$PYTHON
    echo "== peers: $cs_py tests/bench/peer_cs.py (NumPy; PyTorch CPU, one thread; kernel $cs_kern)"
    cs_peer=$(${cs_kern:+env OPENBLAS_CORETYPE=$cs_kern} "$cs_py" "$here/peer_cs.py" 2>&1) || true
    echo "$cs_peer"
    echo "== cs ratios (BLAS kernel $cs_kern)"
    printf '%s\n%s\n' "$cs_out" "$cs_peer" | awk "$awk_val"'
        $1 == "cs_iter" { c = val("ms_per_iter") }
        $1 == "cs_floor" { fl = val("ms_per_iter") }
        $1 == "peer_cs" { impl[++np] = val("impl"); ms[np] = val("ms_per_iter"); why[np] = val("skipped") }
        END {
            tag = "cs k=20 widths 700,600 m=300"
            for (i = 1; i <= np; i++) {
                name = impl[i] == "numpy" ? "NumPy" : "PyTorch"
                if (ms[i] > 0 && c > 0)
                    printf "%s: C %.3f ms/iter, %s %.3f ms/iter, C/peer = %.2f\n", tag, c, name, ms[i], ms[i] / c
                else
                    printf "%s: %s peer SKIPPED (%s)\n", tag, name, why[i]
            }
            if (c > 0 && fl > 0)
                printf "%s: C %.3f ms/iter, BLAS floor %.3f ms/iter (C takes %.2fx the floor), C/floor = %.2f\n", tag, c, fl, c / fl, fl / c
        }'
fi

# The condition evaluators (bench_conditions: RRIC quadruples, R2WDC tuples and cell pairs) with the WDC
# pairs above: each rate next to dgemm on the evaluator's own GEMM shapes and the square
# dgemm, both measured in the same process, and the BLAS kernel that ran.
if [ "$peer_only" = 0 ] && [ -x "$BUILD/bench/bench_conditions" ]; then
    echo "== C: $BUILD/bench/bench_conditions (RRIC, R2WDC, joint and convolutional WDC evaluators, ddjac Monte Carlo Gram; one thread)"
    cond_out=$(env -u OPENBLAS_CORETYPE -u GPMC_BLAS_REEXEC -u GPMC_BLAS_REEXEC_DONE "$BUILD/bench/bench_conditions")
    echo "$cond_out"
    echo "== conditions vs dgemm (same run; GFLOP/s over each evaluator's GEMMs)"
    printf '%s\n%s\n' "$c_out" "$cond_out" | awk "$awk_val"'
        $1 == "blas" { kern = $3 }
        $1 == "dgemm" { sq = val("gflops"); sqn = val("n") }
        $1 ~ /_eval$/ && val("pct_of_dgemm") != "" {
            rate = ""; unit = ""
            for (i = 2; i <= NF; i++) if ($i ~ /_per_s=/) {
                split($i, kv, "="); rate = kv[2]; unit = kv[1]; sub(/_per_s$/, "", unit)
            }
            tag = $1; sub(/_eval$/, "", tag)
            for (i = 2; i <= NF && $i !~ /_per_s=/; i++) tag = tag " " $i
            printf "%s: %.0f %s/s, %.2f GFLOP/s = %.1f%% of dgemm on its shapes (%.2f GFLOP/s); square dgemm n=%s %.2f GFLOP/s (evaluator/square %.2f); BLAS kernel %s\n",
                   tag, rate, unit, val("gflops"), val("pct_of_dgemm"), val("dgemm_gflops"),
                   sqn, sq, (sq > 0 ? val("gflops") / sq : 0), kern
        }'
fi

# peer: SKIPPED (why): the one line a reader of the bench output must not miss.
skip_peer() {
    echo
    echo "peer: SKIPPED ($1)"
    exit 0
}

py=""
why=""
for p in "$PYTHON" /usr/bin/python3; do
    [ "$p" = "$PYTHON" ] && [ -n "$why" ] && continue # PYTHON is /usr/bin/python3: tried
    if err=$("$p" -c 'import torch' 2>&1 >/dev/null); then
        py=$p
        break
    fi
    # the last line of the failed import, e.g. "ModuleNotFoundError: No module named 'torch'"
    last=$(printf '%s\n' "$err" | sed '/^[[:space:]]*$/d' | tail -n 1)
    why="${why:+$why; }$p: ${last:-cannot run}"
done
if [ -z "$py" ]; then
    skip_peer "PyTorch is not importable: $why; 'make bench-deps' installs python3-torch"
fi

echo "== peer: PyTorch ($py tests/bench/peer_wdc.py, one thread)"
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT
# The peer gets the same kernel, in case its BLAS is OpenBLAS too.
if ! peer_out=$(${kern:+env OPENBLAS_CORETYPE=$kern} "$py" "$here/peer_wdc.py" 2>"$errf"); then
    [ -n "$peer_out" ] && echo "$peer_out"
    cat "$errf" >&2
    last=$(sed '/^[[:space:]]*$/d' "$errf" | tail -n 1)
    skip_peer "$py $here/peer_wdc.py failed: ${last:-no message}"
fi
cat "$errf" >&2
echo "$peer_out"
[ -n "$c_out" ] || exit 0

echo "== ratio C/peer (pairs/s, same n, k, batch)"
printf '%s\n%s\n' "$c_out" "$peer_out" | awk "$awk_val"'
    $1 == "wdc_eval" { c[val("n") " " val("k")] = val("pairs_per_s") }
    $1 == "peer_wdc" { p[val("n") " " val("k")] = val("pairs_per_s") }
    END {
        for (s in c) if (s in p && p[s] > 0) {
            split(s, nk, " ")
            printf "wdc n=%s k=%s: C %.0f pairs/s, PyTorch %.0f pairs/s, C/peer = %.2f\n",
                   nk[1], nk[2], c[s], p[s], c[s] / p[s]
        }
    }'
