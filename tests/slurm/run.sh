#!/bin/sh
# The test behind `make check-slurm`: the SLURM workflow (jobs/*.sbatch, jobs/submit.sh)
# against a real single-node SLURM (munged + slurmctld + slurmd, started here in a scratch
# directory, see tests/slurm/cluster.sh), compared bitwise with direct runs of gpmc:
#   (a) one MPI job (2 ranks)                      == `gpmc run` of the same spec
#   (b) a 3-task job array + dependent merge job    == `gpmc run`
#   (c) SIGTERM to the batch shell mid-run (`scancel --signal=TERM --batch`: what
#       #SBATCH --signal=B:TERM@lead does near the time limit): checkpoint, exit 3, requeue,
#       resume, COMPLETED == `gpmc run`; (c2) the same for one task of a 2-task array;
#       (c3) SIGTERM at the job's very start (ranks killed before gpmc catches it)
#   (d) sbatch --test-only of every script, submit.sh --dry-run
#   (e) failures propagate: a bad spec ends FAILED (exit 2); a failed array task cancels
#       the merge instead of leaving it pending forever
# If the daemons cannot run, it says why (not ok), and checks the scripts in a shell that
# emulates SLURM's variables, srun and scontrol instead (GPMC_SLURM_EMULATE=1 forces this).
# GPMC_SLURM_TIMELIMIT=1 adds (t): a real time limit (--time=1) delivers the signal (slow).
# Usage (repo root): BUILD=build PYTHON=/usr/bin/python3 sh tests/slurm/run.sh
# Prints "ok - name" / "not ok - name: why" per check, "# ..." timings; exit 1 on failure.
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
repo=$(pwd)
case $BUILD in /*) GPMC=$BUILD/gpmc ;; *) GPMC=$repo/$BUILD/gpmc ;; esac
export GPMC
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Inside a SLURM job (a CI runner may be one) the caller's SLURM_* would leak into ours.
for v in $(env | sed -n 's/^\(SLURM_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset GPMC_ARGS GPMC_SPEC GPMC_OUT GPMC_OUTDIR GPMC_NPARTS GPMC_SRUN

nfail=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1: $2"; nfail=$((nfail + 1)); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
same() { "$PYTHON" tests/mpi/h5same.py "$1" "$2" trials points 2>&1; }
# cmp_check NAME A B: bitwise /trials and /points.
cmp_check() {
    if out=$(same "$2" "$3"); then ok "$1"; else notok "$1" "$out"; fi
}

T0=$(now)
tmp=$(mktemp -d /tmp/gpmc-slurm.XXXXXX)
chmod 755 "$tmp"   # munged wants every directory above its socket searchable by all
. tests/slurm/cluster.sh
cleanup() {
    cluster_down
    if [ -n "${GPMC_SLURM_KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ ! -x "$GPMC" ]; then
    notok "gpmc binary" "$GPMC missing (make BUILD=$BUILD first)"
    exit 1
fi

# ---- specs ----
cat >"$tmp/small.ini" <<'INI'
[run]
experiment = wdc
trials = 6
seed = 3
[grid]
k = 4, 6
n = 16, 32
[params]
pairs = 200
search = 200
INI
# ~8 s of one core: SIGTERM 2 s into the run on 2 ranks lands mid-run (~20% done here).
cat >"$tmp/long.ini" <<'INI'
[run]
experiment = wdc
trials = 120
seed = 11
[grid]
k = 10
n = 400, 800
[params]
pairs = 4000
search = 4000
INI
printf '[run]\nexperiment = wdc\ntrials = 6\nbogus = 1\n' >"$tmp/bad.ini"

t=$(now)
if "$GPMC" run "$tmp/small.ini" -o "$tmp/small_ref.h5" 2>"$tmp/ref.err"; then
    ok "direct run of the small spec"
else
    notok "direct run of the small spec" "$(tail -2 "$tmp/ref.err")"
fi
echo "# direct small run: $(since "$t") s"

# ---- static checks ----
for s in jobs/gpmc.sbatch jobs/array.sbatch jobs/merge.sbatch jobs/submit.sh; do
    if out=$(bash -n "$s" 2>&1); then ok "bash -n $s"; else notok "bash -n $s" "$out"; fi
done
common() { sed -n '/^# ---- common part/,/^# ---- end of common part/p' "$1"; }
if [ -n "$(common jobs/gpmc.sbatch)" ] && [ "$(common jobs/gpmc.sbatch)" = "$(common jobs/array.sbatch)" ]; then
    ok "gpmc.sbatch and array.sbatch share the same resume/requeue code"
else
    notok "gpmc.sbatch and array.sbatch share the same resume/requeue code" "the common parts differ"
fi

# ---- emulated SLURM (when the daemons cannot run) ----
# A shell with SLURM's variables; srun runs the command as one process (gpmc without a
# launcher), scontrol records the requeue, scancel fails (no controller: the scripts then
# signal srun's process, here gpmc itself).
emulate() {
    E=$tmp/emu; mkdir -p "$E/bin"
    printf '#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in -*) shift ;; *) break ;; esac; done\nexec "$@"\n' >"$E/bin/srun"
    printf '#!/bin/sh\necho "$*" >>"%s/scontrol.log"\n' "$E" >"$E/bin/scontrol"
    printf '#!/bin/sh\nexit 1\n' >"$E/bin/scancel"
    chmod +x "$E/bin/srun" "$E/bin/scontrol" "$E/bin/scancel"
    ep="$E/bin:$PATH"
    job() { env PATH="$ep" SLURM_SUBMIT_DIR="$repo" "$@"; }

    t=$(now)
    job SLURM_JOB_ID=901 bash jobs/gpmc.sbatch "$tmp/small.ini" "$E/a.h5" >"$E/a.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then cmp_check "emulated: single job equals a direct run" "$tmp/small_ref.h5" "$E/a.h5"
    else notok "emulated: single job" "rc=$rc: $(tail -2 "$E/a.log")"; fi

    rc=0
    for i in 0 1 2; do
        job SLURM_JOB_ID=91$i SLURM_ARRAY_JOB_ID=910 SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 \
            SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 \
            bash jobs/array.sbatch "$tmp/small.ini" "$E/parts" >>"$E/b.log" 2>&1 || rc=$?
    done
    job SLURM_JOB_ID=920 GPMC_NPARTS=3 bash jobs/merge.sbatch "$E/b.h5" "$E/parts" >>"$E/b.log" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then cmp_check "emulated: 3 array tasks + merge equal a direct run" "$tmp/small_ref.h5" "$E/b.h5"
    else notok "emulated: 3 array tasks + merge" "rc=$rc: $(tail -3 "$E/b.log")"; fi

    job SLURM_JOB_ID=930 bash jobs/gpmc.sbatch "$tmp/bad.ini" "$E/bad.h5" >"$E/bad.log" 2>&1
    rc=$?
    [ $rc -eq 2 ] && ok "emulated: a bad spec exits 2" || notok "emulated: a bad spec exits 2" "rc=$rc"

    # the batch shell itself in the background (not a subshell around it), so $! is bash
    env PATH="$ep" SLURM_SUBMIT_DIR="$repo" SLURM_JOB_ID=940 \
        bash jobs/gpmc.sbatch "$tmp/long.ini" "$E/c.h5" >"$E/c.log" 2>&1 &
    pid=$!
    i=0; while [ $i -lt 100 ] && ! grep -q 'start 1' "$E/c.log"; do sleep 0.1; i=$((i + 1)); done
    sleep 2
    kill -TERM $pid
    wait $pid; rc=$?
    if [ $rc -eq 0 ] && grep -q 'requeue 940' "$E/scontrol.log" 2>/dev/null; then
        job SLURM_JOB_ID=940 SLURM_RESTART_COUNT=1 bash jobs/gpmc.sbatch "$tmp/long.ini" "$E/c.h5" >>"$E/c.log" 2>&1
        rc=$?
        if [ $rc -eq 0 ] && grep -q 'gpmc resume' "$E/c.log"; then
            ok "emulated: SIGTERM to the batch shell -> exit 3 -> scontrol requeue -> resume"
            "$GPMC" run "$tmp/long.ini" -o "$tmp/long_ref.h5" 2>/dev/null
            cmp_check "emulated: preempted + resumed equals a direct run" "$tmp/long_ref.h5" "$E/c.h5"
        else
            notok "emulated: resume after requeue" "rc=$rc: $(tail -3 "$E/c.log")"
        fi
    else
        notok "emulated: SIGTERM to the batch shell requeues" "rc=$rc: $(tail -3 "$E/c.log")"
    fi
    echo "# emulated checks: $(since "$t") s"
}

# ---- the real cluster ----
t=$(now)
if ! cluster_install; then
    notok "slurm daemons" "$CLUSTER_WHY"
elif ! cluster_up "$tmp/cluster" 2; then
    notok "slurm daemons" "$CLUSTER_WHY"
else
    ok "slurm daemons up (munged, slurmctld, slurmd; node $(hostname -s), 2 CPUs)"
fi
echo "# install + start daemons: $(since "$t") s"

if [ -z "$CLUSTER_PIDS" ]; then
    emulate
    # sbatch --test-only needs a controller: say so if there is none.
    for s in gpmc array merge; do
        if out=$(sbatch --test-only --array=0-2 "jobs/$s.sbatch" "$tmp/small.ini" "$tmp/x" 2>&1); then
            ok "sbatch --test-only jobs/$s.sbatch"
        else notok "sbatch --test-only jobs/$s.sbatch" "$(echo "$out" | tail -1)"; fi
    done
    echo "# total: $(since "$T0") s"
    exit $((nfail > 0))
fi

# state_of ID: the JobState of every record of ID (an array gives one per task).
state_of() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
field_of() { scontrol show job "$1" 2>/dev/null | sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" | head -1; }
# wait_done SECONDS ID...: until every record of every ID is in a final state.
wait_done() {
    _lim=$1; shift
    _w0=$(date +%s)
    while [ $(($(date +%s) - _w0)) -lt "$_lim" ]; do
        _busy=
        for _id in "$@"; do
            _st=$(state_of "$_id")
            [ -n "$_st" ] || _busy=1
            for _s in $_st; do
                case $_s in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | \
                    BOOT_FAIL | DEADLINE | PREEMPTED) ;; *) _busy=1 ;; esac
            done
        done
        [ -z "$_busy" ] && return 0
        sleep 0.2
    done
    return 1
}
# all_are STATE ID: every record of ID is in STATE.
all_are() { _st=$(state_of "$2"); [ -n "$_st" ] && [ -z "$(echo "$_st" | grep -vx "$1")" ]; }
submit() { bash jobs/submit.sh "$@" --parsable 2>"$tmp/submit.err"; }

# (a) one MPI job, 2 ranks
t=$(now)
if id=$(submit "$tmp/small.ini" --ntasks 2 --time 5 --out "$tmp/a/single.h5"); then
    if ! wait_done 60 "$id"; then notok "(a) single job finishes" "still $(state_of "$id") after 60 s"
    elif ! all_are COMPLETED "$id"; then
        notok "(a) single job COMPLETED" "$(state_of "$id") $(field_of "$id" ExitCode): $(tail -3 "$tmp/a/single-$id.log")"
    else
        ok "(a) single job (2 ranks) COMPLETED"
        r=$("$PYTHON" -c "import h5py; print(h5py.File('$tmp/a/single.h5','r')['code'].attrs['mpi_ranks'])" 2>&1)
        [ "$r" = 2 ] && ok "(a) the job ran 2 MPI ranks (srun --mpi=pmix)" || notok "(a) the job ran 2 MPI ranks" "mpi_ranks=$r"
        cmp_check "(a) single job equals a direct run (bitwise /trials, /points)" "$tmp/small_ref.h5" "$tmp/a/single.h5"
    fi
else
    notok "(a) submit.sh single job" "$(tail -2 "$tmp/submit.err")"
fi
echo "# (a) single job: $(since "$t") s"

# (b) 3-task array + dependent merge
t=$(now)
if ids=$(submit "$tmp/small.ini" --array 3 --time 5 --out "$tmp/b/merged.h5"); then
    set -- $ids; aid=$1; mid=$2
    if ! wait_done 90 "$aid" "$mid"; then
        notok "(b) array + merge finish" "array: $(state_of "$aid" | tr '\n' ' ') merge: $(state_of "$mid")"
    elif ! all_are COMPLETED "$aid"; then
        notok "(b) array tasks COMPLETED" "$(state_of "$aid" | tr '\n' ' '): $(tail -2 "$tmp/b/merged.parts"/slurm-*.log)"
    elif ! all_are COMPLETED "$mid"; then
        notok "(b) merge job COMPLETED" "$(state_of "$mid") $(field_of "$mid" Reason): $(tail -3 "$tmp/b/merged-merge-$mid.log")"
    else
        ok "(b) 3 array tasks and the dependent merge job COMPLETED"
        n=$(ls "$tmp/b/merged.parts"/part_*.h5 2>/dev/null | wc -l)
        [ "$n" -eq 3 ] && ok "(b) 3 parts written" || notok "(b) 3 parts written" "found $n"
        cmp_check "(b) merged array equals a direct run (bitwise /trials, /points)" "$tmp/small_ref.h5" "$tmp/b/merged.h5"
    fi
else
    notok "(b) submit.sh --array 3" "$(tail -2 "$tmp/submit.err")"
fi
echo "# (b) array + merge: $(since "$t") s"

# (c) SIGTERM to the batch shell mid-run -> checkpoint, exit 3, requeue, resume
t=$(now)
if id=$(submit "$tmp/long.ini" --ntasks 2 --time 10 --lead 60 --out "$tmp/c/pre.h5"); then
    log=$tmp/c/pre-$id.log
    i=0; while [ $i -lt 300 ] && ! grep -q 'start 1' "$log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    sleep 2
    # What --signal=B:TERM@lead does at the time limit: SIGTERM to the batch shell only.
    scancel --signal=TERM --batch "$id"
    tc=$(now)
    w0=$(date +%s)
    until [ "$(field_of "$id" Restarts)" -ge 1 ] 2>/dev/null || [ $(($(date +%s) - w0)) -ge 60 ]; do sleep 0.2; done
    wait_done 120 "$id"
    st=$(state_of "$id"); rs=$(field_of "$id" Restarts)
    if grep -q 'stopped; requeueing job' "$log" && [ "${rs:-0}" -ge 1 ]; then
        stopped=$(sed -n 's/^gpmc: stopped: \([0-9]*\/[0-9]*\) trials.*/\1/p' "$log" | head -1)
        ok "(c) SIGTERM mid-run: gpmc checkpointed (${stopped:-?} trials) and exited 3, the job requeued itself"
        if [ "$st" = COMPLETED ] && grep -q 'start 2: gpmc resume' "$log"; then
            ok "(c) the requeued job resumed and COMPLETED (restarts=$rs, $(since "$tc") s after SIGTERM)"
        else
            notok "(c) the requeued job resumed and COMPLETED" "state=$st restarts=$rs: $(tail -3 "$log")"
        fi
    elif [ "$st" = COMPLETED ] && grep -q 'done:' "$log" && ! grep -q 'SIGTERM' "$log"; then
        notok "(c) SIGTERM mid-run" "the job finished before SIGTERM (machine faster than expected: raise trials in long.ini)"
    else
        notok "(c) SIGTERM mid-run requeues" "state=$st restarts=$rs: $(tail -4 "$log" | tr '\n' '|')"
    fi
    ts=$(now)
    if "$GPMC" run "$tmp/long.ini" -o "$tmp/long_ref.h5" 2>"$tmp/long_ref.err"; then
        cmp_check "(c) preempted + resumed job equals a direct run (bitwise /trials, /points)" "$tmp/long_ref.h5" "$tmp/c/pre.h5"
    else
        notok "(c) direct run of the long spec" "$(tail -2 "$tmp/long_ref.err")"
    fi
    echo "# (c) direct run of the long spec: $(since "$ts") s"
