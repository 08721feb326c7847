#!/bin/sh
# Stop checkpoints that cost what changed: finished trials appended to FILE.journal beside
# the last complete FILE (GPMC_CHECKPOINT_JOURNAL=always forces what large grids get by
# themselves), replayed by resume/info/merge and folded in by the next full write.
. tests/mpi/lib.sh
slow_spec "$tmp/s.ini" 60
"$GPMC" run "$tmp/s.ini" -o "$tmp/ref.h5" 2>/dev/null
ndone() { "$PYTHON" -c "import h5py; print(int(h5py.File('$1')['trials/done'][:].sum()))"; }
export GPMC_CHECKPOINT_JOURNAL=always
# stop_run OUT: a run stopped by SIGTERM once its first checkpoint is on disk (the journal,
# or OUT with some trials done), not after a fixed sleep: on a fast machine the whole
# run ends within a second (120 trials at 131/s), and the stop must land before that.
stop_run() {
    "$GPMC" run "$tmp/s.ini" -o "$1" --checkpoint 0.2 2>"$tmp/err" & pid=$!
    wait_for "$1"; i=0
    until [ -s "$1.journal" ] || [ $i -ge 400 ] || {
        set -- "$1" $(done_of "$1"); [ -n "${2:-}" ] && [ "$2" -gt 0 ]; }; do
        sleep 0.05; i=$((i + 1))
    done
    kill -TERM $pid; wait $pid
}
stop_run "$tmp/a.h5"; rc=$?
infile=$(ndone "$tmp/a.h5")
"$GPMC" info "$tmp/a.h5" >"$tmp/info" 2>&1
[ $rc -eq 3 ] && [ -s "$tmp/a.h5.journal" ] && grep -q "and its .journal" "$tmp/err" \
    && grep -q "of these trials are in .*journal" "$tmp/info" \
    && ok "a stop appends to FILE.journal (FILE has $infile trials; info counts the journal's)" \
    || notok "stop appends to the journal" "rc=$rc $(tail -2 "$tmp/err") $(head -2 "$tmp/info")"
cp "$tmp/a.h5" "$tmp/b.h5"; cp "$tmp/a.h5.journal" "$tmp/b.h5.journal"
cp "$tmp/a.h5" "$tmp/c.h5"; cp "$tmp/a.h5.journal" "$tmp/c.h5.journal"
"$GPMC" resume "$tmp/a.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ ! -e "$tmp/a.h5.journal" ] && same "$tmp/a.h5" "$tmp/ref.h5" trials points \
    && ok "resume replays the journal, folds it in, removes it: bitwise equal" \
    || notok "resume with a journal" "rc=$rc $(tail -2 "$tmp/err")"
# A record cut short by a kill during an append: it and what follows are ignored.
size=$(wc -c <"$tmp/b.h5.journal")
head -c $((size - 7)) "$tmp/b.h5.journal" >"$tmp/t" && mv "$tmp/t" "$tmp/b.h5.journal"
"$GPMC" resume "$tmp/b.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && same "$tmp/b.h5" "$tmp/ref.h5" trials points \
    && ok "a torn last record is ignored (its trial is run again): bitwise equal" \
    || notok "torn journal" "rc=$rc $(tail -2 "$tmp/err")"
# A journal of another run is refused, naming it; nothing is touched.
"$GPMC" run "$tmp/s.ini" --seed 4 -o "$tmp/d.h5" 2>/dev/null
cp "$tmp/c.h5.journal" "$tmp/d.h5.journal"
sum=$(cksum <"$tmp/d.h5")
"$GPMC" resume "$tmp/d.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "d.h5.journal: belongs to another run" "$tmp/err" && [ "$(cksum <"$tmp/d.h5")" = "$sum" ] \
    && ok "a journal of another run: exit 2 naming it, nothing touched" \
    || notok "foreign journal" "rc=$rc $(cat "$tmp/err")"
# merge sees the journal's trials too.
"$GPMC" merge "$tmp/m.h5" "$tmp/c.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(ndone "$tmp/m.h5")" -gt "$(ndone "$tmp/c.h5")" ] \
    && ok "merge includes the trials of a part's journal" || notok "merge with a journal" "rc=$rc $(cat "$tmp/err")"
# Without the journal (small files, auto): the stop writes the whole file as before.
GPMC_CHECKPOINT_JOURNAL=auto stop_run "$tmp/e.h5"; rc=$?
[ $rc -eq 3 ] && [ ! -e "$tmp/e.h5.journal" ] && ok "auto, small file: a stop writes the whole file" \
    || notok "auto stop" "rc=$rc"
finish
