#!/bin/sh
# OpenBLAS kernel selection (src/driver/blas_kernel.c): a generic fallback kernel on a CPU
# with AVX-512/AVX2 is replaced by re-executing with OPENBLAS_CORETYPE set; the opt-out
# GPMC_BLAS_REEXEC=0 keeps it with one warning; a user's OPENBLAS_CORETYPE is respected;
# runs work in every mode, on 1 and 2 ranks. On a CPU without AVX2 nothing can be chosen:
# the checks then report what they saw and pass.
. tests/mpi/lib.sh
unset OPENBLAS_CORETYPE GPMC_BLAS_REEXEC GPMC_BLAS_REEXEC_DONE GPMC_BLAS_DEBUG
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 2
seed = 3
[grid]
k = 3
n = 6, 12
[params]
pairs = 50
search = 50
INI

# "blas: OpenBLAS <kernel> (<origin>)" from `gpmc --version`, as "<kernel> <origin>".
kernel() { "$@" --version 2>/dev/null | sed -n 's/^blas: OpenBLAS \([^ ]*\) (\(.*\))$/\1 \2/p'; }

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
best=none
if has avx2 && has fma; then
    best=Haswell
    has avx512f && has avx512dq && has avx512bw && has avx512vl && best=SkylakeX
fi

auto=$(kernel "$GPMC")
detected=$(GPMC_BLAS_REEXEC=0 kernel "$GPMC")
[ -n "$auto" ] && [ -n "$detected" ] && ok "gpmc --version names the BLAS kernel ($auto)" \
    || notok "gpmc --version names the BLAS kernel" "got '$auto' / '$detected'"
echo "# cpu best kernel: $best; default: $auto; with GPMC_BLAS_REEXEC=0: $detected"

# The opt-out keeps what OpenBLAS detected; it warns exactly when a better kernel exists.
GPMC_BLAS_REEXEC=0 "$GPMC" --version >/dev/null 2>"$tmp/warn"
case $detected in *" detected") ok "GPMC_BLAS_REEXEC=0 keeps the detected kernel" ;;
    *) notok "GPMC_BLAS_REEXEC=0 keeps the detected kernel" "got '$detected'" ;; esac
if [ -s "$tmp/warn" ]; then
    want=$(sed -n 's/.*Fix: export OPENBLAS_CORETYPE=\([A-Za-z0-9_]*\)$/\1/p' "$tmp/warn")
    [ "$(wc -l <"$tmp/warn")" -eq 1 ] && [ -n "$want" ] \
        && ok "opt-out on a generic kernel: one warning with the fix (export OPENBLAS_CORETYPE=$want)" \
        || notok "opt-out warning" "$(cat "$tmp/warn")"
    [ "$auto" = "$want auto" ] && ok "by default the generic ${detected% *} is replaced by $want" \
        || notok "by default the generic kernel is replaced" "default '$auto', wanted $want"
else
    [ "$auto" = "$detected" ] \
        && ok "no better kernel to choose (CPU best: $best): default = detected = ${detected% *}, no warning" \
        || notok "no warning, so the default must be the detected kernel" "'$auto' vs '$detected'"
fi
# The concrete case of these machines: OpenBLAS's Prescott fallback on an AVX2/AVX-512 CPU.
case "$detected:$best" in
Prescott*:none) ok "CPU lacks AVX2: Prescott kept (nothing better to choose)" ;;
Prescott*) [ "$auto" = "$best auto" ] && ok "Prescott fallback on this CPU becomes $best" \
    || notok "Prescott fallback on this CPU becomes $best" "got '$auto'" ;;
*) ok "OpenBLAS detected ${detected% *} itself (no Prescott fallback here)" ;;
esac

# The user's OPENBLAS_CORETYPE is respected, with no restart and no warning.
user=Prescott
[ "$best" != none ] && user=Haswell
got=$(OPENBLAS_CORETYPE=$user kernel "$GPMC")
OPENBLAS_CORETYPE=$user GPMC_BLAS_DEBUG=1 "$GPMC" --version >/dev/null 2>"$tmp/err"
[ "$got" = "$user user" ] && ! grep -q -e restarting -e warning "$tmp/err" \
    && ok "OPENBLAS_CORETYPE=$user from the user is respected" \
    || notok "OPENBLAS_CORETYPE=$user is respected" "got '$got' $(cat "$tmp/err")"

# No loop and no restart where /proc/self/exe is not the program (valgrind's preload).
GPMC_BLAS_REEXEC_DONE=1 GPMC_BLAS_DEBUG=1 "$GPMC" --version >/dev/null 2>"$tmp/err"
! grep -q restarting "$tmp/err" && ok "GPMC_BLAS_REEXEC_DONE=1: no further restart" \
    || notok "GPMC_BLAS_REEXEC_DONE=1: no further restart" "$(cat "$tmp/err")"
LD_PRELOAD=/nonexistent/vgpreload_core-amd64-linux.so GPMC_BLAS_DEBUG=1 "$GPMC" --version \
    >/dev/null 2>"$tmp/err"
