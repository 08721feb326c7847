# A throw-away single-node SLURM cluster (munged + slurmctld + slurmd) in one scratch
# directory, as /work/shared/SLURM.md measured it: own munge key, SLURM_CONF, no cgroups,
# nothing written to /etc.  Source it (POSIX sh), then:
#   cluster_install        apt-get the daemons if missing (root only); 1 if impossible
#   cluster_up DIR [CPUS]  write DIR/slurm.conf, start the daemons, wait for an idle node
#   cluster_down           scancel everything, stop the daemons this shell started (by PID)
# cluster_up exports SLURM_CONF; on failure it sets CLUSTER_WHY to the reason (and leaves
# the started PIDs in CLUSTER_PIDS for cluster_down).  Every wait has a wall-clock bound:
# SLURM clients block ~10 s per call when the controller is gone.
CLUSTER_PIDS=
CLUSTER_DIR=
CLUSTER_WHY=
PATH=$PATH:/usr/sbin:/sbin

# _cl_t SECONDS CMD...: CMD with a time limit (coreutils timeout when there is one).
_cl_t() {
    if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi
}

cluster_install() {
    _cl_missing=
    for _cl_c in slurmctld slurmd sbatch scontrol munged mungekey; do
        command -v $_cl_c >/dev/null 2>&1 || _cl_missing="$_cl_missing $_cl_c"
    done
    [ -z "$_cl_missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        CLUSTER_WHY="missing$_cl_missing and not root: apt-get install slurmctld slurmd slurm-client munge"
        return 1
    fi
    _cl_pk="slurmctld slurmd slurm-client munge"
    # shellcheck disable=SC2086
    _cl_out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $_cl_pk 2>&1) ||
    _cl_out=$( { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                 --no-install-recommends $_cl_pk; } 2>&1) || {
        CLUSTER_WHY="apt-get install $_cl_pk failed: $(echo "$_cl_out" | tail -1)"
        return 1
    }
    return 0
}

# _cl_wait SECONDS CMD...: poll CMD until it succeeds or the time is up.
_cl_wait() {
    _cl_end=$(($(date +%s) + $1)); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s)" -lt "$_cl_end" ] || return 1
        sleep 0.1
    done
}
_cl_ctld_up() { _cl_t "${1:-5}" scontrol ping 2>/dev/null | grep -q 'is UP'; }
_cl_node_idle() { _cl_t 5 sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; }
_cl_no_jobs() { _cl_q=$(_cl_t 5 squeue -h -o %i 2>/dev/null) && [ -z "$_cl_q" ]; }
# _cl_alive PID: PID runs and is one of ours (its command line names our directory).
_cl_alive() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    [ -r "/proc/$1/cmdline" ] || return 0
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$CLUSTER_DIR"
}
_cl_pid() { cat "$1" 2>/dev/null; }

# _cl_conf DIR PORT CPUS: write DIR/slurm.conf.
_cl_conf() {
    _cl_node=$(hostname -s)
    cat >"$1/slurm.conf" <<CONF
ClusterName=gpmctest
SlurmctldHost=$_cl_node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$1/munge/munge.socket,cred_expire=5
CommunicationParameters=NoInAddrAny
SlurmctldPort=$2
SlurmdPort=$(($2 + 1))
StateSaveLocation=$1/state
SlurmdSpoolDir=$1/spool
SlurmctldPidFile=$1/slurmctld.pid
SlurmdPidFile=$1/slurmd.pid
SlurmctldLogFile=$1/log/slurmctld.log
SlurmdLogFile=$1/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$1/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_interval=1
MinJobAge=300
KillWait=10
NodeName=$_cl_node NodeAddr=127.0.0.1 CPUs=$3 State=UNKNOWN
PartitionName=debug Nodes=$_cl_node Default=YES MaxTime=INFINITE State=UP
CONF
}

