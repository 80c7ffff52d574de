#!/usr/bin/env bash
# A private one-node Slurm cluster for the tests and benchmarks of the Slurm
# executor: munge (shared with the machine), and a slurmctld + slurmd of our
# own with their configuration, state, spool, logs and pid files under DIR and
# their own ports (the first two free from 6917), so a cluster the machine
# already runs, or one an earlier run left, is left alone.
#
#   scripts/slurm-cluster.sh install        the Debian packages (once, as root)
#   scripts/slurm-cluster.sh start DIR      writes DIR/slurm.conf, starts, waits for the node
#   scripts/slurm-cluster.sh stop DIR       stops our daemons, removes their pid files
#   scripts/slurm-cluster.sh status DIR     exit 0 when the controller answers
#
# Clients reach it with SLURM_CONF=DIR/slurm.conf (start prints that line).
# slurmd must run as root (it starts jobs as their users); without root,
# start fails with one line saying so.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }

cmd="${1:-}"
dir="${2:-}"
# Ports of our own: a machine that runs its own cluster on 6817/6818 keeps it.
ctld_port="${PIPELINE_SLURMCTLD_PORT:-6917}"
slurmd_port="${PIPELINE_SLURMD_PORT:-6918}"

install_packages() {
  local missing=()
  for p in munge slurmctld slurmd slurm-client; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || die "no /etc/munge/munge.key and mungekey failed"
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged || die "munged did not start"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "munged started but does not answer (munge -n | unmunge)"
}

write_conf() {
  local host mem
  host="$(hostname -s)"
  # The node line as slurmd sees this machine, memory cut to 95 % (more than
  # the real amount drains the node with "Low RealMemory").
  local node
  node="$(slurmd -C | head -n 1)"
  mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
  node="$(sed "s/RealMemory=[0-9]*/RealMemory=$((mem * 95 / 100))/" <<<"$node")"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  cat >"$dir/slurm.conf" <<EOF
ClusterName=pipeline-test
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/log/jobcomp.log
MinJobAge=300
KillWait=5
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
${node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug  Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
PartitionName=strict Nodes=ALL Default=NO  MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  [ -n "$dir" ] || die "usage: $0 start DIR"
  [ "$(id -u)" -eq 0 ] || die "slurmd must run as root; run the Slurm tests as root"
  command -v slurmctld >/dev/null || install_packages
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  start_munge
  export SLURM_CONF="$dir/slurm.conf"
  if pid_alive "$dir/slurmctld.pid" && scontrol ping >/dev/null 2>&1; then
    echo "SLURM_CONF=$SLURM_CONF"
    return 0
  fi
  stop_daemons
  # Two free ports from 6917 on (a cluster left by an earlier run, or the
  # machine's own, keeps its ports; ours are written into our slurm.conf).
  local tries=0
  while port_taken "$ctld_port" || port_taken "$slurmd_port"; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || die "no two free ports from ${PIPELINE_SLURMCTLD_PORT:-6917} on; set PIPELINE_SLURMCTLD_PORT"
    ctld_port=$((ctld_port + 2))
    slurmd_port=$((slurmd_port + 2))
  done
  write_conf
  /usr/sbin/slurmctld -f "$SLURM_CONF" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
  /usr/sbin/slurmd -f "$SLURM_CONF" -N "$(hostname -s)" || die "slurmd did not start (see $dir/log/slurmd.log)"
  local state=""
  for _ in $(seq 150); do
    state="$(sinfo -h -n "$(hostname -s)" -o %T 2>/dev/null || true)"
    case "$state" in idle | mixed | allocated) echo "SLURM_CONF=$SLURM_CONF"; return 0 ;; esac
    sleep 0.1
  done
  die "the node did not come up (state '${state}'; see $dir/log/)"
}

stop_daemons() {
  local f pid
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

case "$cmd" in
  install) install_packages ;;
  start) start ;;
  stop) [ -n "$dir" ] || die "usage: $0 stop DIR"; stop_daemons ;;
  status)
    [ -n "$dir" ] || die "usage: $0 status DIR"
    SLURM_CONF="$dir/slurm.conf" scontrol ping >/dev/null 2>&1
    ;;
  *) die "usage: $0 install | start DIR | stop DIR | status DIR" ;;
esac
