#!/usr/bin/env bash
# Everything behind RESULTS.md, in order: data, the demo generators, Pix2Pix with the same wall-clock budget,
# the a2g ablations, the shipped checkpoints, the metrics and the figures. Each training run uses one thread
# and runs beside one other (two at a time on a 2-core machine), as they did for RESULTS.md.
# Stages can be run one by one: scripts/reproduce_demo.sh data|train|ship|evaluate|figures (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
STAGE=${1:-all}
COMMON="--batch-size 8 --epochs 100 --sample-every 100 --checkpoint-every 100 --log-every 10"
EVAL="--data data/synthcity-test --split test --limit 500"

if [[ $STAGE == all || $STAGE == data ]]; then
  python -m crossview.data.synthcity --out data/synthcity --num 12000 --seed 0 --train-frac 0.95 --val-frac 0.05 --labels --workers 2
  python -m crossview.data.synthcity --out data/synthcity-test --num 1000 --seed 1 --train-frac 0 --val-frac 0 --labels
fi

if [[ $STAGE == all || $STAGE == train ]]; then
  # ours and Pix2Pix, 40 minutes each (a2g), then 30 minutes each (g2a)
  python -m train.generator --direction a2g --out runs/gen-a2g $COMMON --max-minutes 40 > runs/gen-a2g.stdout 2>&1 &
  python -m train.pix2pix --direction a2g --out runs/p2p-a2g $COMMON --max-minutes 40 > runs/p2p-a2g.stdout 2>&1 &
  wait
  python -m train.generator --direction g2a --out runs/gen-g2a $COMMON --max-minutes 30 > runs/gen-g2a.stdout 2>&1 &
  python -m train.pix2pix --direction g2a --out runs/p2p-g2a $COMMON --max-minutes 30 > runs/p2p-g2a.stdout 2>&1 &
  wait
  # the ablations, for as many steps as the full a2g model got
  STEPS=$(python -c "import json; print(json.load(open('runs/gen-a2g/checkpoints/latest.json'))['step'])")
  python -m train.generator --direction a2g --no-attn-adain --out runs/abl-no-attn-a2g $COMMON --max-steps "$STEPS" > runs/abl-no-attn-a2g.stdout 2>&1 &
  python -m train.generator --direction a2g --no-embedder --out runs/abl-no-embedder-a2g $COMMON --max-steps "$STEPS" > runs/abl-no-embedder-a2g.stdout 2>&1 &
  wait
fi

if [[ $STAGE == all || $STAGE == ship ]]; then
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g runs/gen-a2g/generator \
    --g2a runs/gen-g2a/generator --out assets/checkpoints/demo --fp16 \
    --notes "demo preset trained on SynthCity (11,400 pairs): see RESULTS.md"
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g runs/abl-no-attn-a2g/generator --out runs/pipelines/abl-no-attn-a2g --fp16
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g runs/abl-no-embedder-a2g/generator --out runs/pipelines/abl-no-embedder-a2g --fp16
  for d in a2g g2a; do  # the baselines as float16 model folders
    python -c "from crossview.checkpoint import load_model, save_model; from crossview.models.pix2pix import Pix2PixGenerator as G; save_model(load_model(G, 'runs/p2p-$d/generator'), 'assets/checkpoints/pix2pix-$d', fp16=True)"
  done
fi

if [[ $STAGE == all || $STAGE == evaluate ]]; then
  python -m train.evaluate --model assets/checkpoints/demo $EVAL --out runs/eval/ours.json --name ours --save-images runs/eval/ours
  for d in a2g g2a; do
    python -m train.evaluate --model assets/checkpoints/pix2pix-$d --baseline pix2pix $EVAL --out runs/eval/pix2pix-$d.json --name Pix2Pix
  done
  python -m train.evaluate --model runs/pipelines/abl-no-attn-a2g $EVAL --out runs/eval/abl-no-attn-a2g.json --name "w/o Attn-AdaIN"
  python -m train.evaluate --model runs/pipelines/abl-no-embedder-a2g $EVAL --out runs/eval/abl-no-embedder-a2g.json --name "w/o embedder"
  python -m train.evaluate --markdown runs/eval/ours.json runs/eval/pix2pix-a2g.json runs/eval/pix2pix-g2a.json
  python -m train.evaluate --markdown runs/eval/ours.json runs/eval/abl-no-attn-a2g.json runs/eval/abl-no-embedder-a2g.json
fi

if [[ $STAGE == all || $STAGE == figures ]]; then
  python -m train.figures --data data/synthcity-test --model assets/checkpoints/demo \
    --pix2pix a2g=assets/checkpoints/pix2pix-a2g g2a=assets/checkpoints/pix2pix-g2a \
    --runs ours-a2g=runs/gen-a2g pix2pix-a2g=runs/p2p-a2g ours-g2a=runs/gen-g2a pix2pix-g2a=runs/p2p-g2a \
           "w/o Attn-AdaIN a2g=runs/abl-no-attn-a2g" "w/o embedder a2g=runs/abl-no-embedder-a2g" \
    --out docs/figures
fi
