#!/usr/bin/env bash
# Stops the cluster scripts/slurm/up.sh started in DIR (default target/slurm): its jobs first,
# so no job outlives the daemons, then the daemons.
set -uo pipefail
dir=$(realpath -m "${1:-target/slurm}")
export SLURM_CONF="$dir/slurm.conf"
if [ -f "$SLURM_CONF" ]; then
  jobs=$(timeout 10 squeue --noheader --format=%i 2>/dev/null)
  [ -z "$jobs" ] || timeout 10 scancel $jobs 2>/dev/null
fi
for d in slurmrestd slurmd slurmctld munged; do
  pid=$(cat "$dir/run/$d.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
done
# A job step whose slurmd is gone would keep running: end what still runs from this spool.
pkill -f "$dir/spool" 2>/dev/null
exit 0
