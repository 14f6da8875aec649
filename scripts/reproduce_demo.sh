#!/usr/bin/env bash
# Everything behind RESULTS.md and the shipped checkpoints, stage by stage:
#   scripts/reproduce_demo.sh data|train|ship|evaluate|equal-steps|figures   (default: all but equal-steps)
#   scripts/reproduce_demo.sh continue-a2g                                   (on its own, as every stage below)
#   scripts/reproduce_demo.sh leg4-evaluator   Table 4's SAIG-D (commit 219cd95) into runs/saig-d-leg4
#   scripts/reproduce_demo.sh data-train       data/synthcity alone, unless it is there (scripts/gpu_loan.sh)
# Two routes, chosen with ROUTE:
#   gpu (default) the shipped models: on one GPU (an H100 here), ours and Pix2Pix in both directions and the two
#                 a2g ablations all at once, each for the same wall-clock budget (MINUTES, default 4.3), batch 16,
#                 beside two SAIG-D trainings (they did not finish in our window; the shipped SAIG-D comes from
#                 the CPU recipe in the README). Runs in runs/gpu/; `ship` writes assets/checkpoints/.
#   cpu           the CPU study at the end of RESULTS.md: every run on one thread, two at a time on 2 cores,
#                 batch 8, ours and Pix2Pix 40 (a2g) and 30 (g2a) minutes each, then the ablations for as many
#                 steps as ours a2g got. Runs in runs/; `ship` writes runs/pipelines/cpu-* (not shipped), `figures`
#                 runs/figures.
#   equal-steps (gpu route) w/o Attn-AdaIN and Pix2Pix a2g for exactly as many steps of 16 as ours a2g got,
#                 trained and evaluated on whatever machine runs it (RESULTS.md's rows come from the CPU: the GPU
#                 session's ablations were lost before evaluation).
#   continue-a2g, continue-g2a  ours and Pix2Pix in that direction go on from the weights shipped at a commit (a2g:
#                 738ddf7, the first GPU loan's; g2a: 088b67a, the second loan's ours and the retrained Pix2Pix),
#                 side by side on one CPU thread each, for the same MINUTES (default 100 a2g, 140 g2a) on
#                 data/synthcity-36k (the README's SAIG-D recipe renders it; its first 12,000 scenes are
#                 data/synthcity's), then are evaluated. Run it again with a larger MINUTES to go on: the budget
#                 counts over all resumes. Runs in runs/cont-{ours,p2p}-<direction>, scores in
#                 $R/eval*/cont-*-<direction>.json, figures in docs/figures/continued-<direction>/. DIFFAUG=0 (default
#                 1) trains ours without DiffAug, for the steps of the run with it, into runs/cont-ours-no-diffaug-<d>;
#                 scored as cont-ours-no-diffaug-<d>.json, figures in docs/figures/continued-no-diffaug-<d>/.
#                 EMA_KIMG=2 (say) trains both methods anew with a moving average of G's weights of that half-life
#                 (--ema-kimg, no ramp-up) for the same MINUTES (DIFFAUG=0 too), into runs/cont-{ours,p2p}[-no-diffaug]
#                 -ema2-<d>, and scores G and its average by those names (-ema: the average); figures the same way.
#                 SEED=1 (default 0) trains both anew with that seed the same way, with -seed1 in their names.
#   continue-gpu  (a second GPU loan) Table 2's four runs go on, all at once on one GPU, for the same MINUTES (default
#                 6) each, batch 16, on data/synthcity (rendered first if absent): a2g from the continue-a2g runs'
#                 generators after MINUTES=100, g2a from the ones shipped at commit 4c787cd (START_OURS_A2G, START_P2P_A2G,
#                 START_OURS_G2A, START_P2P_G2A name the start folders). Runs and the GPU utilization log in runs/gpu2/;
#                 `RUNS=runs/gpu2 scripts/reproduce_demo.sh ship` (then evaluate, figures) ships and scores them.
#   pix2pix-fix   the Pix2Pix discriminator fix at equal steps: the flawed trainer (a git worktree of commit 4c787cd
#                 in runs/pix2pix-4c787cd) and the fixed one train Pix2Pix a2g side by side for 1,001 steps of 16,
#                 one thread each, on data/synthcity-36k; both are scored by the shipped and the leg-4 SAIG-D
#                 (EVALUATOR is ignored) into runs/eval-pix2pix-fix/. Then the fixed run goes on to 4,374 steps
#                 (Pix2Pix a2g's loan-1 steps) and is scored by the shipped SAIG-D. Last, the fixed trainer runs
#                 g2a from scratch to 4,821 steps (Pix2Pix g2a's loan-1 steps), scored beside ours g2a's
#                 loan-1 weights (commit 4c787cd) by the shipped SAIG-D.
#   pix2pix-retrain  the fixed Pix2Pix trainer for as many steps of 16 as the shipped, flawed baselines took over
#                 both GPU loans and the CPU stage (18,426 a2g, 16,014 g2a: what ours' minutes gave them), from
#                 scratch on data/synthcity-36k, side by side on one thread each (about 5.5 hours; run the stage
#                 again to go on). When both are done it writes them, float16, to assets/checkpoints/pix2pix-<d>
#                 and draws the qualitative grids and their curves into runs/figures/pix2pix-retrain/; then
#                 `RUNS=runs/shipped scripts/reproduce_demo.sh evaluate` scores them beside the shipped demo (Table 2).
#   equal-minutes-g2a, equal-minutes-a2g  ours and the fixed Pix2Pix in that direction, both with the cheaper
#                 training step (README, Benchmarks), from scratch, side by side on one CPU thread each, for the same
#                 MINUTES (default 45), batch 16, on data/synthcity-36k; scored by the shipped SAIG-D into
#                 runs/eval-equal-minutes/, curves and grid in runs/figures/equal-minutes-<direction>/.
#                 PERCEPTUAL_LEVELS=mean trains ours with eq. 8 averaged over the stem levels (default sum, as
#                 every shipped model) into runs/eqmin-ours-mean-<direction>, scored as ours-mean-<direction>.json,
#                 figures in runs/figures/equal-minutes-mean-<direction>/; the Pix2Pix run is reused if finished.
#                 FEATURE_BLUR=5 (default 0) trains ours with --feature-blur 5 the same way, into
#                 runs/eqmin-ours-blur5-*, scored as ours-blur5-*.json, figures in runs/figures/equal-minutes-blur5-*.
#                 SEED=1 (default 0) trains both methods with that seed into runs/eqmin-{ours,p2p}-seed1-<direction>.
#                 Another MINUTES than 45, e.g. 90, trains into runs/eqmin-{ours,p2p}[-seed<SEED>]-90min-<direction>,
#                 going on from the 45-minute runs where those exist (the budget counts over resumes).
#   ablations-a2g, ablations-g2a  the ablations w/o Attn-AdaIN and w/o embedder (ABLATIONS, default both:
#                 no-attn-adain no-embedder; any of train.generator's --no-* switches, e.g. no-diffaug; diffaug-color
#                 or diffaug-cutout: DiffAug with that augmentation alone; or rerun: ours itself, a control on this
#                 machine and code revision), trained as
#                 equal-minutes-<direction> trains ours, for exactly the steps of ours' run of the same SEED (default
#                 0) and MINUTES (default 45; run that stage first, or give its step count as STEPS), side by side;
#                 scored by the shipped SAIG-D into runs/eval-equal-minutes/<ablation>[-seed<SEED>][-<MINUTES>min]-
#                 <direction>.json; grids (the ablation in ours' column, beside Pix2Pix of that seed and minutes,
#                 where that run is here) and curves in runs/figures/<same>/.
#   cutout-g2a    ours g2a with DiffAug's Cutout alone (--diffaug-policy cutout) from scratch on data/synthcity-36k,
#                 batch 16, alone on THREADS (default 2) threads, for the shipped ours g2a's 3,050 steps of 16 (Table 2's
#                 budget: its GPU loans, beside which the shipped Pix2Pix g2a took 16,014), seed SEED (default 0), into
#                 runs/cutout[-seed<SEED>]-g2a; scored as a float16 pipeline by EVALUATOR into runs/eval*/cutout[-seed<SEED>]-g2a.json
#                 beside the shipped Pix2Pix g2a (runs/eval*/pix2pix-g2a.json);
#                 grid (beside that baseline) and curves in runs/figures/cutout[-seed<SEED>]-g2a/. SHIP=1 then writes
#                 assets/checkpoints/demo with the shipped a2g and this g2a (seed 0 only: as shipped since).
#   longer-a2g    ours a2g as shipped before it (commit 7109947's, copied to runs/longer-a2g-start) goes on (--init:
#                 fresh discriminators and optimizers) for 2,093 more steps of 16, to 6,000 in all: about the steps that
#                 cost on this CPU what the shipped Pix2Pix a2g's 18,426 cost (ours' step costs 3.07x Pix2Pix's on one
#                 thread: 6,002; 2 short by a slip in the sum), on data/synthcity-36k, alone on THREADS (default 2)
#                 threads, seed SEED (default 0), into runs/longer-a2g[-seed<SEED>]; scored as a float16 pipeline into
#                 runs/eval*/longer-a2g[-seed<SEED>].json beside the shipped Pix2Pix a2g (pix2pix-a2g.json), grid and
#                 curves in runs/figures/longer-a2g[-seed<SEED>]/. SHIP=1 then writes assets/checkpoints/demo with this
#                 a2g and the shipped g2a (seed 0 only: as shipped since).
#   blur-a2g      the shipped a2g (commit c93d65e's, copied to runs/a2g-c93d65e) goes on (--init) for 2,093 more
#                 steps of 16 with --feature-blur FEATURE_BLUR (default 3), to 8,093 in all as the diagnostic that went
#                 on without the blur (RESULTS.md), and eq. 7's and eq. 8's weights LAMBDA_REC and LAMBDA_PERC (default
#                 50 and 50), REC_POOL (default 1: eq. 7 per pixel; K: between K x K block means, --rec-pool) and
#                 PERC_FROM_LEVEL (default 0: eq. 8 over all of SAIG-S's stem levels; L: from level L on,
#                 --perceptual-from-level), and with LAMBDA_PATCH > 0 (default 0) a third discriminator, an unconditional PatchGAN
#                 for local realism of that weight (--lambda-patch) with PATCH_LAYERS strided layers (1, 2, 3: patches
#                 of 16, 34, 70 px; default 0: 70 px), on luma alone with PATCH_LUMA=1, and eq. 10's weight
#                 LAMBDA_DIV (default 0.1), and with TUNE_EMBEDDER_LR > 0 (default 0) G's own copy of SAIG-S's aerial
#                 branch trained with it at that learning rate (--tune-embedder-lr), and with BEST_OF > 1 (default 1)
#                 that many noise draws per pair, the step training the one nearest the truth (--best-of), otherwise
#                 as longer-a2g, into
#                 runs/blur<FEATURE_BLUR>[-rec<R>-perc<P>][-pool<REC_POOL>][-percfrom<L>][-patch<LAMBDA_PATCH>][-rf<16|34>][-luma]
#                 [-div<LAMBDA_DIV>][-tune<TUNE_EMBEDDER_LR>][-best<BEST_OF>]-a2g[-seed<SEED>]; scored and drawn as longer-a2g. STEPS (default 2093) other
#                 than 2093 goes on to that step count into runs/<same>-steps<STEPS>, from a copy of the 2,093-step
#                 run where there is one (its discriminators and optimizers too). EMA_KIMG then goes on from that
#                 run (a copy, into runs/<same>-ema<EMA_KIMG>) for EMA_STEPS (default 1000) more steps with a weight
#                 average of that half-life (no ramp-up) started at its last step, and scores G and the average
#                 (runs/eval/<name>[-ema].json). SHIP=1 then ships this a2g (the average where there is one) as
#                 longer-a2g does (seed 0 only).
#   overfit-a2g   can the demo generator draw facades at all? The shipped a2g (commit c93d65e's) goes on (--init)
#                 for 600 steps with every default, on 16 training pairs only (data/synthcity-overfit: 24 pairs of
#                 seed 7, 16 to train, rendered first if absent), so that every batch holds all 16; its grid of those
#                 training pairs (not test pairs: the question is capacity, not generalisation) in
#                 runs/figures/overfit-a2g/. Nothing is scored or shipped.
#   attn-adain-gpu  (a third GPU loan) ours and w/o Attn-AdaIN a2g from scratch, seeds 0, 1 and 2, all six at once on
#                 one GPU for the same MINUTES (default 5), batch 16, on data/synthcity (rendered first if absent); then
#                 the runs behind go on to the step of the one furthest on, so that all six stop at one step count.
#                 Each is copied as float16 (generator-fp16/) beside its run in runs/gpu3/ (RUNS). Run again where the
#                 copies are (here: after they came back from the GPU machine), it skips the training and scores them
#                 by EVALUATOR into runs/gpu3/eval/; EVALUATE=0 trains only.
#   g2a-gpu       (a fourth GPU loan) ours w/o DiffAug and Pix2Pix g2a from scratch, seeds 0 and 1, and ours with
#                 DiffAug, seed 0, all five at once on one GPU for the same MINUTES (default 5), batch 16, on
#                 data/synthcity (rendered first if absent), each with a moving average of G's weights (EMA_KIMG,
#                 default 2, with the default ramp-up); each average is copied as float16 (generator-ema-fp16/)
#                 into runs/gpu4/ (RUNS). Run again where the copies are, it skips the training and scores the
#                 averages by EVALUATOR into runs/gpu4/eval/; EVALUATE=0 trains only.
# Environment: ROUTE, MINUTES, SAIG_EPOCHS (default 30), RENDER_WORKERS (default: all cores), EVALUATOR (the
#   SAIG-D folder for R@1 and FID-SAIG; default assets/checkpoints/saig-d, whose scores go to $R/eval/; another
#   evaluator's go to $R/eval-<its folder name>/, e.g. runs/gpu/eval-saig-d-leg4/).
set -euo pipefail
cd "$(dirname "$0")/.."
RENDER_WORKERS=${RENDER_WORKERS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}  # all cores: nproc obeys those two
export OMP_NUM_THREADS=1
STAGE=${1:-all}
ROUTE=${ROUTE:-gpu}
TEST="--data data/synthcity-test --split test --limit 500"  # the 500 held-out pairs of every table
EVAL="$TEST ${EVALUATOR:+--evaluator $EVALUATOR}"  # default: the shipped SAIG-D
case $ROUTE in
  gpu) R=${RUNS:-runs/gpu}; DEMO=assets/checkpoints/demo; P2P=assets/checkpoints/pix2pix; FIGURES=docs/figures
       COMMON="--batch-size 16 --epochs 100 --workers 2 --sample-every 500 --checkpoint-every 500 --log-every 25" ;;
  cpu) R=runs; DEMO=runs/pipelines/cpu-ours; P2P=runs/pipelines/cpu-pix2pix; FIGURES=runs/figures
       COMMON="--batch-size 8 --epochs 100 --sample-every 100 --checkpoint-every 100 --log-every 10" ;;
  *) echo "ROUTE must be gpu or cpu, not '$ROUTE'" >&2; exit 2 ;;
