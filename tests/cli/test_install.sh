#!/bin/sh
# The installed gpmc as a new user meets it: `make install PREFIX=...` puts gpmc, gpmc-table
# and gpmc-plot in PREFIX/bin; from a fresh empty directory a run of the installed demo
# spec (made tiny) writes results/demo.h5, which the two analysis commands read.
# (`make -o all`: install what $BUILD holds, never rebuild it from inside a test.)
. tests/mpi/lib.sh
p=$tmp/p
if [ ! -x "$GPMC" ]; then
    notok "make install" "$GPMC not built"
    finish
fi
make --no-print-directory -o all install PREFIX="$p" BUILD="$BUILD" PYTHON="$PYTHON" \
    >"$tmp/make.log" 2>&1; rc=$?
[ $rc -eq 0 ] && [ -x "$p/bin/gpmc" ] && [ -x "$p/bin/gpmc-table" ] && [ -x "$p/bin/gpmc-plot" ] \
    && [ -f "$p/share/gpmc/analysis/table.py" ] && [ -f "$p/share/gpmc/specs/demo.ini" ] \
    && ok "make install: gpmc, gpmc-table, gpmc-plot in PREFIX/bin" \
    || notok "make install" "rc=$rc $(tail -5 "$tmp/make.log")"

py=$(command -v "$PYTHON")
for c in table plot; do
    [ "$(head -n 1 "$p/bin/gpmc-$c" 2>/dev/null)" = "#!$py" ] \
        && ok "gpmc-$c runs under the Python that imports h5py ($py)" \
        || notok "gpmc-$c shebang" "$(head -n 1 "$p/bin/gpmc-$c" 2>/dev/null), want #!$py"
    "$p/bin/gpmc-$c" --help >"$tmp/help" 2>&1; rc=$?
    [ $rc -eq 0 ] && grep -q "^usage: gpmc-$c" "$tmp/help" && ok "gpmc-$c --help exits 0" \
        || notok "gpmc-$c --help" "rc=$rc $(tail -3 "$tmp/help")"
done
check "gpmc --help names gpmc-table and gpmc-plot" sh -c \
    "'$p/bin/gpmc' --help | grep -q gpmc-table && '$p/bin/gpmc' --help | grep -q gpmc-plot"

# A fresh empty directory, no source tree on any path.
mkdir "$tmp/fresh"
cd "$tmp/fresh" || exit 1
"$p/bin/gpmc" run "$p/share/gpmc/specs/demo.ini" --trials 2 --set grid.k=2,3 --set n/k=2,4 \
    --set pairs=50 --set search=50 >"$tmp/run.log" 2>&1; rc=$?
[ $rc -eq 0 ] && [ -f results/demo.h5 ] \
    && ok "installed gpmc run of the installed demo spec writes results/demo.h5" \
    || notok "installed gpmc run" "rc=$rc $(tail -3 "$tmp/run.log")"
"$p/bin/gpmc-table" results/demo.h5 >"$tmp/table.md" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "gpmc results: wdc (results/demo.h5)" "$tmp/table.md" \
    && grep -q "P(eps_hat" "$tmp/table.md" \
    && ok "gpmc-table results/demo.h5 prints the tables" \
    || notok "gpmc-table" "rc=$rc $(tail -3 "$tmp/table.md")"
"$p/bin/gpmc-plot" results/demo.h5 -o x.png >"$tmp/plot.log" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(head -c 4 x.png | od -An -c | tr -d ' ')" = "211PNG" ] \
    && ok "gpmc-plot results/demo.h5 -o x.png writes a PNG" \
    || notok "gpmc-plot" "rc=$rc $(tail -3 "$tmp/plot.log")"
"$p/bin/gpmc-plot" results/demo.h5 -o x.gif >"$tmp/plot.log" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "^gpmc-plot: x.gif: use one of" "$tmp/plot.log" \
    && ok "gpmc-plot errors name the command" || notok "gpmc-plot error" "rc=$rc $(cat "$tmp/plot.log")"
cd - >/dev/null || exit 1
finish