else
    notok "(c) submit.sh long job" "$(tail -2 "$tmp/submit.err")"
fi
echo "# (c) preemption: $(since "$t") s"

# (c2) the same for an array task: SIGTERM to task 0 of 2, which requeues and resumes its
# shard alone; the merge (afterok) waits for it and equals the direct run of (c).
t=$(now)
if ids=$(submit "$tmp/long.ini" --array 2 --ntasks 1 --time 10 --lead 60 --out "$tmp/c2/arr.h5"); then
    set -- $ids; aid=$1; mid=$2
    log=$tmp/c2/arr.parts/slurm-${aid}_0.log
    i=0; while [ $i -lt 300 ] && ! grep -q 'start 1' "$log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    sleep 2
    scancel --signal=TERM --batch "${aid}_0"
    w0=$(date +%s)
    until [ "$(field_of "${aid}_0" Restarts)" -ge 1 ] 2>/dev/null || [ $(($(date +%s) - w0)) -ge 60 ]; do sleep 0.2; done
    wait_done 120 "$aid" "$mid"
    rs=$(field_of "${aid}_0" Restarts)
    if [ "${rs:-0}" -ge 1 ] && grep -q 'start 2: gpmc resume' "$log" && all_are COMPLETED "$aid"; then
        ok "(c2) SIGTERM to array task 0: requeued, resumed its shard, COMPLETED"
    else
        notok "(c2) SIGTERM to array task 0 requeues and resumes" "restarts=$rs tasks: $(state_of "$aid" | tr '\n' ' '): $(tail -3 "$log" | tr '\n' '|')"
    fi
    if all_are COMPLETED "$mid" && [ -f "$tmp/long_ref.h5" ]; then
        cmp_check "(c2) merge of the preempted array equals a direct run" "$tmp/long_ref.h5" "$tmp/c2/arr.h5"
    else
        notok "(c2) merge after the preempted task" "merge $(state_of "$mid") $(field_of "$mid" Reason)"
    fi