esac
mkdir -p "$R"
eval_dir() { echo "$1/eval${EVALUATOR:+-$(basename "$EVALUATOR")}"; }  # RUN_ROOT: where its scores go, one folder per evaluator
EVAL_DIR=$(eval_dir "$R")  # so that Table 2 and Table 4 never overwrite each other
CPU36K="--data data/synthcity-36k --batch-size 16 --epochs 100 --workers 1 --resume"  # the CPU stages' runs, one thread each

run() { local name=$1; shift; "$@" --out "$R/$name" > "$R/$name.stdout" 2>&1; }  # logs beside the run folder
wait_for() {  # PID...: waits for each; fails if any of them failed, so a crashed run stops the stage
  local pid failed=0
  for pid in "$@"; do wait "$pid" || failed=1; done
  (( ! failed )) || { echo "a background run failed: see its .stdout log" >&2; return 1; }
}
wait_all() { wait_for $(jobs -p); }  # every background job of this shell
wait_logging_gpu() {  # LOG PID...: wait_for the runs while nvidia-smi (where there is one) samples the GPU into LOG
  local log=$1 smi= ok=1; shift
  if command -v nvidia-smi > /dev/null; then  # shows how busy the shared GPU was
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 > "$log" &
    smi=$!
  fi
  wait_for "$@" || ok=0  # not wait_all: nvidia-smi runs until killed
  [[ -z $smi ]] || kill "$smi"
  (( ok ))
}
steps_done() {  # RUN_DIR: the step of the run's latest checkpoint
  if [[ ! -f $1/checkpoints/latest.json ]]; then
    echo "no checkpoint in $1: run the stage that trains it first" >&2
    return 1
  fi
  python -c "import json, sys; print(json.load(open(sys.argv[1] + '/checkpoints/latest.json'))['step'])" "$1"
}
checkpoint_from_git() {  # COMMIT MODEL DEST: assets/checkpoints/MODEL as COMMIT had it, into the folder DEST
  [[ ! -d $3 ]] || return 0  # a commit's files never change: one copy serves every later stage
  local f; rm -rf "$3.partial"; mkdir -p "$3.partial"  # renamed when complete: a cut-off copy is never taken
  for f in config.json model.safetensors; do git show "$1:assets/checkpoints/$2/$f" > "$3.partial/$f" || return 1; done
  mv "$3.partial" "$3"
}
leg4_evaluator() { checkpoint_from_git 219cd95 saig-d runs/saig-d-leg4; }  # Table 4's SAIG-D (RESULTS.md, Metrics)
render_train_set() {  # data/synthcity, the GPU loans' training set
  python -m crossview.data.synthcity --out data/synthcity --num 12000 --seed 0 --train-frac 0.95 --val-frac 0.05 \
    --workers "$RENDER_WORKERS" --quiet
}
train_set_rendered() { [[ -f data/synthcity/meta.json ]]; }  # meta.json is written last: a cut-off render lacks it

