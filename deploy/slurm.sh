#!/usr/bin/env bash
# Run a dsim sweep as a Slurm job array: one array task per shard, then one
# merge step that combines the shard folders into the bytes a single
# `dsim run` would have written.
#
#   deploy/slurm.sh submit EXPERIMENT OUT N   # submit N shard tasks + a dependent merge
#
# which is the same as
#
#   jid=$(sbatch --parsable --array=0-$((N-1)) deploy/slurm.sh run EXPERIMENT OUT)
#   sbatch --dependency=afterok:$jid deploy/slurm.sh merge EXPERIMENT OUT
#
# Each task reads its shard from SLURM_ARRAY_TASK_ID (minus
# SLURM_ARRAY_TASK_MIN) and the shard count from SLURM_ARRAY_TASK_COUNT,
# writes OUT/shard-I, and uses --resume so that a requeued task keeps the
# runs it already finished. EXPERIMENT is a YAML file on shared storage or a
# bundled name; OUT must be on storage every node sees. Set DSIM to the dsim
# binary (default: dsim on PATH) and DSIM_FLAGS for extra flags such as
# "--set duration=60s" (the same for every task, or the merge will refuse).
#
#SBATCH --job-name=dsim
#SBATCH --cpus-per-task=2
#SBATCH --output=dsim-%A_%a.log
set -euo pipefail

DSIM=${DSIM:-dsim}
mode=${1:?usage: slurm.sh run|merge|submit EXPERIMENT OUT [N]}
exp=${2:?missing EXPERIMENT}
out=${3:?missing OUT}

case "$mode" in
run)
	: "${SLURM_ARRAY_TASK_ID:?run as a job array task (sbatch --array=0-N)}"
	count=${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is not set}
	index=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
	# One run per CPU Slurm gave us; each run is single-threaded.
	par=${SLURM_CPUS_PER_TASK:-1}
	# shellcheck disable=SC2086
	exec "$DSIM" run "$exp" --shard "$index/$count" --out "$out/shard-$index" \
		--parallel "$par" --resume --quiet ${DSIM_FLAGS:-}
	;;
merge)
	shopt -s nullglob
	shards=("$out"/shard-*)
	if [ ${#shards[@]} -eq 0 ]; then
		echo "slurm.sh: no shard folders in $out" >&2
		exit 2
	fi
	exec "$DSIM" merge "${shards[@]}" --out "$out/merged" --force
	;;
submit)
	n=${4:?missing N, the number of shards}
	jid=$(sbatch --parsable --array=0-$((n - 1)) "$0" run "$exp" "$out")
	sbatch --dependency=afterok:"$jid" --job-name=dsim-merge "$0" merge "$exp" "$out"
	;;
*)
	echo "slurm.sh: unknown mode $mode (run, merge or submit)" >&2
	exit 2
	;;
esac