else
    notok "(c2) submit.sh --array 2 long job" "$(tail -2 "$tmp/submit.err")"
fi
echo "# (c2) array-task preemption: $(since "$t") s"

# (c3) SIGTERM right at the start (before gpmc can catch it: the ranks die of it, srun
# ends 143): still requeued, and the rerun completes the run.
t=$(now)
if id=$(submit "$tmp/small.ini" --ntasks 2 --time 10 --out "$tmp/c3/early.h5"); then
    w0=$(date +%s)
    until [ "$(state_of "$id")" = RUNNING ] || [ $(($(date +%s) - w0)) -ge 30 ]; do sleep 0.02; done
    sleep 0.15
    scancel --signal=TERM --batch "$id"
    w0=$(date +%s)
    until [ "$(field_of "$id" Restarts)" -ge 1 ] 2>/dev/null || [ $(($(date +%s) - w0)) -ge 30 ]; do sleep 0.2; done
    wait_done 60 "$id"
    st=$(state_of "$id"); rs=$(field_of "$id" Restarts)
    if [ "$st" = COMPLETED ] && [ "${rs:-0}" -ge 1 ]; then
        ok "(c3) SIGTERM at the job's start: requeued and COMPLETED"
        cmp_check "(c3) equals a direct run" "$tmp/small_ref.h5" "$tmp/c3/early.h5"
    else
        notok "(c3) SIGTERM at the job's start: requeued and COMPLETED" "state=$st restarts=$rs: $(tail -3 "$tmp/c3/early-$id.log" | tr '\n' '|')"
    fi
