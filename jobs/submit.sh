#!/bin/bash
# submit.sh: submit a gpmc spec to SLURM, the one command to type.
#
#   jobs/submit.sh SPEC [--nodes N] [--ntasks N] [--time T] [--array N] [--out FILE]
#                       [--lead SECONDS] [--dry-run] [--parsable] [-- sbatch options...]
#
#   SPEC            the experiment spec (INI; see `gpmc list`)
#   --nodes N       nodes per job (sbatch --nodes)
#   --ntasks N      MPI ranks per job (sbatch --ntasks); default: SLURM's (1)
#   --time T        time limit per job (sbatch --time: MIN, H:MM:SS, D-HH, ...)
#   --array N       split the run into N shards as a job array (jobs/array.sbatch, task i
#                   runs --shard i/N), then merge them in a job that starts when every task
#                   succeeded (jobs/merge.sbatch, --dependency=afterok)
#   --out FILE      the result; default results/<spec name>.h5.  With --array the parts go
#                   to FILE without .h5 plus .parts/part_<i>.h5
#   --lead SECONDS  SIGTERM this long before the time limit (default 120; SLURM may send it
#                   up to 60 s earlier); the job checkpoints, requeues itself and resumes
#   --dry-run       only check the request: sbatch --test-only (nothing is submitted)
#   --parsable      print only the job ids (single: ID; array: ARRAY_ID MERGE_ID)
#   -- ...          anything after -- goes to every sbatch (e.g. --partition=p --account=a)
# Environment: GPMC (binary; default build/gpmc next to this directory, else gpmc on PATH),
# GPMC_ARGS (extra `gpmc run` options such as "--checkpoint 300"), both passed to the job.
# The job runs in the current directory; SPEC and FILE are made absolute.
# Exit status: 0 submitted (or --dry-run accepted), 1 sbatch refused, 2 bad usage.
set -u
jobs=$(cd "$(dirname "$0")" && pwd)
prog=submit.sh
usage() {
    sed -n '4,5p' "$0" | sed 's/^# *//;s/^ *//' >&2
    echo "(see the top of $0)" >&2
    exit 2
}
die() { echo "$prog: error: $*" >&2; exit 2; }
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
posint() { case $2 in '' | *[!0-9]* | 0*) die "$1 needs a positive integer, got '$2'" ;; esac; }

spec='' nodes='' ntasks='' time='' array='' out='' lead=120 dry=0 parsable=0
extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --nodes | --ntasks | --time | --array | --out | --lead)
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
        --nodes) nodes=$2 ;; --ntasks) posint "$1" "$2"; ntasks=$2 ;;
        --time) time=$2 ;; --array) posint "$1" "$2"; array=$2 ;;
        --out) out=$2 ;; --lead) posint "$1" "$2"; lead=$2 ;;
        esac
        shift 2 ;;
    --nodes=* | --ntasks=* | --time=* | --array=* | --out=* | --lead=*)
        set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --dry-run) dry=1; shift ;;
    --parsable) parsable=1; shift ;;
    -h | --help) usage ;;
    --) shift; extra=("$@"); break ;;
    -*) die "unknown option '$1' (sbatch options go after --)" ;;
    *) [ -z "$spec" ] || die "one SPEC only (got '$spec' and '$1')"; spec=$1; shift ;;
    esac
done
[ -n "$spec" ] || usage
[ -f "$spec" ] || die "spec '$spec' not found"
command -v sbatch >/dev/null 2>&1 || die "sbatch not found: is this a SLURM login node?"
spec=$(abspath "$spec")
[ -n "$out" ] || out=results/$(basename "${spec%.ini}").h5
out=$(abspath "$out")

# The binary the jobs run, passed to them through the environment (sbatch exports it).
if [ -z "${GPMC:-}" ]; then
    if [ -x "$jobs/../build/gpmc" ]; then GPMC=$(cd "$jobs/.." && pwd)/build/gpmc
    else GPMC=$(command -v gpmc) || die "no gpmc: build it (make) or set GPMC=/path/to/gpmc"; fi
fi
export GPMC
# Reject a bad spec here, not in the queue hours later (nothing is computed or written;
# GPMC_SUBMIT_NO_CHECK=1 skips this, e.g. to test how a job fails in the queue).
if [ "${GPMC_SUBMIT_NO_CHECK:-0}" != 1 ]; then
    probe=$(mktemp -d) || exit 1
    "$GPMC" run "$spec" -o "$probe/check.h5" --dry-run >/dev/null
    rc=$?
    rm -rf "$probe"
    [ $rc -eq 0 ] || die "$spec does not validate (see above); nothing was submitted"
fi

