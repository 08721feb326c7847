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
    _cmissing=
    for _cc in slurmctld slurmd sbatch munged mungekey; do
        command -v $_cc >/dev/null 2>&1 || [ -x /usr/sbin/$_cc ] || _cmissing=1
    done
    [ -z "$_cmissing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        CLUSTER_WHY="slurmctld/slurmd/munge not installed and not root (apt-get install slurmctld slurmd slurm-client munge)"
        return 1
    fi
    _cout=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
              slurmctld slurmd slurm-client munge 2>&1) ||
    _cout=$( { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
              --no-install-recommends slurmctld slurmd slurm-client munge; } 2>&1) || {
        CLUSTER_WHY="apt-get install slurmctld slurmd slurm-client munge failed: $(echo "$_cout" | tail -1)"
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
    _cd=$1; _ccpus=${2:-2}
    CLUSTER_DIR=$_cd
    PATH=$PATH:/usr/sbin:/sbin
    _cnode=$(hostname -s)
    # ports from our PID, so two test runs on one machine do not collide
    _cport=$((20000 + ($$ % 10000) * 2))
    mkdir -p "$_cd/munge" "$_cd/state" "$_cd/spool" "$_cd/log"
    chmod 755 "$_cd" "$_cd/munge"
    mungekey -c -k "$_cd/munge/munge.key" >/dev/null 2>&1 || {
        CLUSTER_WHY="mungekey -c failed"; return 1; }
    munged --key-file="$_cd/munge/munge.key" --socket="$_cd/munge/munge.socket" \
        --pid-file="$_cd/munge/munged.pid" --seed-file="$_cd/munge/munge.seed" \
        --log-file="$_cd/log/munged.log" 2>"$_cd/log/munged.err" || {
        CLUSTER_WHY="munged failed: $(tail -1 "$_cd/log/munged.err")"; return 1; }
    _cluster_wait 5 test -s "$_cd/munge/munged.pid"
    CLUSTER_PIDS="$(cat "$_cd/munge/munged.pid" 2>/dev/null)"
    cat >"$_cd/slurm.conf" <<CONF
ClusterName=gpmctest
SlurmctldHost=$_cnode(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$_cd/munge/munge.socket,cred_expire=5
CommunicationParameters=NoInAddrAny
SlurmctldPort=$_cport
SlurmdPort=$((port + 1))
StateSaveLocation=$_cd/state
SlurmdSpoolDir=$_cd/spool
SlurmctldPidFile=$_cd/slurmctld.pid
SlurmdPidFile=$_cd/slurmd.pid
SlurmctldLogFile=$_cd/log/slurmctld.log
SlurmdLogFile=$_cd/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$_cd/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_interval=1
MinJobAge=300
KillWait=10
NodeName=$_cnode NodeAddr=127.0.0.1 CPUs=$_ccpus State=UNKNOWN
PartitionName=debug Nodes=$_cnode Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$_cd/slurm.conf"
    slurmctld -f "$SLURM_CONF" -i 2>"$_cd/log/slurmctld.err" || {
        CLUSTER_WHY="slurmctld failed: $(tail -1 "$_cd/log/slurmctld.err")"; return 1; }
    slurmd -f "$SLURM_CONF" -N "$_cnode" 2>"$_cd/log/slurmd.err" || {
        CLUSTER_WHY="slurmd failed: $(tail -1 "$_cd/log/slurmd.err")"; return 1; }
    _cluster_wait 5 test -s "$_cd/slurmctld.pid"
    _cluster_wait 5 test -s "$_cd/slurmd.pid"
    CLUSTER_PIDS="$CLUSTER_PIDS $(cat "$_cd/slurmctld.pid" 2>/dev/null) $(cat "$_cd/slurmd.pid" 2>/dev/null)"
    if ! _cluster_wait 30 _cluster_node_idle; then
        CLUSTER_WHY="node never became idle: $(sinfo -h -N -o '%T %E' 2>&1 | head -1); $(tail -2 "$_cd/log/slurmctld.log" 2>/dev/null)"
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
    for _cp in $(echo $CLUSTER_PIDS | tr ' ' '\n' | sed '1!G;h;$!d'); do
        kill -TERM "$_cp" 2>/dev/null
    done
    for _cp in $CLUSTER_PIDS; do
        _n=100
        while [ $_n -gt 0 ] && kill -0 "$_cp" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
        kill -0 "$_cp" 2>/dev/null && kill -KILL "$_cp" 2>/dev/null
    done
    CLUSTER_PIDS=
    CLUSTER_DIR=
}