else
    notok "(c3) submit.sh small job" "$(tail -2 "$tmp/submit.err")"
fi
echo "# (c3) SIGTERM at start: $(since "$t") s"

# (d) sbatch --test-only
t=$(now)
to() { name=$1; shift
    if out=$(sbatch --test-only "$@" 2>&1) && echo "$out" | grep -q 'to start at'; then ok "$name"
    else notok "$name" "$(echo "$out" | tail -1)"; fi
}
to "(d) sbatch --test-only jobs/gpmc.sbatch" --ntasks=2 jobs/gpmc.sbatch "$tmp/small.ini" "$tmp/d.h5"
to "(d) sbatch --test-only jobs/array.sbatch" --array=0-2 jobs/array.sbatch "$tmp/small.ini" "$tmp/d.parts"
to "(d) sbatch --test-only jobs/merge.sbatch" jobs/merge.sbatch "$tmp/d.h5" "$tmp/d.parts"
for a in "" "--array 3"; do
    # shellcheck disable=SC2086
    if out=$(bash jobs/submit.sh "$tmp/small.ini" --ntasks 2 $a --out "$tmp/d/x.h5" --dry-run 2>&1); then
        ok "(d) submit.sh ${a:+$a }--dry-run"
    else notok "(d) submit.sh ${a:+$a }--dry-run" "$(echo "$out" | tail -1)"; fi