if [[ $STAGE == leg4-evaluator ]]; then leg4_evaluator; fi
if [[ $STAGE == data-train ]]; then train_set_rendered || render_train_set; fi  # the GPU loans' set alone (gpu_loan.sh)

if [[ $STAGE == all || $STAGE == data ]]; then  # the same two datasets on both routes
  render_train_set
  python -m crossview.data.synthcity --out data/synthcity-test --num 1000 --seed 1 --train-frac 0 --val-frac 0 \
    --workers "$RENDER_WORKERS" --quiet
fi

if [[ $STAGE == all || $STAGE == train ]]; then
  if [[ $ROUTE == gpu ]]; then
    MINUTES=${MINUTES:-4.3}
    SAIG="--data data/synthcity --variant d --epochs ${SAIG_EPOCHS:-30} --batch-size 128 --loss infonce --warmup-steps 300 --workers 4 --eval-every 445 --checkpoint-every 445"
    run saig-d-lr2e-4 python -m train.embedder $SAIG --lr 2e-4 &
    run saig-d-lr1e-4 python -m train.embedder $SAIG --lr 1e-4 &
    for d in a2g g2a; do
      run gen-$d python -m train.generator --direction $d $COMMON --max-minutes $MINUTES &
      run p2p-$d python -m train.pix2pix --direction $d $COMMON --max-minutes $MINUTES &
    done
    run abl-no-attn-a2g python -m train.generator --direction a2g --no-attn-adain $COMMON --max-minutes $MINUTES &
    run abl-no-embedder-a2g python -m train.generator --direction a2g --no-embedder $COMMON --max-minutes $MINUTES &
    wait_all
  else
    for d in a2g g2a; do  # ours and Pix2Pix side by side: 40 minutes each (a2g), then 30 (g2a)
      minutes=$([[ $d == a2g ]] && echo 40 || echo 30)
      run gen-$d python -m train.generator --direction $d $COMMON --max-minutes $minutes &
      run p2p-$d python -m train.pix2pix --direction $d $COMMON --max-minutes $minutes &
      wait_all
    done
    STEPS=$(steps_done $R/gen-a2g)
    run abl-no-attn-a2g python -m train.generator --direction a2g --no-attn-adain $COMMON --max-steps "$STEPS" &
    run abl-no-embedder-a2g python -m train.generator --direction a2g --no-embedder $COMMON --max-steps "$STEPS" &
    wait_all
  fi
fi

