#!/usr/bin/env bash
# Run a dsim sweep on Slurm: a job array with one task per shard, then a
# merge job that combines the shard folders into the bytes a single
# `dsim run` would have written. See deploy/README.md for the whole path.
#
#   deploy/slurm.sh submit   EXPERIMENT OUT N [SBATCH_OPTION...]
#   deploy/slurm.sh resubmit EXPERIMENT OUT   [SBATCH_OPTION...]
#   deploy/slurm.sh status   EXPERIMENT OUT
#
# submit   sends shards 0..N-1 as array tasks and a merge job that starts
#          once every task has ended (afterany), whatever their state. The
#          merge checks that every shard finished; if one did not, it exits
#          1 and names the missing shards and the resubmit command.
# resubmit sends the shards that have not finished (cancelled, failed,
#          node lost) as a new array and arms a new merge behind it. Shards
#          that finished are not run again; a shard that stopped part way
#          keeps its finished runs (--resume).
# status   lists finished and missing shards.
#
# Any SBATCH_OPTION (--account=A, --partition=P, --time=1:00:00, --qos=Q)
# goes to every sbatch call. The shard count N is recorded in OUT/slurm/N
# and never derived from SLURM_ARRAY_TASK_COUNT, so a resubmitted or
# stepped array computes the same shards. Logs go to OUT/slurm/logs with
# the submission time in their names (job ids restart on a new cluster).
#
# The dsim binary: DSIM (default: bin/dsim beside this script's repository
# if it exists, else dsim on PATH) must be reachable at the same path on
# every compute node — a shared filesystem, or copy it first with
# `sbcast` inside the job. submit resolves it once and passes it to the
# jobs. DSIM_FLAGS adds flags to every shard and to nothing else (the same
# for every task, or the merge refuses). DSIM_CPUS sets CPUs per shard task
# (default 1: runs inside one shard are parallel only if you ask).
set -euo pipefail

usage="usage: slurm.sh submit EXPERIMENT OUT N [SBATCH_OPTION...] | resubmit EXPERIMENT OUT [SBATCH_OPTION...] | status EXPERIMENT OUT"
die() { # code message
	echo "slurm.sh: $2" >&2
	exit "$1"
}

mode=${1:?$usage}
exp=${2:?$usage}
out=${3:?$usage}
shift 3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# resolve_dsim prints the absolute path of the dsim binary.
resolve_dsim() {
	local d=${DSIM:-}
	if [ -z "$d" ]; then
		if [ -x "$here/../bin/dsim" ]; then d="$here/../bin/dsim"; else d=dsim; fi
	fi
	if [[ "$d" != */* ]]; then
		d=$(command -v "$d") || die 2 "no dsim binary: set DSIM=/shared/path/to/dsim (build it with 'make build')"
	fi
	[ -x "$d" ] || die 2 "DSIM=$d is not an executable file"
	echo "$(cd "$(dirname "$d")" && pwd)/$(basename "$d")"
}

shard_count() {
	[ -f "$out/slurm/N" ] || die 2 "$out/slurm/N is missing: submit this sweep first (slurm.sh submit EXPERIMENT OUT N)"
	cat "$out/slurm/N"
}

# finished SHARD reports whether the shard's folder is complete.
# A shard of several writes runs/shard-done.json; a single "shard" (N=1)
# is a whole results folder with its manifest.
finished() { [ -f "$out/shard-$1/runs/shard-done.json" ] || [ -f "$out/shard-$1/manifest.json" ]; }

missing_shards() {
	local n i list=()
	n=$(shard_count)
	for ((i = 0; i < n; i++)); do
		finished "$i" || list+=("$i")
	done
	echo "${list[*]:-}"
}

# submit_array INDICES SBATCH_OPTIONS... submits the array and its merge,
# printing both job ids.
submit_array() {
	local indices=$1
	shift
	local dsim stamp logs jid mid
	dsim=$(resolve_dsim)
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	logs="$out/slurm/logs"
	mkdir -p "$logs"
	jid=$(sbatch --parsable --job-name=dsim-shard --array="$indices" \
		--cpus-per-task="${DSIM_CPUS:-1}" --output="$logs/$stamp-shard-%a-job%A.log" \
		--export=ALL,DSIM="$dsim" "$@" "$0" run "$exp" "$out")
	jid=${jid%%;*}
	mid=$(sbatch --parsable --job-name=dsim-merge --dependency=afterany:"$jid" \
		--cpus-per-task=1 --output="$logs/$stamp-merge-job%j.log" \
		--export=ALL,DSIM="$dsim" "$@" "$0" merge "$exp" "$out")
	mid=${mid%%;*}
	echo "$mid" >>"$out/slurm/merge-jobs"
	echo "shards: job $jid (array $indices)"
	echo "merge:  job $mid (after every shard task ends; log $logs/$stamp-merge-job$mid.log)"
}

case "$mode" in
submit)
	n=${1:?$usage}
	shift
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die 2 "N must be a whole number ≥ 1, got '$n'"
	if [ -f "$out/slurm/N" ] && [ "$(cat "$out/slurm/N")" != "$n" ]; then
		die 2 "$out was set up for $(cat "$out/slurm/N") shards, not $n: use a new OUT folder, or 'resubmit' to finish the old sweep"
	fi
	shopt -s nullglob
	old=("$out"/shard-*)
	if [ ! -f "$out/slurm/N" ] && [ ${#old[@]} -gt 0 ]; then
		die 2 "$out already holds shard folders from another sweep (${old[*]}): use a new OUT folder"
	fi
	mkdir -p "$out/slurm"
	echo "$n" >"$out/slurm/N"
	submit_array "0-$((n - 1))" "$@"
	;;
resubmit)
	todo=$(missing_shards)
	[ -n "$todo" ] || die 0 "every shard of $out has finished; nothing to resubmit (the merge job, or 'slurm.sh merge' by hand, combines them)"
	# A merge armed behind the earlier array may still be waiting (held,
	# or its tasks not all ended): cancel it, the new one replaces it.
	if [ -f "$out/slurm/merge-jobs" ]; then
		while read -r old; do scancel "$old" 2>/dev/null || true; done <"$out/slurm/merge-jobs"
		: >"$out/slurm/merge-jobs"
	fi
	submit_array "${todo// /,}" "$@"
	;;
status)
	n=$(shard_count)
	todo=$(missing_shards)
	echo "$out: $n shards; missing: ${todo:-none}"
	;;
run)
	: "${SLURM_ARRAY_TASK_ID:?run as a job array task (use 'slurm.sh submit')}"
	n=$(shard_count)
	index=$SLURM_ARRAY_TASK_ID
	((index >= 0 && index < n)) || die 2 "array task $index is outside the sweep's $n shards"
	dsim=$(resolve_dsim)
	par=${SLURM_CPUS_PER_TASK:-1}
	# shellcheck disable=SC2086
	exec "$dsim" run "$exp" --shard "$index/$n" --out "$out/shard-$index" \
		--parallel "$par" --resume --quiet ${DSIM_FLAGS:-}
	;;
merge)
	todo=$(missing_shards)
	if [ -n "$todo" ]; then
		die 1 "shards not finished: $todo (cancelled or failed tasks; see $out/slurm/logs). Run: deploy/slurm.sh resubmit $exp $out"
	fi
	dsim=$(resolve_dsim)
	# --shards merges exactly shard-0 … shard-(N-1) and refuses leftovers
	# of a sweep with another shard count.
	exec "$dsim" merge --shards "$(shard_count)" "$out" --out "$out/merged" --force
	;;
*)
	die 2 "unknown mode '$mode'; $usage"
	;;
esac
