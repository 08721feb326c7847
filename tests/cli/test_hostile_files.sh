#!/bin/sh
# Results files are input like specs: every rank, shape, type and attribute is checked
# before use; bad ones get exit 2 naming the file and the object, and nothing is touched.
. tests/mpi/lib.sh
cat >"$tmp/s.ini" <<INI
[run]
experiment = wdc
trials = 3
seed = 2
[grid]
k = 2
n = 6, 8
[params]
pairs = 5
search = 4
angles = 4
INI
"$GPMC" run "$tmp/s.ini" -o "$tmp/good.h5" 2>/dev/null
# mutate NAME PYTHON: a copy of good.h5 with f open for writing.
mutate() {
    cp "$tmp/good.h5" "$tmp/$1.h5"
    "$PYTHON" -c "import h5py, numpy as np
f = h5py.File('$tmp/$1.h5', 'a')
$2"
}
# refused NAME EXPECTED-MESSAGE: info, resume and merge all exit 2 with the message,
# and the file is unchanged.
refused() {
    sum=$(cksum <"$tmp/$1.h5")
    why=
    # The three readers at once (each is mostly start-up, long under ASan).
    for cmd in info resume merge; do
        (
            case $cmd in
                merge) "$GPMC" merge "$tmp/m_$1.h5" "$tmp/good.h5" "$tmp/$1.h5" >/dev/null 2>"$tmp/err.$cmd" ;;
                *) "$GPMC" $cmd "$tmp/$1.h5" >/dev/null 2>"$tmp/err.$cmd" ;;
            esac
            echo $? >"$tmp/rc.$cmd"
        ) &
    done
    wait
    for cmd in info resume merge; do
        rc=$(cat "$tmp/rc.$cmd")
        [ "$rc" -eq 2 ] && grep -q "$1.h5.*$2" "$tmp/err.$cmd" || why="$why $cmd: rc=$rc $(cat "$tmp/err.$cmd");"
    done
    [ "$(cksum <"$tmp/$1.h5")" = "$sum" ] && [ ! -e "$tmp/m_$1.h5" ] || why="$why file touched;"
    [ -z "$why" ] && ok "$1: exit 2, '$2'" || notok "$1" "$why"
}
for r in 1 6 13 32; do   # rank >= 6 overflowed a 5-slot array on the stack; 13 segfaulted
    mutate done_rank$r "del f['trials/done']; f.create_dataset('trials/done', data=np.zeros([1] * $r, 'u1'))"
    refused done_rank$r "'trials/done' has rank $r, expected 2"
done
mutate done_strings "d = f['trials/done'][:]; del f['trials/done']; f['trials/done'] = d.astype('S1')"
refused done_strings "'trials/done' holds strings"
mutate eps_shape "del f['trials/eps_hat']; f['trials/eps_hat'] = np.zeros((2, 5))"
refused eps_shape "'trials/eps_hat' has extent 5 in dimension 1, expected 3"
mutate witness_rank "del f['points/1/witness_x']; f['points/1/witness_x'] = np.zeros((3, 2, 1))"
refused witness_rank "'points/1/witness_x' has rank 3, expected 2"
mutate no_eps "del f['trials/eps_hat']"
refused no_eps "'trials/eps_hat' is missing"
mutate version_string "f.attrs['format_version'] = '1'"
refused version_string "'format_version' must be an integer"
mutate version_2 "f.attrs['format_version'] = 2"
refused version_2 "format_version 2, this gpmc reads 1"
mutate spec_array "f.attrs['spec'] = np.array(['a', 'b'], dtype=h5py.string_dtype())"
refused spec_array "'spec' must hold exactly one value"
mutate seed_string "f.attrs['seed'] = 'x'"
refused seed_string "'seed' must be an integer"
mutate no_shard "del f.attrs['shard']"
refused no_shard "'shard' is missing"
for s in 5/2 0/0 1/-3 "0/1 x"; do
    name=shard_$(echo "$s" | tr -c '0-9a-z\n' _)
    mutate "$name" "f.attrs['shard'] = '$s'"
    refused "$name" "'shard'.*is not i/N"
done
mutate spec_garbled "f.attrs['spec'] = '[run]\nexperiment = nosuch\n'"
refused spec_garbled "nosuch"
for s in 1/-3 0/0 5/2 -1/2 1/ 1/2/3 " 0/2"; do
    "$GPMC" run "$tmp/s.ini" --shard "$s" -o "$tmp/x.h5" >/dev/null 2>"$tmp/err"; rc=$?
    [ $rc -eq 2 ] && grep -q "shard" "$tmp/err" && [ ! -e "$tmp/x.h5" ] && ok "--shard '$s': exit 2" \
        || notok "--shard '$s'" "rc=$rc $(cat "$tmp/err")"
done
finish
