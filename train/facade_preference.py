"""Which terms of eq. 12 prefer a blurred facade to a plausible one.

For each SynthCity test scene, ``train.error_by_class.redraws_of`` renders the panorama K times with what the
aerial view does not show drawn anew (``synthcity.redraw_unseen``; with ``--mean-colours`` where the windows
are alone, on walls of the mean colour). One redraw is a plausible facade, as a perfect cross-view sampler
would draw it; the mean of the K redraws is about the conditional mean, a blurred facade. Each term is scored
for both against the real panorama, weighted as in training:

* eq. 7, L1 (``crossview.losses.reconstruction``), and the same between means over pool x pool blocks for each
  ``--pools`` (the trainer's ``--rec-pool``: blind to where a window lies within a block);
* eq. 8 and eq. 9 (``GANTrainer.feature_losses``, on the SAIG-S stem features, after each ``--feature-blur``),
  and eq. 8 level by level.

A term that scores the redraw higher than the mean pulls G towards the blur; its gap, relative to the mean's
own loss, says how hard. Printed as JSON, per feature blur and term: the mean of both losses over the scenes,
their gap, the gap relative to the mean's loss, and the share of scenes where the redraw scores higher.

``--best-of k`` asks the same of a best-of-k loss (the trainer's ``--best-of``): G draws k outputs and the
terms score only the one that matches the truth best, so a sampler is scored by its best of k redraws, and the
blur, the same image under every noise, by itself. It is scored with the best of the first k redraws by L1 per
pixel (the trainer selects by its own eq. 7: per pixel, or on block means with ``--rec-pool``) and by the sum of
the three terms.

    python -m train.facade_preference --data data/synthcity-test --limit 100 --redraws 8 --mean-colours \\
        --feature-blur 0 3 5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from crossview.checkpoint import CheckpointError, load_model, write_json_atomic
from crossview.data.pairs import read_split_csv
from crossview.losses import binomial_blur, check_rec_pool, perceptual, reconstruction
from crossview.models.embedder import SAIG
from crossview.trainer import GANConfig, GANTrainer
from train.error_by_class import redraws_of
from train.generator import HELPS


def to_model_range(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) in [0, 255], uint8 or float, to 1 x 3 x H x W in [-1, 1], as the data loaders give images."""
    return torch.from_numpy(np.asarray(image, np.float32)).permute(2, 0, 1)[None] / 127.5 - 1


def scene_losses(trainer: GANTrainer, real: torch.Tensor, candidate: torch.Tensor, pools: list[int]) -> dict:
    """{term: loss} of one candidate panorama against the real one, each weighted as ``trainer`` trains, and
    eq. 8's share of each SAIG-S stem level (``perceptual level i``; they add up to ``perceptual`` for a trainer
    with the defaults of eq. 8: no VGG16, levels summed, all of them)."""
    w, blur = trainer.cfg.weights, trainer.cfg.feature_blur
    coarse = F.interpolate(candidate, size=trainer.G.coarse_size, mode="area")  # X'_r as the truth's X'_t
    real_coarse = F.interpolate(real, size=trainer.G.coarse_size, mode="area")
    with torch.no_grad():
        perc, id_loss = trainer.feature_losses(real, real_coarse, candidate, coarse)
        levels = [trainer.target_branch.stem_features(binomial_blur(x, blur)) for x in (real, candidate)]
    losses = {"l1": w.rec * reconstruction(real, candidate).item()}
    losses |= {f"l1 pooled {k}": w.rec * reconstruction(real, candidate, pool=k).item() for k in pools}
    losses |= {"perceptual": w.perc * perc.item(), "identity": w.id * id_loss.item()}
    losses["l1 + perceptual + identity"] = losses["l1"] + losses["perceptual"] + losses["identity"]
    return losses | {f"perceptual level {i}": w.perc * perceptual([t], [o]).item()  # eq. 8's default sum
                     for i, (t, o) in enumerate(zip(*levels, strict=True))}


def summarize(redraw: list[dict], blurred: list[dict]) -> dict:
    """Per term: both losses' means over the scenes, their gap, the gap relative to the mean's loss, and the
    share of scenes where the redraw scores higher."""
    result = {}
    for term in redraw[0]:
        one, mean = (np.array([s[term] for s in scenes]) for scenes in (redraw, blurred))
        result[term] = {"redraw": float(one.mean()), "mean of redraws": float(mean.mean()),
                        "gap": float((one - mean).mean()), "relative gap": float((one - mean).mean() / mean.mean()),
                        "share where the redraw scores higher": float((one > mean).mean())}
    return result


