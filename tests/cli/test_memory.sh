#!/bin/sh
# The memory estimate: every buffer each rank will hold (rank 0's records and stored
# matrices, the writer's file image, workspaces, send buffers) against the smallest of
# physical memory, the cgroup limit and SLURM's limit, refused (exit 2) before any compute.
. tests/mpi/lib.sh
cat >"$tmp/big.ini" <<INI
[run]
experiment = wdc
trials = 20
seed = 1
[grid]
k = 1000
[params]
n = 100000
store_matrices = true
pairs = 10
search = 0
angles = 0
INI
start=$(date +%s)
"$GPMC" run "$tmp/big.ini" -o "$tmp/big.h5" 2>"$tmp/err"; rc=$?
el=$(( $(date +%s) - start ))
[ $rc -eq 2 ] && grep -q "needs about .* GB on rank 0's node" "$tmp/err" && [ ! -e "$tmp/big.h5" ] \
    && [ $el -le 5 ] && ok "store_matrices n=1e5 k=1000 x 20 trials: refused before compute (exit 2)" \
    || notok "store_matrices refused" "rc=$rc ${el}s $(cat "$tmp/err")"
"$GPMC" run "$tmp/big.ini" -o "$tmp/big.h5" --dry-run >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "GB" "$tmp/out" && ok "--dry-run refuses it too" || notok "--dry-run" "rc=$rc $(cat "$tmp/out")"
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 4
seed = 1
[grid]
k = 10
[params]
n = 20000
pairs = 10
search = 0
angles = 0
INI
"$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" --dry-run >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "^memory: about .* GB on rank 0" "$tmp/out" \
    && ok "--dry-run prints the estimate" || notok "--dry-run estimate" "rc=$rc $(cat "$tmp/out")"
SLURM_MEM_PER_NODE=1 "$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "of SLURM_MEM_PER_NODE" "$tmp/err" && [ ! -e "$tmp/s.h5" ] \
    && ok "SLURM_MEM_PER_NODE=1 (MB) is the limit when smaller" || notok "SLURM limit" "rc=$rc $(cat "$tmp/err")"
SLURM_MEM_PER_CPU=1 SLURM_CPUS_ON_NODE=2 "$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "of SLURM_MEM_PER_CPU" "$tmp/err" \
    && ok "SLURM_MEM_PER_CPU x SLURM_CPUS_ON_NODE is the limit" || notok "SLURM per-cpu limit" "rc=$rc $(cat "$tmp/err")"
# Per node: 3 ranks need more than 1 rank (each worker holds its own workspace).
one=$("$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" --dry-run | sed -n 's/.* \([0-9.e+]*\) GB on rank 0.s node.*/\1/p')
three=$($MPIRUN -np 3 "$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" --dry-run 2>/dev/null | sed -n 's/.* \([0-9.e+]*\) GB on rank 0.s node.*/\1/p')
"$PYTHON" -c "import sys; sys.exit(0 if float('$three') > float('$one') > 0 else 1)" \
    && ok "the node estimate grows with the ranks on the node ($one GB -> $three GB)" \
    || notok "node estimate per rank" "1 rank '$one', 3 ranks '$three'"
"$GPMC" run "$tmp/s.ini" -o "$tmp/s.h5" 2>"$tmp/err" && ok "a spec that fits runs" \
    || notok "a spec that fits" "$(cat "$tmp/err")"
finish