if [[ $STAGE == all || $STAGE == ship ]]; then  # ships whatever trained; a failed piece is reported at the end
  failed=()
  try() { "$@" || failed+=("$*"); }
  try python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g $R/gen-a2g/generator \
    --g2a $R/gen-g2a/generator --out $DEMO --fp16 \
    --notes "demo preset trained on SynthCity by scripts/reproduce_demo.sh (run folders $R/gen-a2g, $R/gen-g2a): see RESULTS.md for its stages, data and budget"
  for abl in abl-no-attn-a2g abl-no-embedder-a2g; do
    [[ -d $R/$abl ]] || { echo "no $R/$abl: not shipped"; continue; }  # continue-gpu trains no ablations
    try python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g $R/$abl/generator \
      --out $R/pipelines/$abl --fp16
  done
  for d in a2g g2a; do  # the baselines as float16 model folders
    try python -m crossview.checkpoint $R/p2p-$d/generator $P2P-$d --fp16
  done
  if (( ${#failed[@]} )); then printf 'failed: %s\n' "${failed[@]}" >&2; exit 1; fi
fi

if [[ $STAGE == all || $STAGE == evaluate ]]; then  # every model on the SAIG-D in EVALUATOR (default: shipped), two at a time
  mkdir -p $EVAL_DIR
  python -m train.evaluate --retrieval --model "${EVALUATOR:-assets/checkpoints/saig-d}" --data data/synthcity-test \
    --split test --out $EVAL_DIR/saig-d.json
  python -m train.evaluate --model $DEMO $EVAL --out $EVAL_DIR/ours.json --name ours &
  python -m train.evaluate --model $P2P-a2g --baseline pix2pix $EVAL --out $EVAL_DIR/pix2pix-a2g.json --name Pix2Pix &
  wait_all
  python -m train.evaluate --model $P2P-g2a --baseline pix2pix $EVAL --out $EVAL_DIR/pix2pix-g2a.json --name Pix2Pix
  python -m train.evaluate --markdown $EVAL_DIR/ours.json $EVAL_DIR/pix2pix-a2g.json $EVAL_DIR/pix2pix-g2a.json
  if [[ -d $R/pipelines/abl-no-attn-a2g ]]; then  # the runs of continue-gpu have no ablations
    python -m train.evaluate --model $R/pipelines/abl-no-attn-a2g $EVAL --out $EVAL_DIR/abl-no-attn-a2g.json \
      --name "w/o Attn-AdaIN" &
    python -m train.evaluate --model $R/pipelines/abl-no-embedder-a2g $EVAL --out $EVAL_DIR/abl-no-embedder-a2g.json \
      --name "w/o embedder" &
    wait_all
    python -m train.evaluate --markdown $EVAL_DIR/ours.json $EVAL_DIR/abl-no-attn-a2g.json \
      $EVAL_DIR/abl-no-embedder-a2g.json
  fi
fi

if [[ $STAGE == equal-steps ]]; then  # runs for exactly ours a2g's steps, one thread each, on any machine
  STEPS=$(python -c "import json; print(json.loads(open('$R/gen-a2g/log.jsonl').read().splitlines()[-1])['step'])")
  STEP_RUN="$COMMON --workers 1 --checkpoint-every 50 --max-steps $STEPS"
  python -m train.generator --direction a2g --no-attn-adain --out runs/abl-no-attn-a2g-b16 $STEP_RUN \
    > runs/abl-no-attn-a2g-b16.stdout 2>&1 &
  python -m train.pix2pix --direction a2g --out runs/p2p-a2g-b16 $STEP_RUN > runs/p2p-a2g-b16.stdout 2>&1 &
  wait_all
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g runs/abl-no-attn-a2g-b16/generator \
    --out runs/pipelines/abl-no-attn-a2g-b16 --fp16
  mkdir -p $EVAL_DIR
  python -m train.evaluate --model runs/pipelines/abl-no-attn-a2g-b16 $EVAL --out $EVAL_DIR/abl-no-attn-a2g-b16.json \
    --name "w/o Attn-AdaIN" &
  python -m train.evaluate --model runs/p2p-a2g-b16/generator --baseline pix2pix $EVAL \
    --out $EVAL_DIR/pix2pix-a2g-b16.json --name "Pix2Pix, ours' steps" &
  wait_all
  for seed in 1000 2000; do  # the Attn-AdaIN comparison with other noise seeds
    python -m train.evaluate --model $DEMO --direction a2g --seed $seed $EVAL --out $EVAL_DIR/ours-a2g-seed$seed.json \
      --name ours &
    python -m train.evaluate --model runs/pipelines/abl-no-attn-a2g-b16 --seed $seed $EVAL \
      --out $EVAL_DIR/abl-no-attn-a2g-b16-seed$seed.json --name "w/o Attn-AdaIN" &
    wait_all
  done
fi

if [[ $STAGE == continue-a2g || $STAGE == continue-g2a ]]; then  # a longer budget on this CPU, equal for both methods
  D=${STAGE#continue-}
  START=runs/cont-start  # the weights shipped at that commit, whatever assets/checkpoints/ holds now
  case $D in  # the shipped weights it starts from, and its default budget
    a2g) START_COMMIT=738ddf7 DEFAULT_MINUTES=100 ;;
    g2a) START_COMMIT=088b67a DEFAULT_MINUTES=140 ;;
  esac
  for m in demo/$D pix2pix-$D; do checkpoint_from_git $START_COMMIT $m $START/$m; done
  CONT="--direction $D --data data/synthcity-36k --batch-size 16 --epochs 100 --workers 1 --log-every 10
        --sample-every 250 --checkpoint-every 50 --resume --seed ${SEED:-0}"
  MINUTES=${MINUTES:-$DEFAULT_MINUTES}
  TAG=${EMA_KIMG:+-ema$EMA_KIMG}  # with a weight average or a seed, both methods train new runs for the same minutes
  [[ ${SEED:-0} == 0 ]] || TAG=$TAG-seed$SEED
  EMA=${EMA_KIMG:+--ema-kimg $EMA_KIMG --ema-rampup 0}  # no ramp-up: the runs start from trained weights
  OURS=cont-ours$TAG-$D OURS_BUDGET="--max-minutes $MINUTES" NAME=ours P2P=cont-p2p$TAG-$D
  if [[ ${DIFFAUG:-1} == 0 ]]; then
    OURS=cont-ours-no-diffaug$TAG-$D NAME="ours w/o DiffAug"
    # no TAG: for the steps ours got with DiffAug, beside that run's Pix2Pix (reused); else the same minutes
    [[ -n $TAG ]] || OURS_BUDGET="--max-steps $(steps_done runs/cont-ours-$D)"
    OURS_BUDGET="--no-diffaug $OURS_BUDGET"
  fi
  python -m train.generator $CONT $EMA $OURS_BUDGET --init $START/demo/$D --out runs/$OURS >> runs/$OURS.stdout 2>&1 &
  python -m train.pix2pix $CONT $EMA --max-minutes $MINUTES --init $START/pix2pix-$D --out runs/$P2P \
    >> runs/$P2P.stdout 2>&1 &  # finished: stops at once
  wait_all
  mkdir -p $EVAL_DIR
  for W in generator ${EMA:+generator-ema}; do  # G, and its weight average where there is one
    SUFFIX=${W#generator} SCORES_OURS=$EVAL_DIR/$OURS$SUFFIX.json
    SCORES_P2P=$EVAL_DIR/${P2P/cont-p2p/cont-pix2pix}$SUFFIX.json
    python -m crossview.pipeline --embedder assets/checkpoints/saig-s --$D runs/$OURS/$W \
      --out runs/pipelines/$OURS$SUFFIX --fp16
    python -m train.evaluate --model runs/pipelines/$OURS$SUFFIX $EVAL --out $SCORES_OURS \
      --name "$NAME${SUFFIX:+, weight average}" &
    python -m train.evaluate --model runs/$P2P/$W --baseline pix2pix --direction $D $EVAL --out $SCORES_P2P \
      --name "Pix2Pix${SUFFIX:+, weight average}" &
    wait_all
    python -m train.evaluate --markdown $SCORES_OURS $SCORES_P2P
    CURVES=(--runs ours-$D=runs/$OURS pix2pix-$D=runs/$P2P)
    [[ -z $SUFFIX ]] || CURVES=()  # the runs' curves once, beside G's grid
    python -m train.figures --data data/synthcity-test --model runs/pipelines/$OURS$SUFFIX \
      --pix2pix $D=runs/$P2P/$W "${CURVES[@]}" \
      --out docs/figures/${OURS/cont-ours/continued}$SUFFIX  # RESULTS.md shows the grid and the curves
  done
fi

if [[ $STAGE == continue-gpu ]]; then  # a second GPU loan: the four Table 2 runs go on from the best weights so far
  train_set_rendered || render_train_set
  R=runs/gpu2; mkdir -p $R
  START=runs/gpu2-start  # loan 1's g2a generators, as shipped until commit 4c787cd (git needed unless START_* given)
  if [[ -z ${START_OURS_G2A:-} || -z ${START_P2P_G2A:-} ]]; then
    for m in demo/g2a pix2pix-g2a; do checkpoint_from_git 4c787cd $m $START/$m; done
  fi
  GO="$COMMON --max-minutes ${MINUTES:-6} --resume"
  pids=()
  run gen-a2g python -m train.generator --direction a2g $GO --init "${START_OURS_A2G:-runs/cont-ours-a2g/generator}" &
  pids+=($!)
  run p2p-a2g python -m train.pix2pix --direction a2g $GO --init "${START_P2P_A2G:-runs/cont-p2p-a2g/generator}" &
  pids+=($!)
  run gen-g2a python -m train.generator --direction g2a $GO --init "${START_OURS_G2A:-$START/demo/g2a}" &
  pids+=($!)
  run p2p-g2a python -m train.pix2pix --direction g2a $GO --init "${START_P2P_G2A:-$START/pix2pix-g2a}" &
  pids+=($!)
  wait_logging_gpu $R/gpu-util.csv "${pids[@]}"  # shows that the four runs shared a busy GPU
fi

if [[ $STAGE == pix2pix-fix ]]; then  # flawed (one mixed D call) against fixed (two calls) Pix2Pix, equal steps
  OLD=runs/pix2pix-4c787cd
  [[ -d $OLD ]] || git worktree add --detach $OLD 4c787cd
  ln -sfn "$PWD/data" $OLD/data
  STEP_RUN="$CPU36K --log-every 25 --sample-every 500 --checkpoint-every 50"  # plus --direction and --max-steps
  (cd $OLD && python -m train.pix2pix --direction a2g --max-steps 1001 $STEP_RUN --out "$OLDPWD/runs/ab-p2p-a2g-mixed" \
     > "$OLDPWD/runs/ab-p2p-a2g-mixed.stdout" 2>&1) &
  python -m train.pix2pix --direction a2g --max-steps 1001 $STEP_RUN --out runs/ab-p2p-a2g-separate \
    > runs/ab-p2p-a2g-separate.stdout 2>&1 &
  wait_all
  mkdir -p runs/eval-pix2pix-fix
  leg4_evaluator
  for evaluator in assets/checkpoints/saig-d runs/saig-d-leg4; do
    for run in mixed separate; do
      python -m train.evaluate --model runs/ab-p2p-a2g-$run/generator --baseline pix2pix --direction a2g \
        $TEST --evaluator $evaluator --name "Pix2Pix, $run D batches" \
        --out runs/eval-pix2pix-fix/$run-$(basename $evaluator).json &
    done
    wait_all
    python -m train.evaluate --markdown runs/eval-pix2pix-fix/{mixed,separate}-$(basename $evaluator).json
  done
  # the fixed run goes on to 4,374 steps: what the same minutes gave Pix2Pix a2g beside ours' 1,001 in GPU loan 1
  LONG=runs/ab-p2p-a2g-separate-4374
  [[ -d $LONG ]] || cp -a runs/ab-p2p-a2g-separate $LONG
  python -m train.pix2pix --direction a2g --max-steps 4374 $STEP_RUN --out $LONG > $LONG.stdout 2>&1
  python -m train.evaluate --model $LONG/generator --baseline pix2pix --direction a2g $TEST \
    --name "Pix2Pix, separate D batches, 4,374 steps" --out runs/eval-pix2pix-fix/separate-4374.json
  # g2a, fixed trainer only: from scratch to 4,821 steps (Pix2Pix g2a's loan-1 steps beside ours' 955), scored
  # beside ours g2a after loan 1 (the weights at 4c787cd, which the worktree holds)
  G2A=runs/ab-p2p-g2a-separate-4821
  python -m train.pix2pix --direction g2a --max-steps 4821 $STEP_RUN --out $G2A > $G2A.stdout 2>&1
  python -m train.evaluate --model $G2A/generator --baseline pix2pix --direction g2a $TEST \
    --name "Pix2Pix, separate D batches, 4,821 steps" --out runs/eval-pix2pix-fix/separate-g2a-4821.json
  python -m train.evaluate --model $OLD/assets/checkpoints/demo --direction g2a $TEST \
    --name "ours, loan 1" --out runs/eval-pix2pix-fix/ours-g2a-loan1.json
  python -m train.evaluate --markdown runs/eval-pix2pix-fix/{ours-g2a-loan1,separate-g2a-4821}.json
fi

if [[ $STAGE == pix2pix-retrain ]]; then  # the shipped baselines' steps again, with the fixed trainer
  RETRAIN="$CPU36K --log-every 25 --sample-every 1000 --checkpoint-every 250"
  python -m train.pix2pix --direction a2g --max-steps 18426 $RETRAIN --out runs/p2p-retrain-a2g \
    >> runs/p2p-retrain-a2g.stdout 2>&1 &
  python -m train.pix2pix --direction g2a --max-steps 16014 $RETRAIN --out runs/p2p-retrain-g2a \
    >> runs/p2p-retrain-g2a.stdout 2>&1 &
  wait_all
  for d in a2g g2a; do  # shipped as the evaluate stage scores them: float16 model folders
    python -m crossview.checkpoint runs/p2p-retrain-$d/generator $P2P-$d --fp16
  done
  python -m train.figures --data data/synthcity-test --model $DEMO --pix2pix a2g=$P2P-a2g g2a=$P2P-g2a \
    --runs pix2pix-a2g=runs/p2p-retrain-a2g pix2pix-g2a=runs/p2p-retrain-g2a --out runs/figures/pix2pix-retrain
fi

# From scratch on the 36k set, one thread each: the equal-minutes and ablations stages. The training seed's
# tag is empty for seed 0, so the first runs' file names stay as they were.
SCRATCH="$CPU36K --log-every 10 --sample-every 250 --checkpoint-every 50"
seed_tag() { if [[ $1 != 0 ]]; then echo "-seed$1"; fi; }  # SEED: its part of a run's file name
seed_name() { if [[ $1 != 0 ]]; then echo ", seed $1"; fi; }  # SEED: its part of a score's name
minutes_tag() { if [[ $1 != 45 ]]; then echo "-${1}min"; fi; }  # MINUTES: its part of a run's file name
minutes_name() { if [[ $1 != 45 ]]; then echo ", $1 min"; fi; }  # MINUTES: its part of a score's name
SEED=${SEED:-0}; STAG=$(seed_tag "$SEED") SNAME=$(seed_name "$SEED")

if [[ $STAGE == equal-minutes-g2a || $STAGE == equal-minutes-a2g ]]; then  # ours against the fixed Pix2Pix
  D=${STAGE#equal-minutes-}  # from scratch, equal CPU minutes
  LEVELS=${PERCEPTUAL_LEVELS:-sum} LTAG= LNAME=  # the tag is empty for the default, as the seed's
  [[ $LEVELS == sum ]] || { LTAG=-$LEVELS; LNAME=" ($LEVELS)"; }
  BLUR=${FEATURE_BLUR:-0}  # --feature-blur's taps; the tag is empty for the default (0, no blur)
  [[ $BLUR == 0 ]] || { LTAG=$LTAG-blur$BLUR; LNAME="$LNAME (feature blur $BLUR)"; }
  MINUTES=${MINUTES:-45}  # the tags are empty for 45 minutes, so the first runs keep their names
  MTAG=$(minutes_tag "$MINUTES") MNAME=$(minutes_name "$MINUTES")
  OURS=ours$LTAG$STAG$MTAG-$D P2P_RUN=p2p$STAG$MTAG-$D P2P_NAME=pix2pix$STAG$MTAG-$D
  FIG=runs/figures/equal-minutes$LTAG$STAG$MTAG-$D
  if [[ -n $MTAG ]]; then  # a longer budget goes on from the 45-minute runs (copied: their scores stay reproducible)
    for run in ours$LTAG$STAG p2p$STAG; do
      if [[ -d runs/eqmin-$run-$D && ! -d runs/eqmin-$run$MTAG-$D ]]; then
        cp -r runs/eqmin-$run-$D runs/eqmin-$run$MTAG-$D
      fi
    done
  fi
  EQ="--direction $D $SCRATCH --max-minutes $MINUTES --seed $SEED"
  python -m train.generator $EQ --perceptual-levels "$LEVELS" --feature-blur "$BLUR" --out runs/eqmin-$OURS > runs/eqmin-$OURS.stdout 2>&1 &
  python -m train.pix2pix $EQ --out runs/eqmin-$P2P_RUN >> runs/eqmin-$P2P_RUN.stdout 2>&1 &  # finished: stops at once
  wait_all
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --$D runs/eqmin-$OURS/generator \
    --out runs/pipelines/eqmin-$OURS
  mkdir -p runs/eval-equal-minutes
  python -m train.evaluate --model runs/pipelines/eqmin-$OURS --direction $D $TEST --name "ours$LNAME$SNAME$MNAME" \
    --out runs/eval-equal-minutes/$OURS.json &
  python -m train.evaluate --model runs/eqmin-$P2P_RUN/generator --baseline pix2pix --direction $D $TEST \
    --name "Pix2Pix (fixed)$SNAME$MNAME" --out runs/eval-equal-minutes/$P2P_NAME.json &
  wait_all
  python -m train.evaluate --markdown runs/eval-equal-minutes/{$OURS,$P2P_NAME}.json
  python -m train.figures --data data/synthcity-test --model runs/pipelines/eqmin-$OURS \
    --pix2pix $D=runs/eqmin-$P2P_RUN/generator --runs $OURS=runs/eqmin-$OURS $P2P_NAME=runs/eqmin-$P2P_RUN \
    --out $FIG
fi

if [[ $STAGE == ablations-a2g || $STAGE == ablations-g2a ]]; then  # Table 4 at the steps of ours' equal-minutes run
  D=${STAGE#ablations-} MINUTES=${MINUTES:-45}  # of the same seed and minutes
  MTAG=$(minutes_tag "$MINUTES") MNAME=$(minutes_name "$MINUTES")
  OURS=ours$STAG$MTAG-$D
  STEPS=${STEPS:-$(steps_done runs/eqmin-$OURS)}  # STEPS=N where ours' run is on another machine (RESULTS.md has N)
  ABLATIONS=${ABLATIONS:-no-attn-adain no-embedder}
  abl_run() { echo "$1$STAG$MTAG-$D"; }  # ABLATION: the name of its run, pipeline, scores and figures
  abl_switch() {  # ABLATION: its train.generator switch (rerun: none; diffaug-color: --diffaug-policy color)
    case $1 in rerun) ;; diffaug-*) echo "--diffaug-policy ${1#diffaug-}" ;; *) echo "--$1" ;; esac
  }
  for abl in $ABLATIONS; do
    run=$(abl_run "$abl")
    python -m train.generator --direction $D $(abl_switch "$abl") $SCRATCH --max-steps "$STEPS" --seed $SEED \
      --out runs/eqmin-$run >> runs/eqmin-$run.stdout 2>&1 &
  done
  wait_all
  SCORES=()  # ours' scores and run, where they are on this machine, beside the ablations'
  [[ ! -f runs/eval-equal-minutes/$OURS.json ]] || SCORES+=(runs/eval-equal-minutes/$OURS.json)
  OURS_CURVES=(); [[ ! -d runs/eqmin-$OURS ]] || OURS_CURVES=("$OURS=runs/eqmin-$OURS")
  for abl in $ABLATIONS; do
    run=$(abl_run "$abl")
    case $abl in
      no-attn-adain) name="w/o Attn-AdaIN" ;;
      no-embedder) name="w/o embedder" ;;
      no-diffaug) name="w/o DiffAug" ;;
      diffaug-color) name="DiffAug Color only" ;;
      diffaug-cutout) name="DiffAug Cutout only" ;;
      rerun) name="ours, rerun" ;;
      *) name="--$abl" ;;
    esac
    python -m crossview.pipeline --embedder assets/checkpoints/saig-s --$D runs/eqmin-$run/generator \
      --out runs/pipelines/eqmin-$run
    python -m train.evaluate --model runs/pipelines/eqmin-$run --direction $D $TEST --name "$name$SNAME$MNAME" \
      --out runs/eval-equal-minutes/$run.json &
    SCORES+=(runs/eval-equal-minutes/$run.json)
  done
  wait_all
  python -m train.evaluate --markdown "${SCORES[@]}"
  P2P_RUN=runs/eqmin-p2p$STAG$MTAG-$D  # the grids set each ablation beside Pix2Pix of the same seed and minutes
  for abl in $ABLATIONS; do
    run=$(abl_run "$abl")
    python -m train.figures --data data/synthcity-test --model runs/pipelines/eqmin-$run \
      $([[ -d $P2P_RUN/generator ]] && echo "--pix2pix $D=$P2P_RUN/generator") \
      --runs "${OURS_CURVES[@]}" $run=runs/eqmin-$run --out runs/figures/$run
  done