# tsec T: a SLURM time limit (MIN, MIN:SEC, H:MM:SS, D-H, D-H:MM, D-H:MM:SS) in seconds.
tsec() {
    local d=0 r=$1 a b c
    case $r in *-*) d=${r%%-*}; r=${r#*-}
        IFS=: read -r a b c <<<"$r"; echo $(((d * 24 + 10#$a) * 3600 + 10#${b:-0} * 60 + 10#${c:-0})); return ;; esac
    IFS=: read -r a b c <<<"$r"
    if [ -n "$c" ]; then echo $((10#$a * 3600 + 10#$b * 60 + 10#$c))
    else echo $((10#$a * 60 + 10#${b:-0})); fi
}
if [ -n "$time" ] && tl=$(tsec "$time" 2>/dev/null) && [ "$tl" -le $((lead + 60)) ]; then
    echo "$prog: warning: --time $time leaves no room for --lead $lead (SIGTERM comes up to" \
        "60 s early): the job would stop almost at once; use a smaller --lead" >&2
fi
common=(--signal="B:TERM@$lead")
[ -n "$nodes" ] && common+=(--nodes="$nodes")
[ -n "$ntasks" ] && common+=(--ntasks="$ntasks")
[ -n "$time" ] && common+=(--time="$time")
merge_opts=()
[ -n "$time" ] && merge_opts+=(--time="$time")

# sbatch_id ARGS...: show the command, submit it (or --test-only); prints the job id.
sbatch_id() {
    if [ "$dry" = 1 ]; then
        [ "$parsable" = 1 ] || echo "+ sbatch --test-only $(printf '%q ' "$@")" >&2
        msg=$(sbatch --test-only "$@" 2>&1)
        rc=$?
        [ "$parsable" = 1 ] || echo "$msg" | sed 's/^/  /' >&2
        [ $rc -eq 0 ] || { [ "$parsable" = 0 ] || echo "$msg" >&2; return $rc; }
        echo test-only
        return 0
    fi
    [ "$parsable" = 1 ] || echo "+ sbatch $(printf '%q ' "$@")" >&2
    sbatch --parsable "$@" | cut -d';' -f1
    return "${PIPESTATUS[0]}"
}
base=${out%.h5}

if [ -z "$array" ]; then
    [ "$dry" = 1 ] || mkdir -p "$(dirname "$out")" || exit 1
    log=$base-%j.log
    id=$(sbatch_id "${common[@]}" --output="$log" "${extra[@]}" "$jobs/gpmc.sbatch" "$spec" "$out") ||
        { echo "$prog: sbatch refused the job" >&2; exit 1; }
    if [ "$dry" = 1 ]; then
        [ "$parsable" = 1 ] || echo "dry run: accepted; the job would write $out"
        exit 0
    fi
    if [ "$parsable" = 1 ]; then echo "$id"; exit 0; fi
    echo "job $id: $out"
    echo "  log:   ${log/\%j/$id}"
    echo "  watch: squeue -j $id    when done: $GPMC info $out"
    exit 0
fi

parts=$base.parts
[ "$dry" = 1 ] || mkdir -p "$parts" "$(dirname "$out")" || exit 1
alog=$parts/slurm-%A_%a.log
mlog=$base-merge-%j.log
aid=$(sbatch_id --array="0-$((array - 1))" "${common[@]}" --output="$alog" "${extra[@]}" \
    "$jobs/array.sbatch" "$spec" "$parts") || { echo "$prog: sbatch refused the array" >&2; exit 1; }
dep=(--dependency="afterok:$aid" --kill-on-invalid-dep=yes)
[ "$dry" = 1 ] && dep=()   # no array id to depend on: --test-only checks the rest
mid=$(sbatch_id "${dep[@]}" "${merge_opts[@]}" --export="ALL,GPMC_NPARTS=$array" \
    --output="$mlog" "${extra[@]}" "$jobs/merge.sbatch" "$out" "$parts") || {
    echo "$prog: sbatch refused the merge job" >&2
    [ "$dry" = 1 ] || { scancel "$aid"; echo "$prog: cancelled array $aid" >&2; }
    exit 1
}
if [ "$dry" = 1 ]; then
    [ "$parsable" = 1 ] || echo "dry run: accepted; $array shards would go to $parts/, merged into $out (the merge with --dependency=afterok:<array id>)"
    exit 0
fi
if [ "$parsable" = 1 ]; then echo "$aid $mid"; exit 0; fi
echo "array job $aid ($array tasks): $parts/part_0.h5 ... part_$((array - 1)).h5"
echo "  logs:  ${alog/\%A/$aid}"
echo "merge job $mid (starts when every task succeeded): $out"
echo "  log:   ${mlog/\%j/$mid}"
echo "  watch: squeue -j $aid,$mid    when done: $GPMC info $out"
