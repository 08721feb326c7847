#!/bin/sh
# `make bench` never drops its PyTorch peer silently: a peer that cannot run ends the bench
# output with `peer: SKIPPED (why)`, exit 0. Runs only the peer part of the bench
# (run_bench.sh --peer-only), with a torch package that fails to import, or one that
# imports but cannot run the peer, shadowing the real one through PYTHONPATH.
. tests/mpi/lib.sh
mkdir -p "$tmp/notorch/torch" "$tmp/brokentorch/torch"
echo 'raise ImportError("torch hidden by test_bench_skip")' >"$tmp/notorch/torch/__init__.py"
: >"$tmp/brokentorch/torch/__init__.py"

PYTHONPATH=$tmp/notorch PYTHON=$PYTHON sh tests/bench/run_bench.sh --peer-only \
    >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q '^peer: SKIPPED (PyTorch is not importable: .*torch hidden by test_bench_skip' "$tmp/out" \
    && grep -q "make bench-deps" "$tmp/out" && [ "$(tail -n 1 "$tmp/out" | cut -c 1-14)" = "peer: SKIPPED " ] \
    && ok "bench without torch: last line 'peer: SKIPPED (why)', exit 0" \
    || notok "bench without torch" "rc=$rc $(cat "$tmp/out" "$tmp/err")"

PYTHONPATH=$tmp/brokentorch PYTHON=$PYTHON sh tests/bench/run_bench.sh --peer-only \
    >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "^peer: SKIPPED (.*peer_wdc.py failed: AttributeError" "$tmp/out" \
    && ok "bench whose peer fails: 'peer: SKIPPED (why)', exit 0" \
    || notok "bench whose peer fails" "rc=$rc $(cat "$tmp/out" "$tmp/err")"

# `make bench` installs (as root) or names (otherwise) python3-torch before it runs.
make -n bench BUILD="$BUILD" >"$tmp/make" 2>&1
grep -q 'apt-get install .*python3-torch' "$tmp/make" && grep -q 'run_bench.sh' "$tmp/make" \
    && ok "make bench installs the bench dependencies (bench-deps) first" \
    || notok "make bench installs the bench dependencies" "$(grep -v '^cc\|^mkdir' "$tmp/make" | tail -5)"
finish
