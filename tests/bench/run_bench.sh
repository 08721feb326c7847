#!/bin/sh
# `make bench`: the WDC pair evaluator against the BLAS bound (inside bench_wdc: the same
# two GEMMs alone, measured in the same run) and against a PyTorch peer (CPU, one
# thread) running the same batched evaluation. Prints every measurement and the ratio
# C/peer in pairs/s for each size.
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

echo "== C: build/bench/bench_wdc (one BLAS thread)"
c_out=$("$BUILD/bench/bench_wdc")
echo "$c_out"

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
peer_out=$("$py" "$here/peer_wdc.py")
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