BEST_BY = {"l1": "l1", "total": "l1 + perceptual + identity"}  # what a best-of-k loss may select by


def best_of(candidates: list[dict], k: int, by: str) -> dict:
    """The losses of the best of the first ``k`` candidates by term ``by``: all a best-of-k loss backpropagates."""
    return min(candidates[:k], key=lambda losses: losses[by])


def facade_preference(trainers: dict[int, GANTrainer], data: Path, names: list[str], redraws: int,
                      mean_colours: bool, pools: list[int], best_of_k: list[int] = ()) -> dict:
    """``summarize`` for each feature blur's trainer (``{taps: trainer}``), over the same redraws: of one
    redraw, and of the best of k redraws for each ``best_of_k``, against their mean."""
    meta = json.loads((data / "meta.json").read_text())
    one = {taps: [] for taps in trainers}  # the losses of one redraw per scene
    blurred = {taps: [] for taps in trainers}  # ... and of the mean of the redraws
    best = {taps: {f"best of {k} by {label}": [] for k in best_of_k for label in BEST_BY} for taps in trainers}
    for name in tqdm(names, desc="redrawing what the aerial does not show", unit="scene"):
        real, _, draws = redraws_of(data, meta, name, redraws, mean_colours)
        truth = to_model_range(real)
        mean = to_model_range(np.stack(draws).astype(np.float64).mean(0))
        candidates = [to_model_range(d) for d in draws[:max(best_of_k, default=1)]]  # the only ones scored
        for taps, trainer in trainers.items():
            each = [scene_losses(trainer, truth, c, pools) for c in candidates]
            one[taps].append(each[0])
            blurred[taps].append(scene_losses(trainer, truth, mean, pools))
            for k in best_of_k:
                for label, term in BEST_BY.items():
                    best[taps][f"best of {k} by {label}"].append(best_of(each, k, term))
    result = {"scenes": len(names), "redraws": redraws, "mean_colours": mean_colours,
              "terms by feature blur": {taps: summarize(one[taps], blurred[taps]) for taps in trainers}}
    if best_of_k:  # "redraw" in these summaries is the best of k redraws
        result["best of k by feature blur"] = {
            taps: {label: summarize(chosen, blurred[taps]) for label, chosen in best[taps].items()}
            for taps in trainers}
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m train.facade_preference", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a SynthCity test folder (its meta.json names the seed)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--limit", type=int, default=100, help="the first N scenes of the split")
    p.add_argument("--redraws", type=int, default=8, help="K: redraws per scene, K >= 2 (one is the plausible "
                                                           "facade, their mean the blurred one)")
    p.add_argument("--mean-colours", action="store_true",
                   help="redraw only where the windows are, on walls of the mean colour")
    p.add_argument("--pools", type=int, nargs="*", default=[2, 4, 8], help="block sizes for the pooled L1")
    p.add_argument("--best-of", type=int, nargs="*", default=[],
                   help="also score the best of the first k redraws, for each k (2 <= k <= --redraws)")
    p.add_argument("--feature-blur", type=int, nargs="+", default=[GANConfig.feature_blur],
                   help=f"one or more, each as the trainer's --feature-blur: {HELPS['feature_blur']}")
    p.add_argument("--saig-s", default="assets/checkpoints/saig-s", help="the frozen guide of eq. 8 and 9")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    if args.redraws < 2:
        p.error("--redraws must be >= 2")
    if any(not 2 <= k <= args.redraws for k in args.best_of):
        p.error(f"--best-of takes k from 2 to --redraws ({args.redraws})")
    try:
        for k in args.pools:
            check_rec_pool(k, "--pools")
    except ValueError as e:
        p.error(str(e))
    data = Path(args.data)
    if not (data / "meta.json").is_file():
        p.error(f"{data}/meta.json not found: give a SynthCity folder")
    try:
        saig = load_model(SAIG, args.saig_s)
        trainers = {taps: GANTrainer(GANConfig(direction="a2g", feature_blur=taps), saig)
                    for taps in args.feature_blur}
    except (CheckpointError, ValueError) as e:
        p.error(str(e))
    names = [ground.name for _, ground in read_split_csv(data, args.split)][:args.limit]
    result = facade_preference(trainers, data, names, args.redraws, args.mean_colours, args.pools, args.best_of)
    print(json.dumps(result, indent=2))
    if args.out:
        write_json_atomic(args.out, result)


if __name__ == "__main__":
    main()