fi

ship_seed0_only() {  # exits where SHIP=1 names another seed: the rules named seed 0 before the runs
  if [[ ${SHIP:-0} == 1 && $SEED != 0 ]]; then echo "SHIP=1 ships seed 0 only, not SEED=$SEED" >&2; exit 2; fi
}
ship_demo() {  # A2G G2A ORIGINS: writes assets/checkpoints/demo (float16) from these generator folders
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g "$1" --g2a "$2" --out assets/checkpoints/demo \
    --fp16 --notes "demo preset trained on SynthCity by scripts/reproduce_demo.sh: $3: see RESULTS.md for their \
stages, data and budget"
}
# D RUN LABEL [WEIGHTS]: runs/RUN/WEIGHTS (default generator/: G; generator-ema/: its average, scored and drawn as
# RUN-ema, after G's call, whose Pix2Pix score it reuses) as it would ship, against the shipped baseline
score_beside_shipped_pix2pix() {
  local d=$1 run=$2 label=$3 w=${4:-generator} e name; e=$(eval_dir runs); name=$run${w#generator}
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --$d runs/$run/$w --fp16 \
    --out runs/pipelines/$name  # float16, as it would ship
  mkdir -p $e
  python -m train.evaluate --model runs/pipelines/$name $EVAL --name "$label" --out $e/$name.json &
  [[ $w != generator ]] || python -m train.evaluate --model assets/checkpoints/pix2pix-$d --baseline pix2pix \
    --direction $d $EVAL --name Pix2Pix --out $e/pix2pix-$d.json &  # anew in each stage: whatever pix2pix-<d> holds
  wait_all
  python -m train.evaluate --markdown $e/$name.json $e/pix2pix-$d.json
  python -m train.figures --data data/synthcity-test --model runs/pipelines/$name \
    --pix2pix $d=assets/checkpoints/pix2pix-$d --runs $run=runs/$run --out runs/figures/$name
}

if [[ $STAGE == cutout-g2a ]]; then  # Cutout alone at the shipped g2a budget, against the shipped baseline
  ship_seed0_only
  RUN=runs/cutout$STAG-g2a
  OMP_NUM_THREADS=${THREADS:-2} python -m train.generator --direction g2a --diffaug-policy cutout $SCRATCH \
    --max-steps 3050 --seed "$SEED" --out $RUN >> $RUN.stdout 2>&1  # loans 1 and 2: 955 + 2,095 steps
  score_beside_shipped_pix2pix g2a cutout$STAG-g2a "ours, DiffAug Cutout only$SNAME"
  if [[ ${SHIP:-0} == 1 ]]; then  # seed 0 met the rule written before the run: it is the shipped g2a, a2g unchanged
    ship_demo assets/checkpoints/demo/a2g $RUN/generator "a2g in two GPU loans (runs/gpu2/gen-a2g), g2a from scratch \
on a CPU with DiffAug's Cutout alone (cutout-g2a, $RUN)"
  fi
fi

if [[ $STAGE == longer-a2g ]]; then  # the shipped a2g goes on to the CPU cost of the shipped Pix2Pix a2g's steps
  ship_seed0_only
  RUN=runs/longer-a2g$STAG START=runs/longer-a2g-start
  checkpoint_from_git 7109947 demo/a2g $START  # the a2g shipped before this stage shipped its own
  # Pix2Pix a2g's 18,426 steps / 3.07 (ours' step cost over Pix2Pix's on one thread) = 6,002 of ours; 3,907 were
  # done; the 2,093 more (6,000 in all) came from a slip in that sum and are what the shipped a2g was trained for
  OMP_NUM_THREADS=${THREADS:-2} python -m train.generator --direction a2g $SCRATCH --init $START \
    --max-steps 2093 --seed "$SEED" --out $RUN >> $RUN.stdout 2>&1
  score_beside_shipped_pix2pix a2g longer-a2g$STAG "ours, 2,093 more steps$SNAME"
  if [[ ${SHIP:-0} == 1 ]]; then  # only where it met the rule written before the run (RESULTS.md): g2a unchanged
    ship_demo $RUN/generator assets/checkpoints/demo/g2a "a2g in two GPU loans (runs/gpu2/gen-a2g) and then on a CPU \
(longer-a2g, $RUN), g2a from scratch on a CPU with DiffAug's Cutout alone (cutout-g2a)"
  fi
fi

c93d65e_a2g() {  # the a2g shipped when blur-a2g and overfit-a2g were written, into runs/a2g-c93d65e; prints that
  checkpoint_from_git c93d65e demo/a2g runs/a2g-c93d65e && echo runs/a2g-c93d65e
}

if [[ $STAGE == blur-a2g ]]; then  # the shipped a2g goes on with eq. 8 and 9 blind to the band of the windows
  ship_seed0_only
  BLUR=${FEATURE_BLUR:-3} START=$(c93d65e_a2g)
  REC=${LAMBDA_REC:-50} PERC=${LAMBDA_PERC:-50} WTAG= WNAME=  # eq. 7's and eq. 8's weights; no tag for the defaults
  [[ $REC == 50 && $PERC == 50 ]] || { WTAG=-rec$REC-perc$PERC; WNAME=", lambda_rec $REC, lambda_perc $PERC"; }
  POOL=${REC_POOL:-1}  # eq. 7 between means over POOL x POOL blocks; no tag for 1 (per pixel)
  [[ $POOL == 1 ]] || { WTAG=$WTAG-pool$POOL; WNAME="$WNAME, eq. 7 on $POOL-px block means"; }
  PFROM=${PERC_FROM_LEVEL:-0}  # eq. 8 over SAIG-S's stem levels from this one on; no tag for 0 (all)
  [[ $PFROM == 0 ]] || { WTAG=$WTAG-percfrom$PFROM; WNAME="$WNAME, eq. 8 from stem level $PFROM"; }
  PATCH=${LAMBDA_PATCH:-0}  # the PatchGAN's weight; no tag without it
  [[ $PATCH == 0 ]] || { WTAG=$WTAG-patch$PATCH; WNAME="$WNAME, PatchGAN weight $PATCH"; }
  PLAYERS=${PATCH_LAYERS:-0}  # its strided layers, 1, 2, 3: 16-, 34-, 70-px patches; no tag for 0 (70 px)
  RF=([0]=70 [1]=16 [2]=34 [3]=70)
  [[ $PLAYERS == 0 ]] || { WTAG=$WTAG-rf${RF[$PLAYERS]}; WNAME="$WNAME of ${RF[$PLAYERS]}-px patches"; }
  LUMA=--no-patch-luma  # PATCH_LUMA=1: the PatchGAN sees luma alone, blind to colour
  [[ ${PATCH_LUMA:-0} == 0 ]] || { LUMA=--patch-luma WTAG=$WTAG-luma WNAME="$WNAME on luma"; }
  DIV=${LAMBDA_DIV:-0.1}  # eq. 10's weight: the paper's 0.1 (CVUSA, CVACT) or its 1 (VIGOR-GEN); no tag for 0.1
  [[ $DIV == 0.1 ]] || { WTAG=$WTAG-div$DIV; WNAME="$WNAME, lambda_div $DIV"; }
  TUNE=${TUNE_EMBEDDER_LR:-0}  # G's own copy of SAIG-S's aerial branch, trained at this rate; no tag for 0 (frozen)
  [[ $TUNE == 0 ]] || { WTAG=$WTAG-tune$TUNE; WNAME="$WNAME, SAIG-S's aerial branch tuned at lr $TUNE"; }
  BEST=${BEST_OF:-1}  # noise draws per pair, the step training the nearest (--best-of); no tag for 1
  [[ $BEST == 1 ]] || { WTAG=$WTAG-best$BEST; WNAME="$WNAME, best of $BEST noise draws"; }
  NAME=blur$BLUR$WTAG-a2g$STAG STEPS=${STEPS:-2093}
  go_on_as() {  # NEW: the run NAME goes on as runs/NEW, from a copy of its folder (NAME kept as it is)
    [[ -d runs/$1 || ! -d runs/$NAME ]] || cp -r runs/$NAME runs/$1
    NAME=$1
  }
  [[ $STEPS == 2093 ]] || go_on_as $NAME-steps$STEPS  # from the 2,093-step run
  EMA= ENAME=
  if [[ -n ${EMA_KIMG:-} ]]; then  # from that run, with a weight average from its last step
    ENAME=", weight average from step $STEPS" STEPS=$((STEPS + ${EMA_STEPS:-1000}))
    go_on_as $NAME-ema$EMA_KIMG
    EMA="--ema-kimg $EMA_KIMG --ema-rampup 0"  # no ramp-up: it starts from trained weights
  fi
  RUN=runs/$NAME
  OMP_NUM_THREADS=${THREADS:-2} python -m train.generator --direction a2g $SCRATCH --init $START \
    --feature-blur "$BLUR" --lambda-rec "$REC" --rec-pool "$POOL" --lambda-perc "$PERC" \
    --perceptual-from-level "$PFROM" --lambda-patch "$PATCH" --patch-layers "$PLAYERS" \
    $LUMA --lambda-div "$DIV" --tune-embedder-lr "$TUNE" --best-of "$BEST" --max-steps "$STEPS" $EMA --seed "$SEED" --out $RUN \
    >> $RUN.stdout 2>&1
  score_beside_shipped_pix2pix a2g $NAME "ours, $STEPS more steps with feature blur $BLUR$WNAME$SNAME"
  [[ -z $EMA ]] || score_beside_shipped_pix2pix a2g $NAME "ours, $STEPS more steps with feature blur \
$BLUR$WNAME$SNAME$ENAME" generator-ema
  if [[ ${SHIP:-0} == 1 ]]; then  # only where it met the rule written before the run (RESULTS.md): g2a unchanged
    ship_demo $RUN/generator${EMA:+-ema} assets/checkpoints/demo/g2a "a2g in two GPU loans (runs/gpu2/gen-a2g), then on a CPU \
(longer-a2g, runs/longer-a2g) and with feature blur $BLUR$WNAME (blur-a2g, $RUN), g2a from scratch on a CPU with DiffAug's \
Cutout alone (cutout-g2a)"
  fi
fi

if [[ $STAGE == overfit-a2g ]]; then  # a capacity check: 16 pairs to memorise, so no place is ambiguous
  DATA=data/synthcity-overfit START=$(c93d65e_a2g) RUN=runs/overfit-a2g
  [[ -f $DATA/meta.json ]] || python -m crossview.data.synthcity --out $DATA --num 24 --seed 7 --train-frac 0.6667 \
    --val-frac 0.3333 --workers "$RENDER_WORKERS" --quiet
  OMP_NUM_THREADS=${THREADS:-2} python -m train.generator --direction a2g $SCRATCH --data $DATA --epochs 1000 \
    --workers 0 --init $START --max-steps 600 --sample-every 100 --out $RUN >> $RUN.stdout 2>&1  # one epoch a step: no worker to restart
  python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g $RUN/generator --out runs/pipelines/overfit-a2g
  python -m train.figures --data $DATA --split train --model runs/pipelines/overfit-a2g --runs overfit-a2g=$RUN \
    --out runs/figures/overfit-a2g
fi

if [[ $STAGE == attn-adain-gpu ]]; then  # (a third GPU loan) ours against w/o Attn-AdaIN a2g, three seeds, on one GPU
  G3=${RUNS:-runs/gpu3}; EVAL3=$(eval_dir "$G3")
  runs3() {  # the six runs, one per line: VARIANT SEED RUN
    local seed variant
    for seed in 0 1 2; do for variant in ours no-attn-adain; do
      echo "$variant $seed $variant$(seed_tag "$seed")-a2g"
    done; done
  }
  train3() {  # VARIANT SEED RUN BUDGET...: one run, in the background
    local variant=$1 seed=$2 run=$3; shift 3
    python -m train.generator --direction a2g --data data/synthcity --batch-size 16 --epochs 100 --workers 2 \
      --resume --log-every 25 --sample-every 500 --checkpoint-every 250 --seed "$seed" \
      $([[ $variant == ours ]] || echo "--$variant") "$@" --out "$G3/$run" >> "$G3/$run.stdout" 2>&1 &
  }
  mkdir -p "$G3"
  if [[ ! -d $G3/no-attn-adain-seed2-a2g/generator-fp16 ]]; then  # the last copy written: trains only where no copies are
    train_set_rendered || render_train_set
    while read -r variant seed run; do train3 "$variant" "$seed" "$run" --max-minutes "${MINUTES:-5}"; done < <(runs3)
    wait_all
    STEPS=0  # then the runs behind go on to the step of the one furthest on, so that all compare at equal steps
    while read -r _ _ run; do s=$(steps_done "$G3/$run"); if (( s > STEPS )); then STEPS=$s; fi; done < <(runs3)
    while read -r variant seed run; do train3 "$variant" "$seed" "$run" --max-steps "$STEPS"; done < <(runs3)
    wait_all
    while read -r _ _ run; do
      python -m crossview.checkpoint "$G3/$run/generator" "$G3/$run/generator-fp16" --fp16
    done < <(runs3)
  fi
  if [[ ${EVALUATE:-1} != 0 ]]; then  # scored from the float16 copies, as the shipped models are
    mkdir -p "$EVAL3"; SCORES=()
    while read -r variant seed run; do
      name=$([[ $variant == ours ]] && echo ours || echo "w/o Attn-AdaIN")$(seed_name "$seed")
      python -m crossview.pipeline --embedder assets/checkpoints/saig-s --a2g "$G3/$run/generator-fp16" --fp16 \
        --out "runs/pipelines/gpu3-$run"
      python -m train.evaluate --model "runs/pipelines/gpu3-$run" --direction a2g $EVAL --name "$name" \
        --out "$EVAL3/$run.json"
      SCORES+=("$EVAL3/$run.json")
    done < <(runs3)
    python -m train.evaluate --markdown "${SCORES[@]}"
  fi
fi

if [[ $STAGE == g2a-gpu ]]; then  # (a fourth GPU loan) ours and Pix2Pix g2a from scratch, with weight averages
  G4=${RUNS:-runs/gpu4}; EVAL4=$(eval_dir "$G4")
  runs4() {  # the five runs, one per line: METHOD SEED RUN (the last one's float16 copy is the last file written)
    local seed
    for seed in 0 1; do
      echo "ours-no-diffaug $seed ours-no-diffaug$(seed_tag "$seed")-g2a"
      echo "pix2pix $seed pix2pix$(seed_tag "$seed")-g2a"
    done
    echo "ours 0 ours-g2a"
  }
  mkdir -p "$G4"
  if [[ ! -d $G4/ours-g2a/generator-ema-fp16 ]]; then  # trains only where no copies are
    train_set_rendered || render_train_set
    pids=()
    while read -r method seed run; do
      case $method in
        pix2pix) trainer=(train.pix2pix) ;;
        ours) trainer=(train.generator) ;;
        ours-no-diffaug) trainer=(train.generator --no-diffaug) ;;
      esac
      python -m "${trainer[@]}" --direction g2a --data data/synthcity --batch-size 16 --epochs 100 --workers 2 \
        --resume --log-every 25 --sample-every 500 --checkpoint-every 250 --seed "$seed" \
        --ema-kimg "${EMA_KIMG:-2}" --max-minutes "${MINUTES:-5}" --out "$G4/$run" >> "$G4/$run.stdout" 2>&1 &
      pids+=($!)
    done < <(runs4)
    wait_logging_gpu "$G4/gpu-util.csv" "${pids[@]}"
    # only the averages travel back: both methods' G and average, float16, would pass the machine's 64 MiB
    while read -r _ _ run; do
      python -m crossview.checkpoint "$G4/$run/generator-ema" "$G4/$run/generator-ema-fp16" --fp16
    done < <(runs4)
  fi
  if [[ ${EVALUATE:-1} != 0 ]]; then  # two at a time, ours as float16 pipelines with the shipped SAIG-S
    mkdir -p "$EVAL4"; SCORES=()
    while read -r method seed run; do
      name="$(case $method in ours) echo ours ;; ours-no-diffaug) echo "ours w/o DiffAug" ;; *) echo Pix2Pix ;; esac)"
      name="$name, weight average$(seed_name "$seed")"
      if [[ $method == pix2pix ]]; then
        python -m train.evaluate --model "$G4/$run/generator-ema-fp16" --baseline pix2pix --direction g2a $EVAL \
          --name "$name" --out "$EVAL4/$run.json" &
      else
        python -m crossview.pipeline --embedder assets/checkpoints/saig-s --g2a "$G4/$run/generator-ema-fp16" --fp16 \
          --out "runs/pipelines/gpu4-$run"
        python -m train.evaluate --model "runs/pipelines/gpu4-$run" $EVAL --name "$name" --out "$EVAL4/$run.json" &
      fi
      SCORES+=("$EVAL4/$run.json")
      (( ${#SCORES[@]} % 2 )) || wait_all
    done < <(runs4)
    wait_all
    python -m train.evaluate --markdown "${SCORES[@]}"
    CURVES=(--runs); while read -r _ _ run; do CURVES+=("$run=$G4/$run"); done < <(runs4)
    for run in ours-no-diffaug-g2a ours-g2a; do  # seed 0's grids, each of ours beside the same Pix2Pix
      python -m train.figures --data data/synthcity-test --model "runs/pipelines/gpu4-$run" \
        --pix2pix g2a="$G4/pix2pix-g2a/generator-ema-fp16" "${CURVES[@]}" --out "docs/figures/gpu4-$run"
      CURVES=()  # the five runs' curves once, beside the first grid
    done
  fi
fi

if [[ $STAGE == all || $STAGE == figures ]]; then
  python -m train.figures --data data/synthcity-test --model $DEMO \
    --pix2pix a2g=$P2P-a2g g2a=$P2P-g2a \
    --runs ours-a2g=$R/gen-a2g pix2pix-a2g=$R/p2p-a2g ours-g2a=$R/gen-g2a pix2pix-g2a=$R/p2p-g2a \
    --out $FIGURES
fi