done
[ ! -e "$tmp/d" ] && ok "(d) --dry-run creates nothing" || notok "(d) --dry-run creates nothing" "$tmp/d exists"
bash jobs/submit.sh "$tmp/small.ini" --ntasks 64 --dry-run >"$tmp/d.out" 2>&1
rc=$?
[ $rc -eq 1 ] && ok "(d) submit.sh --dry-run refuses an impossible request (rc 1)" \
    || notok "(d) submit.sh --dry-run refuses an impossible request" "rc=$rc"
echo "# (d) test-only: $(since "$t") s"

# (e) failures propagate
t=$(now)
if submit "$tmp/bad.ini" --out "$tmp/e/refused.h5" >/dev/null; then
    notok "(e) submit.sh refuses a bad spec up front" "it was submitted"
else
    rc=$?
    [ $rc -eq 2 ] && grep -q "bogus" "$tmp/submit.err" && [ -z "$(squeue -h -o %i 2>/dev/null)" ] \
        && ok "(e) submit.sh refuses a bad spec up front (exit 2, names the key, nothing queued)" \
        || notok "(e) submit.sh refuses a bad spec up front" "rc=$rc $(tail -2 "$tmp/submit.err")"
fi
export GPMC_SUBMIT_NO_CHECK=1 # from here: what a job does with a spec that fails in the queue
id=$(submit "$tmp/bad.ini" --out "$tmp/e/bad.h5")
ids=$(submit "$tmp/bad.ini" --array 2 --out "$tmp/e/badarr.h5")
unset GPMC_SUBMIT_NO_CHECK
set -- $ids; aid=${1:-}; mid=${2:-}
if [ -z "$id" ] || [ -z "$mid" ]; then
    notok "(e) submit bad-spec jobs" "$(tail -2 "$tmp/submit.err")"
