#!/usr/bin/env bash
# Stops the cluster scripts/slurm/up.sh started in DIR (default target/slurm): its jobs first,
# so no job outlives the daemons, then the daemons.
set -uo pipefail
dir=$(realpath -m "${1:-target/slurm}")
export SLURM_CONF="$dir/slurm.conf"
if [ -f "$SLURM_CONF" ]; then
  jobs=$(timeout 10 squeue --noheader --format=%i 2>/dev/null)
  [ -z "$jobs" ] || timeout 10 scancel $jobs 2>/dev/null
  # Let slurmd see its job steps end; a step whose slurmd is gone would run on.
  for _ in $(seq 1 20); do
    [ -z "$(timeout 5 squeue --noheader --format=%i 2>/dev/null)" ] && break
    sleep 0.5
  done
fi
pids=()
for d in slurmrestd slurmd slurmctld munged; do
  pid=$(cat "$dir/run/$d.pid" 2>/dev/null) && kill "$pid" 2>/dev/null && pids+=("$pid")
done
# slurmctld saves its state as it stops: wait, so the directory can be removed after.
for _ in $(seq 1 40); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.25
done
# A job step whose slurmd is gone would keep running: end what still runs from this spool.
pkill -f "$dir/spool" 2>/dev/null
exit 0
