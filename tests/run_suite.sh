#!/bin/sh
# run_suite.sh SCRIPT LOGDIR: runs one shell suite of tests/run_all.sh, leaving its output,
# exit code and wall seconds in LOGDIR/NAME.out, .rc, .secs (NAME = dir_script).
# Env: BUILD, PYTHON, as for the suite.
name=$(basename "$(dirname "$1")")_$(basename "$1" .sh)
t0=$(date +%s)
BUILD=$BUILD PYTHON=$PYTHON sh "$1" >"$2/$name.out" 2>&1
echo $? >"$2/$name.rc"
echo $(( $(date +%s) - t0 )) >"$2/$name.secs"
