#!/bin/sh
# Bad-input tests of `gpmc run`: every spec in tests/specs/bad/ must be rejected before any
# compute with exit status 2 and a message `gpmc: error: FILE:LINE: ...` naming the key,
# and no output file may appear. Plus an unwritable output path and an existing output
# without --force.
#
# Each corpus file starts with
#   # expect: <substring the message must contain>
#   # line: <line the message must name, or "none">
#
# Run from the repository root:  BUILD=build sh tests/specs/test_bad_specs.sh
# Prints one `ok - NAME` or `not ok - NAME: WHY` line per check; exits 1 if any failed.

set -u

BUILD=${BUILD:-build}
GPMC=$BUILD/gpmc
HERE=$(dirname "$0")

# A single process without a launcher; Open MPI refuses root otherwise.
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OPENBLAS_NUM_THREADS OMP_NUM_THREADS

failed=0
ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1: $2"
    failed=1
}

if [ ! -x "$GPMC" ]; then
    not_ok "gpmc binary" "$GPMC does not exist (build it first: make $GPMC)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpmc-bad-specs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

TIMEOUT=
if command -v timeout >/dev/null 2>&1; then
    TIMEOUT="timeout 120"
fi

# run_gpmc ARGS...: sets $rc; stdout and stderr in $tmp/stdout and $tmp/stderr.
run_gpmc() {
    $TIMEOUT "$GPMC" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
}

# Appends a reason to $why.
add_why() { why="${why:+$why; }$1"; }

first_line() { head -n 1 "$tmp/stderr" | cut -c 1-300; }

# Common checks of a rejected command: exit 2, first stderr line `gpmc: error:`.
check_rejected() {
    [ "$rc" -eq 2 ] || add_why "exit status $rc, want 2"
    case "$(first_line)" in
    "gpmc: error:"*) ;;
    *) add_why "stderr does not start with 'gpmc: error:'" ;;
    esac
}

# Appends the message to $why when there is one, so a failure shows what gpmc said.
report() {
    if [ -z "$why" ]; then
        ok "$1"
    else
        not_ok "$1" "$why (stderr: $(first_line))"
    fi
}

# ---------------------------------------------------------------- the corpus

# Every corpus spec first, four at a time (each run is mostly start-up, long under ASan),
# each with its own output and messages; then the checks, in order.
i=0
for f in "$HERE"/bad/*.ini; do
    [ -e "$f" ] || continue
    i=$((i + 1))
    ( $TIMEOUT "$GPMC" run "$f" -o "$tmp/out$i.h5" >"$tmp/stdout$i" 2>"$tmp/stderr$i"
      echo $? >"$tmp/rc$i" ) &
    [ $((i % 4)) -eq 0 ] && wait
done
wait
n_corpus=0
for f in "$HERE"/bad/*.ini; do
    [ -e "$f" ] || continue
    n_corpus=$((n_corpus + 1))
    name="bad spec $(basename "$f")"
    expect=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
    line=$(sed -n 's/^# line: *//p' "$f" | head -n 1 | tr -d ' \r')
    if [ -z "$expect" ] || [ -z "$line" ]; then
        not_ok "$name" "corpus file lacks '# expect:' or '# line:'"
        continue
    fi
    rc=$(cat "$tmp/rc$n_corpus")
    cp "$tmp/stderr$n_corpus" "$tmp/stderr"
    why=
    check_rejected
    grep -qF -- "$f" "$tmp/stderr" || add_why "message does not name the file $f"
    if [ "$line" = none ]; then
        grep -qF -- "$f: " "$tmp/stderr" || add_why "message does not name the file as '$f: '"
    else
        # FILE:LINE as the place of the error (FILE:LINE:) or as a reference (FILE:LINE) / ,)
        grep -qF -e "$f:$line:" -e "$f:$line)" -e "$f:$line," "$tmp/stderr" ||
            add_why "message does not name line $line"
    fi
    grep -qF -- "$expect" "$tmp/stderr" || add_why "message does not contain \"$expect\""
    [ ! -e "$tmp/out$n_corpus.h5" ] || add_why "$tmp/out$n_corpus.h5 was created"
    [ ! -e "$tmp/out$n_corpus.h5.tmp" ] || add_why "$tmp/out$n_corpus.h5.tmp was created"
    report "$name"
done
[ "$n_corpus" -gt 0 ] || not_ok "bad spec corpus" "no files in $HERE/bad/"

# ---------------------------------------------------------------- outputs

# A valid spec: tiny, so that a wrongly accepted run would still finish quickly.
cat >"$tmp/valid.ini" <<'EOF'
[run]
experiment = wdc
trials = 1
seed = 1
[params]
n = 20
k = 2
EOF

# Unwritable output path.
why=
run_gpmc run "$tmp/valid.ini" -o /nonexistent-dir/x.h5
check_rejected
grep -qF -- "/nonexistent-dir/x.h5" "$tmp/stderr" ||
    add_why "message does not name /nonexistent-dir/x.h5"
report "unwritable output path"

# Existing output without --force: rejected, and the file is untouched.
why=
printf 'precious results\n' >"$tmp/exists.h5"
cp "$tmp/exists.h5" "$tmp/exists.orig"
run_gpmc run "$tmp/valid.ini" -o "$tmp/exists.h5"
check_rejected
grep -qF -- "$tmp/exists.h5" "$tmp/stderr" || add_why "message does not name $tmp/exists.h5"
cmp -s "$tmp/exists.h5" "$tmp/exists.orig" || add_why "the existing file was modified"
[ ! -e "$tmp/exists.h5.tmp" ] || add_why "$tmp/exists.h5.tmp was created"
report "existing output without --force"

# A bad --set override is a bad spec too, named as the command line.
why=
rm -f "$tmp/out.h5" "$tmp/out.h5.tmp"
run_gpmc run "$tmp/valid.ini" -o "$tmp/out.h5" --set k=0
check_rejected
grep -qF -- "k=0" "$tmp/stderr" || add_why "message does not name the override k=0"
grep -qF -- "key 'k'" "$tmp/stderr" || add_why "message does not name key 'k'"
[ ! -e "$tmp/out.h5" ] || add_why "$tmp/out.h5 was created"
report "bad --set override"

# A spec file that does not exist.
why=
rm -f "$tmp/out.h5" "$tmp/out.h5.tmp"
run_gpmc run "$tmp/missing.ini" -o "$tmp/out.h5"
check_rejected
grep -qF -- "$tmp/missing.ini" "$tmp/stderr" || add_why "message does not name $tmp/missing.ini"
[ ! -e "$tmp/out.h5" ] || add_why "$tmp/out.h5 was created"
report "missing spec file"

exit "$failed"