else
    wait_done 60 "$id" "$aid" "$mid"
    st=$(state_of "$id"); ec=$(field_of "$id" ExitCode)
    [ "$st" = FAILED ] && [ "$ec" = 2:0 ] && ok "(e) a bad spec: the job ends FAILED with exit code 2" \
        || notok "(e) a bad spec: the job ends FAILED with exit code 2" "state=$st exit=$ec"
    st=$(state_of "$mid")
    [ "$st" = CANCELLED ] && ok "(e) failed array tasks cancel the dependent merge (no orphan PENDING job)" \
        || notok "(e) failed array tasks cancel the dependent merge" "merge state=$st $(field_of "$mid" Reason)"
fi
echo "# (e) failures: $(since "$t") s"

# (t) opt-in: the real time-limit signal (#SBATCH --signal=B:TERM@lead) preempts and
# resumes.  slurmctld checks time limits every ~30 s, so this takes 1-2 minutes.
if [ -n "${GPMC_SLURM_TIMELIMIT:-}" ]; then
    # 1200 trials, ~30-60 s on 2 ranks: the first time-limit check (within 30 s of the
    # start, as the lead exceeds the limit minus 30 s) lands mid-run; so may later ones.
    t=$(now)
    id=$(env GPMC_ARGS="--trials 600" bash jobs/submit.sh "$tmp/long.ini" --ntasks 2 --time 1 \
        --lead 50 --out "$tmp/t/tl.h5" --parsable 2>"$tmp/submit.err")
    wait_done 400 "$id"
    st=$(state_of "$id"); rs=$(field_of "$id" Restarts)
    if [ "$st" = COMPLETED ] && [ "${rs:-0}" -ge 1 ]; then
        ok "(t) time-limit SIGTERM: requeued $rs time(s), resumed, COMPLETED ($(since "$t") s)"
        "$GPMC" run "$tmp/long.ini" --trials 600 -o "$tmp/t/ref.h5" 2>/dev/null
        cmp_check "(t) equals a direct run" "$tmp/t/ref.h5" "$tmp/t/tl.h5"
    else
        notok "(t) time-limit SIGTERM requeues and completes" "state=$st restarts=$rs: $(tail -3 "$tmp/t/tl-$id.log" | tr '\n' '|')"
    fi
    grep -E 'SIGTERM|start [0-9]|stopped' "$tmp/t/tl-$id.log" | sed 's/^/#   /'
    echo "# (t) time limit: $(since "$t") s"
fi

[ -n "${GPMC_SLURM_EMULATE:-}" ] && emulate
t=$(now)
cluster_down
echo "# stop daemons: $(since "$t") s"
echo "# total: $(since "$T0") s"
exit $((nfail > 0))
