# A throw-away single-node SLURM cluster (munged + slurmctld + slurmd) in one scratch
# directory, as /work/shared/SLURM.md measured it: own munge key, SLURM_CONF, no cgroups,
# nothing written to /etc.  Source it, then:
#   cluster_install          apt-get the daemons if missing (root only); 1 if impossible
#   cluster_up DIR [CPUS]     write DIR/slurm.conf, start the daemons, wait for an idle node
#   cluster_down             scancel everything, stop the daemons this shell started
# cluster_up exports SLURM_CONF; on failure it sets CLUSTER_WHY to the reason.
CLUSTER_PIDS=
CLUSTER_DIR=
CLUSTER_WHY=

cluster_install() {
    missing=
    for c in slurmctld slurmd sbatch munged mungekey; do
        command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] || missing=1
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        CLUSTER_WHY="slurmctld/slurmd/munge not installed and not root (apt-get install slurmctld slurmd slurm-client munge)"
        return 1
    fi
    out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              slurmctld slurmd slurm-client munge 2>&1) ||
    out=$( { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
              --no-install-recommends slurmctld slurmd slurm-client munge; } 2>&1) || {
        CLUSTER_WHY="apt-get install slurmctld slurmd slurm-client munge failed: $(echo "$out" | tail -1)"
        return 1
    }
    return 0
}

# _cluster_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
_cluster_wait() {
    _n=$(($1 * 10)); shift
    while [ $_n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; _n=$((_n - 1)); done
    return 1
}

_cluster_no_jobs() { [ -z "$(squeue -h -o %i 2>/dev/null)" ] && squeue >/dev/null 2>&1; }
_cluster_node_idle() { sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; }

cluster_up() {
    d=$1; cpus=${2:-2}
    CLUSTER_DIR=$d
    PATH=$PATH:/usr/sbin:/sbin
    node=$(hostname -s)
    # ports from our PID, so two test runs on one machine do not collide
    port=$((20000 + ($$ % 10000) * 2))
    mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
    chmod 755 "$d" "$d/munge"
    mungekey -c -k "$d/munge/munge.key" >/dev/null 2>&1 || {
        CLUSTER_WHY="mungekey -c failed"; return 1; }
    munged --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
        --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munge.seed" \
        --log-file="$d/log/munged.log" 2>"$d/log/munged.err" || {
        CLUSTER_WHY="munged failed: $(tail -1 "$d/log/munged.err")"; return 1; }
    _cluster_wait 5 test -s "$d/munge/munged.pid"
    CLUSTER_PIDS="$(cat "$d/munge/munged.pid" 2>/dev/null)"
    cat >"$d/slurm.conf" <<CONF
ClusterName=gpmctest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket,cred_expire=5
CommunicationParameters=NoInAddrAny
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_interval=1
MinJobAge=300
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$d/slurm.conf"
    slurmctld -f "$SLURM_CONF" -i 2>"$d/log/slurmctld.err" || {
        CLUSTER_WHY="slurmctld failed: $(tail -1 "$d/log/slurmctld.err")"; return 1; }
    slurmd -f "$SLURM_CONF" -N "$node" 2>"$d/log/slurmd.err" || {
        CLUSTER_WHY="slurmd failed: $(tail -1 "$d/log/slurmd.err")"; return 1; }
    _cluster_wait 5 test -s "$d/slurmctld.pid"
    _cluster_wait 5 test -s "$d/slurmd.pid"
    CLUSTER_PIDS="$CLUSTER_PIDS $(cat "$d/slurmctld.pid" 2>/dev/null) $(cat "$d/slurmd.pid" 2>/dev/null)"
    if ! _cluster_wait 30 _cluster_node_idle; then
        CLUSTER_WHY="node never became idle: $(sinfo -h -N -o '%T %E' 2>&1 | head -1); $(tail -2 "$d/log/slurmctld.log" 2>/dev/null)"
        return 1
    fi
    return 0
}

cluster_down() {
    [ -n "$CLUSTER_DIR" ] || return 0
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
        scancel --user="$(id -un)" >/dev/null 2>&1
        _cluster_wait 20 _cluster_no_jobs
    fi
    # slurmd first (it kills its job steps), then slurmctld, then munged; by PID only.
    for p in $(echo $CLUSTER_PIDS | tr ' ' '\n' | sed '1!G;h;$!d'); do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $CLUSTER_PIDS; do
        _n=100
        while [ $_n -gt 0 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    CLUSTER_PIDS=
    CLUSTER_DIR=
}
