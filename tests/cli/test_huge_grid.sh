#!/bin/sh
# Plan memory is O(points x 12 bytes), not O(points x parameters x 528 bytes): a 10^6-point
# grid validates and plans (--dry-run) in well under 300 MB (it took 8 GB before).
. tests/mpi/lib.sh
# Under ASan (slow, and its quarantine keeps freed blocks) 10^5 points, same bound.
pairs=1000; points=1000000
case $BUILD in *asan*) pairs=100; points=100000 ;; esac
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 2
seed = 1
[grid]
pairs = 1:$pairs:1
batch = 1:1000:1
[params]
n = 4
k = 2
search = 0
angles = 0
INI
"$PYTHON" - "$GPMC" "$tmp/s.ini" "$tmp/x.h5" "$points" >"$tmp/out" 2>&1 <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
r = subprocess.run([sys.argv[1], "run", sys.argv[2], "-o", sys.argv[3], "--dry-run"],
                   capture_output=True, text=True)
mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"rc {r.returncode}, {time.monotonic() - t0:.1f} s, max RSS {mb:.0f} MB: {r.stdout.strip()}")
sys.exit(0 if r.returncode == 0 and f"{sys.argv[4]} points" in r.stdout and mb < 300 else 1)
PY
[ $? -eq 0 ] && ok "$points-point grid planned in < 300 MB: $(head -1 "$tmp/out" | cut -c 1-40)" \
    || notok "$points-point grid planned in < 300 MB" "$(cat "$tmp/out")"
finish
