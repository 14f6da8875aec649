#!/usr/bin/env bash
# One call on a lent GPU machine: a training stage of scripts/reproduce_demo.sh inside a fixed time window, with
# its results packed for the trip back.
#   scripts/gpu_loan.sh STAGE RUNS OUT     e.g. scripts/gpu_loan.sh g2a-gpu runs/gpu4 "$OUT"
# renders data/synthcity if absent (all cores), gives the stage what is left of WINDOW seconds (default 500,
# counted from the start) as MINUTES, less 0.4 minutes for start-up and the float16 copies, and runs it with
# EVALUATE=0. It then packs RUNS' float16 generators (*/generator*-fp16), logs (log.jsonl, the last 3,000 bytes
# of each .stdout), checkpoints/latest.json, each run's last sample grid and gpu-util.csv into OUT/pack.tar.NN,
# pieces of 15 MiB (the device tool returns 8 files of at most 16 MiB). Unpack here with
#   cat OUT/pack.tar.* | tar xf -
# then run the stage again here to score what came back (RESULTS.md, "g2a on a GPU from scratch"). A stage that
# trains past MINUTES (attn-adain-gpu's catch-up to equal steps) needs a WINDOW that leaves room for it.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# == 3 ]] || { echo "usage: scripts/gpu_loan.sh STAGE RUNS OUT" >&2; exit 2; }
STAGE=$1 RUNS=$2 OUT=$3 T0=$(date +%s)
python -m crossview.data.synthcity --help > /dev/null  # fails early where the package does not import
[[ -f data/synthcity/meta.json ]] || scripts/reproduce_demo.sh data-train
echo "rendered after $(( $(date +%s) - T0 )) s"
MINUTES=$(python -c "import sys, time; print(round((int(sys.argv[1]) + int(sys.argv[2]) - time.time()) / 60 - 0.4, 2))" \
  "$T0" "${WINDOW:-500}")
echo "MINUTES=$MINUTES"
rc=0
RUNS=$RUNS EVALUATE=0 MINUTES=$MINUTES scripts/reproduce_demo.sh "$STAGE" > "$OUT/stage.log" 2>&1 || rc=$?
echo "stage $STAGE: exit status $rc after $(( $(date +%s) - T0 )) s"
shopt -s nullglob
for f in "$RUNS"/*.stdout; do tail -c 3000 "$f" > "$f.tail"; done
files=("$RUNS"/*.stdout.tail "$RUNS"/*/log.jsonl "$RUNS"/*/generator*-fp16 "$RUNS"/*/checkpoints/latest.json)
[[ ! -f $RUNS/gpu-util.csv ]] || files+=("$RUNS/gpu-util.csv")
for d in "$RUNS"/*/samples; do
  last=$(find "$d" -name '*.png' | sort | tail -n 1)
  [[ -z $last ]] || files+=("$last")
done
tar cf "$OUT/pack.tar" "${files[@]}"
split -b 15m -d "$OUT/pack.tar" "$OUT/pack.tar."
rm "$OUT/pack.tar"
ls -l "$OUT"
exit "$rc"
