#!/usr/bin/env bash
# Bring up (or stop) a throwaway one-node Slurm cluster on this machine, for
# testing deploy/slurm.sh against the real scheduler. Everything lives under
# STATE (config, munge key and socket, spool, logs, pid files); nothing in
# /etc is changed and no systemd is needed. Run as root.
#
#   deploy/slurm-cluster.sh up STATE      # install (Debian) if missing, start munged, slurmctld, slurmd
#   export SLURM_CONF=STATE/slurm.conf    # then sbatch, squeue, scontrol talk to it
#   deploy/slurm-cluster.sh down STATE    # stop the daemons (pid files) and keep STATE for the logs
#
# The cluster has one node (this host, all its CPUs) and one partition,
# "debug". Ports are chosen from STATE's path so that two clusters on one
# machine (two CI checkouts) do not collide.
set -euo pipefail

mode=${1:?usage: slurm-cluster.sh up|down STATE}
state=${2:?missing STATE folder}
mkdir -p "$state"
state=$(cd "$state" && pwd)

stop_pid() {
	local f=$1
	[ -f "$f" ] || return 0
	local pid
	pid=$(cat "$f" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

down() {
	stop_pid "$state/slurmd.pid"
	stop_pid "$state/slurmctld.pid"
	stop_pid "$state/munged.pid"
}

install() {
	if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
		return
	fi
	if ! command -v apt-get >/dev/null; then
		echo "slurm-cluster.sh: slurmctld, slurmd, munged and sbatch are needed; install Slurm and MUNGE (Debian: apt-get install slurm-wlm munge)" >&2
		exit 2
	fi
	echo "slurm-cluster.sh: installing slurm-wlm and munge" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

wait_for() { # what, seconds, command...
	local what=$1 secs=$2
	shift 2
	for _ in $(seq $((secs * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "slurm-cluster.sh: $what did not come up in ${secs}s; logs in $state" >&2
	tail -n 20 "$state"/*.log >&2 || true
	return 1
}

up() {
	install
	down
	mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/munge"
	chmod 700 "$state/munge"
	if [ ! -f "$state/munge/munge.key" ]; then
		dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
		chmod 400 "$state/munge/munge.key"
	fi
	munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
		--pid-file="$state/munged.pid" --log-file="$state/munged.log" --seed-file="$state/munge/munge.seed"
	wait_for munged 10 test -S "$state/munge/munge.socket"

	local host cpus mem base
	host=$(hostname -s)
	cpus=$(nproc)
	mem=$(awk '/MemTotal/ {print int($2/1024*0.9)}' /proc/meminfo)
	base=$((20000 + $(printf '%s' "$state" | cksum | cut -d' ' -f1) % 20000))
	cat >"$state/slurm.conf" <<CONF
ClusterName=dsimtest
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=600
KillWait=5
InactiveLimit=0
PlugStackConfig=$state/plugstack.conf
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
	: >"$state/plugstack.conf"
	export SLURM_CONF="$state/slurm.conf"
	slurmctld -f "$SLURM_CONF" -i
	wait_for slurmctld 20 scontrol ping
	slurmd -f "$SLURM_CONF"
	wait_for "node $host" 20 sh -c "sinfo -h -N -o %t | grep -qE '^(idle|mix|alloc)'"
	echo "slurm-cluster.sh: up; export SLURM_CONF=$state/slurm.conf"
}

case "$mode" in
up) up ;;
down) down ;;
*)
	echo "slurm-cluster.sh: unknown mode $mode (up or down)" >&2
	exit 2
	;;
esac