cluster_up() {
    _cl_d=$1; _cl_cpus=${2:-2}
    CLUSTER_DIR=$_cl_d
    mkdir -p "$_cl_d/munge" "$_cl_d/state" "$_cl_d/spool" "$_cl_d/log"
    chmod 755 "$_cl_d" "$_cl_d/munge"
    _cl_out=$(mungekey -c -k "$_cl_d/munge/munge.key" 2>&1) || {
        CLUSTER_WHY="mungekey -c failed: $_cl_out"; return 1; }
    munged --key-file="$_cl_d/munge/munge.key" --socket="$_cl_d/munge/munge.socket" \
        --pid-file="$_cl_d/munge/munged.pid" --seed-file="$_cl_d/munge/munge.seed" \
        --log-file="$_cl_d/log/munged.log" 2>"$_cl_d/log/munged.err" || {
        CLUSTER_WHY="munged failed: $(tail -1 "$_cl_d/log/munged.err")"; return 1; }
    _cl_wait 5 test -s "$_cl_d/munge/munged.pid"
    CLUSTER_PIDS=$(_cl_pid "$_cl_d/munge/munged.pid")
    export SLURM_CONF="$_cl_d/slurm.conf"
    # Ports below the ephemeral range (32768-), from our PID; on "Address already in use"
    # (slurmctld daemonizes first, so it reports that only in its log) try another.
    _cl_try=0
    while :; do
        _cl_port=$((10000 + (($$ + 7919 * _cl_try) % 10000) * 2))
        _cl_conf "$_cl_d" "$_cl_port" "$_cl_cpus"
        rm -f "$_cl_d/slurmctld.pid"
        : >"$_cl_d/log/slurmctld.log"
        slurmctld -f "$SLURM_CONF" -i 2>"$_cl_d/log/slurmctld.err" || {
            CLUSTER_WHY="slurmctld failed: $(tail -1 "$_cl_d/log/slurmctld.err")"; return 1; }
        _cl_end=$(($(date +%s) + 15))
        while [ "$(date +%s)" -lt "$_cl_end" ]; do
            grep -q 'fatal' "$_cl_d/log/slurmctld.log" && break
            _cl_ctld_up 2 && break
            sleep 0.1
        done
        _cl_ctld=$(_cl_pid "$_cl_d/slurmctld.pid")
        if ! grep -q 'fatal' "$_cl_d/log/slurmctld.log" && _cl_ctld_up; then
            CLUSTER_PIDS="$CLUSTER_PIDS $_cl_ctld"
            break
        fi
        _cl_alive "$_cl_ctld" && { kill -KILL "$_cl_ctld"; sleep 0.2; }
        _cl_try=$((_cl_try + 1))
        if [ $_cl_try -ge 3 ] || ! grep -q 'Address already in use' "$_cl_d/log/slurmctld.log"; then
            CLUSTER_WHY="slurmctld did not come up: $(grep -E 'fatal|error' "$_cl_d/log/slurmctld.log" | tail -1)"
            return 1
        fi
    done
    slurmd -f "$SLURM_CONF" -N "$(hostname -s)" 2>"$_cl_d/log/slurmd.err" || {
        CLUSTER_WHY="slurmd failed: $(tail -1 "$_cl_d/log/slurmd.err")"; return 1; }
    _cl_wait 5 test -s "$_cl_d/slurmd.pid"
    CLUSTER_PIDS="$CLUSTER_PIDS $(_cl_pid "$_cl_d/slurmd.pid")"
    if ! _cl_wait 30 _cl_node_idle; then
        CLUSTER_WHY="node never became idle: $(_cl_t 5 sinfo -h -N -o '%T %E' 2>&1 | head -1); $(grep -E 'fatal|error' "$_cl_d/log/slurmd.log" 2>/dev/null | tail -1)"
        return 1
    fi
    return 0
}

cluster_down() {
    [ -n "$CLUSTER_DIR" ] || return 0
    # Cancel what is left while the controller is up (bounded: clients hang without it).
    if [ -n "${SLURM_CONF:-}" ] && _cl_alive "$(_cl_pid "$CLUSTER_DIR/slurmctld.pid")"; then
        _cl_t 10 scancel --user="$(id -un)" >/dev/null 2>&1
        _cl_wait 15 _cl_no_jobs
    fi
    # slurmd first (it ends its job steps), then slurmctld, then munged; by PID only.
    for _cl_p in $(echo $CLUSTER_PIDS | tr ' ' '\n' | sed '1!G;h;$!d'); do
        _cl_alive "$_cl_p" && kill -TERM "$_cl_p" 2>/dev/null
    done
    for _cl_p in $CLUSTER_PIDS; do
        _cl_end=$(($(date +%s) + 10))
        while _cl_alive "$_cl_p" && [ "$(date +%s)" -lt "$_cl_end" ]; do sleep 0.1; done
        _cl_alive "$_cl_p" && kill -KILL "$_cl_p" 2>/dev/null
    done
    CLUSTER_PIDS=
    CLUSTER_DIR=
}
