# Sourced by slurm_train.sh / slurm_test.sh: run a Python tool under srun, one task per GPU.
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun flags).
source "$(dirname "${BASH_SOURCE[0]}")/_python.sh"

# slurm_run PARTITION JOB_NAME TOOL.py [tool arguments...]
slurm_run() {
    local partition=$1 job_name=$2 tool=$3
    shift 3
    srun -p "$partition" --job-name="$job_name" \
        --gres=gpu:"${GPUS_PER_NODE:-8}" --ntasks="${GPUS:-8}" \
        --ntasks-per-node="${GPUS_PER_NODE:-8}" --cpus-per-task="${CPUS_PER_TASK:-5}" \
        --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
        "$PYTHON" -u "$TOOLS_DIR/$tool" "$@" --launcher slurm
}