! grep -q restarting "$tmp/err" && ok "under valgrind (vgpreload in LD_PRELOAD): no restart" \
    || notok "under valgrind: no restart" "$(cat "$tmp/err")"

# Tiny runs on 1 and 2 ranks in both modes: exit 0, finite results, every rank on the same
# kernel, the opt-out warning printed once (by rank 0) whatever the number of ranks.
finite() { "$PYTHON" -c "
import h5py, numpy as np, sys; f = h5py.File('$1', 'r'); e = f['trials/eps_hat'][:]
sys.exit(0 if e.size and np.isfinite(e).all() and f['trials/done'][:].all() else 1)"; }
for mode in auto optout; do
    opt=1
    [ $mode = optout ] && opt=0
    GPMC_BLAS_REEXEC=$opt "$GPMC" run "$tmp/s.ini" -o "$tmp/$mode.1.h5" >/dev/null 2>"$tmp/err1"
    rc1=$?
    GPMC_BLAS_REEXEC=$opt GPMC_BLAS_DEBUG=1 $MPIRUN -np 2 "$GPMC" run "$tmp/s.ini" \
        -o "$tmp/$mode.2.h5" >/dev/null 2>"$tmp/err2"
    rc2=$?
    [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && finite "$tmp/$mode.1.h5" && finite "$tmp/$mode.2.h5" \
        && ok "$mode: runs on 1 and 2 ranks exit 0 with finite results" \
        || notok "$mode: runs on 1 and 2 ranks" "rc=$rc1/$rc2 $(tail -3 "$tmp/err2")"
    ks=$(sed -n 's/^gpmc: blas: rank \([01]\): kernel \([^ ]*\) (\([a-z]*\)): in use$/\2 \3/p;
                 s/^gpmc: blas: rank \([01]\): kernel \([^ ]*\) (\([a-z]*\)): kept.*/\2 \3/p' \
        "$tmp/err2" | sort | uniq -c | sed 's/^ *//')
    expect=$auto
    [ $mode = optout ] && expect=$detected
    [ "$ks" = "2 $expect" ] && ok "$mode: both ranks run $expect" \
        || notok "$mode: both ranks run $expect" "got '$ks'"
    nw=$(grep -c '^gpmc: warning: OpenBLAS' "$tmp/err2")
    nw1=$(grep -c '^gpmc: warning: OpenBLAS' "$tmp/err1")
    if [ $mode = optout ] && [ "$auto" != "$detected" ]; then
        [ "$nw" -eq 1 ] && [ "$nw1" -eq 1 ] && ok "optout: the warning is printed once on 1 and on 2 ranks" \
            || notok "optout: the warning is printed once" "$nw1 on 1 rank, $nw on 2 ranks"
    else
        [ "$nw" -eq 0 ] && [ "$nw1" -eq 0 ] && ok "$mode: no BLAS warning" \
            || notok "$mode: no BLAS warning" "$(cat "$tmp/err1" "$tmp/err2")"
    fi
done
# The kernel is recorded in /code, and merge warns when parts come from different kernels
# (rounding differs; trials are bitwise equal only within one kernel).
OPENBLAS_CORETYPE=Prescott "$GPMC" run "$tmp/s.ini" --shard 0/2 -o "$tmp/k0.h5" 2>/dev/null
OPENBLAS_CORETYPE=Nehalem "$GPMC" run "$tmp/s.ini" --shard 1/2 -o "$tmp/k1.h5" 2>/dev/null
"$PYTHON" -c "import h5py, sys
a = h5py.File('$tmp/k0.h5')['code'].attrs
sys.exit(0 if a['openblas_corename'] == 'Prescott' and a['openblas_kernel_origin'] == 'user' else 1)" \
    && ok "the BLAS kernel and its origin are recorded in /code" || notok "kernel in /code" "missing"
"$GPMC" merge "$tmp/km.h5" "$tmp/k0.h5" "$tmp/k1.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "warning: .*k1.h5 was computed with the OpenBLAS Nehalem kernel" "$tmp/err" \
    && ok "merge of parts from two kernels warns (and merges)" || notok "merge kernel warning" "rc=$rc $(cat "$tmp/err")"
# Parts of two builds: merged, with a warning naming both.
cp "$tmp/k1.h5" "$tmp/kb.h5"
"$PYTHON" -c "import h5py; h5py.File('$tmp/kb.h5', 'a').attrs['git_commit'] = 'other-build'"
OPENBLAS_CORETYPE=Prescott "$GPMC" run "$tmp/s.ini" --shard 1/2 -o "$tmp/k2.h5" 2>/dev/null
"$PYTHON" -c "import h5py; h5py.File('$tmp/k2.h5', 'a').attrs['git_commit'] = 'other-build'"
"$GPMC" merge "$tmp/kbm.h5" "$tmp/k0.h5" "$tmp/k2.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "k2.h5 was written by build other-build" "$tmp/err" \
    && ok "merge of parts from two builds warns (and merges)" || notok "merge build warning" "rc=$rc $(cat "$tmp/err")"
finish
