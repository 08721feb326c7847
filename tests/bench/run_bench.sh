#!/bin/sh
# `make bench`: the WDC pair evaluator against the BLAS bound (inside bench_wdc: the same
# two GEMMs alone, measured in the same run) and against a PyTorch peer (CPU, one
# thread) running the same batched evaluation. Prints every measurement and the ratio
# C/peer in pairs/s for each size.
#
# bench_wdc runs twice: on OpenBLAS's generic kernels (OPENBLAS_CORETYPE=Prescott, what
# OpenBLAS falls back to on a CPU it does not recognise) and on the kernel gpmc picks
# (include/gpmc/blas_kernel.h); the ratios auto/generic show what the choice is worth.
#
# Environment: BUILD (build tree, default build), PYTHON (default python3; if it cannot
# import torch, /usr/bin/python3 is tried: Debian's python3-torch lives there).
set -eu

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS
here=$(dirname "$0")

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
printf '%s\n%s\n' "$g_out" "$c_out" | awk -v kern="$kern" '
    function val(key,   i, kv) {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
        return ""
    }
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

py=""
for p in "$PYTHON" /usr/bin/python3; do
    if "$p" -c 'import torch' >/dev/null 2>&1; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    echo "== peer: PyTorch is not importable by $PYTHON: 'make bench-deps' installs python3-torch"
    exit 0
fi

echo "== peer: PyTorch ($py tests/bench/peer_wdc.py, one thread)"
# The peer gets the same kernel, in case its BLAS is OpenBLAS too.
peer_out=$(OPENBLAS_CORETYPE=$kern "$py" "$here/peer_wdc.py")
echo "$peer_out"

echo "== ratio C/peer (pairs/s, same n, k, batch)"
printf '%s\n%s\n' "$c_out" "$peer_out" | awk '
    function val(key,   i, kv) {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
        return ""
    }
    $1 == "wdc_eval" { c[val("n") " " val("k")] = val("pairs_per_s") }
    $1 == "peer_wdc" { p[val("n") " " val("k")] = val("pairs_per_s") }
    END {
        for (s in c) if (s in p && p[s] > 0) {
            split(s, nk, " ")
            printf "wdc n=%s k=%s: C %.0f pairs/s, PyTorch %.0f pairs/s, C/peer = %.2f\n",
                   nk[1], nk[2], c[s], p[s], c[s] / p[s]
        }
    }'
