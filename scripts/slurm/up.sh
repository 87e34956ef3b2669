#!/usr/bin/env bash
# Starts a single-node Slurm on 127.0.0.1 for Steward's tests and demos: munged, slurmctld,
# slurmd and slurmrestd (JWT), two partitions (`low` and `high`; `high` preempts `low` by
# requeueing it) and two GRES GPUs backed by plain files. Everything lives under one directory
# (first argument, default target/slurm) so several clusters never share state.
# Prints the environment a client needs: SLURMRESTD_URL, SLURM_JWT_FILE, SLURM_CONF.
# Needs root (slurmd runs jobs as their users) and Debian's slurm-wlm, slurmrestd,
# slurm-wlm-jwt-plugin and munge. Stop it with scripts/slurm/down.sh DIR.
set -euo pipefail
dir=$(realpath -m "${1:-target/slurm}")
port=${SLURMRESTD_PORT:-6820}
mkdir -p "$dir"/{spool,state,log,run,munge,gres}
# The socket directory must be searchable by every client (slurmrestd runs as nobody); the key
# inside stays 0400 root.
chmod 0755 "$dir/munge"

# munge: a private key and socket, so this cluster does not need (or disturb) the system's.
[ -f "$dir/munge/munge.key" ] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; }
chmod 0400 "$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
munged --key-file="$dir/munge/munge.key" --socket="$socket" --pid-file="$dir/run/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" --force

# JWT signing key (0600): slurmctld signs tokens with it, slurmrestd checks them.
[ -f "$dir/jwt.key" ] || { dd if=/dev/urandom of="$dir/jwt.key" bs=32 count=1 status=none; }
chmod 0600 "$dir/jwt.key"

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
for i in 0 1; do : > "$dir/gres/gpu$i"; done

cat > "$dir/slurm.conf" <<CONF
ClusterName=steward
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$dir/jwt.key
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PriorityType=priority/multifactor
PriorityWeightQOS=1000
PriorityWeightJobSize=0
PriorityWeightAge=0
GresTypes=gpu
ReturnToService=2
SchedulerParameters=bf_interval=1,sched_min_interval=100000
MessageTimeout=10
MpiDefault=none
InactiveLimit=0
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:2 State=UNKNOWN
PartitionName=low Nodes=$host Default=YES PriorityTier=1 PreemptMode=REQUEUE MaxTime=INFINITE State=UP
PartitionName=high Nodes=$host PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP
CONF
cat > "$dir/gres.conf" <<CONF
NodeName=$host Name=gpu File=$dir/gres/gpu[0-1]
CONF
cat > "$dir/cgroup.conf" <<CONF
CgroupPlugin=cgroup/v1
CgroupAutomount=yes
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
export SLURM_CONF="$dir/slurm.conf"
chmod 0755 "$dir"
chmod 0644 "$dir/slurm.conf" "$dir/gres.conf" "$dir/cgroup.conf"
# slurmrestd reads the config as nobody: every directory above it must let others through.
runuser -u nobody -- test -r "$SLURM_CONF" \
  || { echo "slurm: $SLURM_CONF is not readable by nobody (a parent directory is private?)" >&2; exit 1; }

slurmctld -i
slurmd
# slurmrestd refuses to run as root or as SlurmUser: it drops to nobody after opening its port.
SLURM_JWT=daemon slurmrestd -a rest_auth/jwt -s "${SLURMRESTD_PLUGINS:-openapi/v0.0.38}" -u nobody "127.0.0.1:$port" >"$dir/log/slurmrestd.log" 2>&1 &
echo $! > "$dir/run/slurmrestd.pid"

for _ in $(seq 1 60); do
  if scontrol show node "$host" 2>/dev/null | grep -qE 'State=(IDLE|MIXED|ALLOCATED)'; then break; fi
  sleep 0.5
done
scontrol show node "$host" | grep -qE 'State=(IDLE|MIXED|ALLOCATED)' \
  || { echo "slurm: node $host did not come up; see $dir/log" >&2; exit 1; }
for _ in $(seq 1 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.5
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
  || { echo "slurm: slurmrestd does not listen on $port:" >&2; tail -5 "$dir/log/slurmrestd.log" >&2; exit 1; }

# slurmrestd refuses tokens for root: jobs go in as an ordinary user, created when missing.
user=${SLURM_USER:-steward-slurm}
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
scontrol token username="$user" lifespan=86400 | sed -n 's/^SLURM_JWT=//p' > "$dir/jwt.token"
chmod 0600 "$dir/jwt.token"
echo "SLURM_CONF=$SLURM_CONF"
echo "SLURMRESTD_URL=http://127.0.0.1:$port"
echo "SLURM_JWT_FILE=$dir/jwt.token"
echo "SLURM_USER=$user"
