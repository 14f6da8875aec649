"""The figures of RESULTS.md, from the shipped checkpoints, the test split and the training runs' logs.

    python -m train.figures --data data/synthcity-test --model assets/checkpoints/demo \\
        --pix2pix a2g=assets/checkpoints/pix2pix-a2g g2a=assets/checkpoints/pix2pix-g2a \\
        --runs ours-a2g=runs/gen-a2g pix2pix-a2g=runs/p2p-a2g ... --out docs/figures

writes, under --out:
- qualitative-a2g.png, qualitative-g2a.png: rows of source | ours | Pix2Pix | ground truth (test pairs,
  noise seed = --seed + pair index, as train/evaluate.py uses);
- weight-maps-a2g.png, weight-maps-g2a.png: for a few test sources, the synthesized image and the weight map
  M of every Attentional AdaIN layer, coarse to fine (paper figure 5);
- training-curves.png: L1 and the discriminator loss of every run in --runs against minutes of training.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from crossview.checkpoint import load_model
from crossview.data import open_pairs
from crossview.data.pairs import tensor_to_image
from crossview.models.pix2pix import Pix2PixGenerator
from crossview.pipeline import CrossViewPipeline
from crossview.runtime import pyplot, read_run_logs
from crossview.trainer import DIRECTIONS
from crossview.visualize import make_grid


def views(dataset, index: int) -> dict[str, torch.Tensor]:
    """Pair ``index`` of the dataset as {"aerial": tensor, "ground": tensor}."""
    return dict(zip(("aerial", "ground"), dataset[index], strict=True))


@torch.no_grad()
def qualitative(pipe: CrossViewPipeline, pix2pix: dict[str, Pix2PixGenerator], dataset, direction: str,
                indices: list[int], seed: int, out: Path) -> None:
    source_view, target_view = DIRECTIONS[direction]
    rows = []
    for i in indices:
        pair = views(dataset, i)
        source, target = pair[source_view][None], pair[target_view]
        row = [tensor_to_image(source[0]), tensor_to_image(pipe.generate(source, direction, [seed + i]).image[0])]
        if direction in pix2pix:
            row.append(tensor_to_image(pix2pix[direction](source)[0]))
        rows.append([*row, tensor_to_image(target)])
    make_grid(rows).save(out)


@torch.no_grad()
def weight_maps(pipe: CrossViewPipeline, dataset, direction: str, indices: list[int], seed: int, out: Path) -> None:
    """One row per source: source, synthesized image, then M of every Attn-AdaIN layer (viridis, 0 to 1)."""
    plt = pyplot()
    source_view, _ = DIRECTIONS[direction]
    outputs = []
    for i in indices:
        source = views(dataset, i)[source_view][None]
        outputs.append((source, pipe.generate(source, direction, [seed + i])))
    names = list(outputs[0][1].weight_maps)
    cols = 2 + len(names)
    wide = outputs[0][1].image.shape[-1] > outputs[0][1].image.shape[-2]
    fig, axes = plt.subplots(len(outputs), cols, figsize=(cols * (2.6 if wide else 1.6), len(outputs) * 1.6),
                             squeeze=False)
    for r, (source, out_r) in enumerate(outputs):
        panels = [("source", np.asarray(tensor_to_image(source[0]))),
                  ("synthesized", np.asarray(tensor_to_image(out_r.image[0])))]
        panels += [(n, out_r.weight_maps[n][0, 0].numpy()) for n in names]
        for c, (title, img) in enumerate(panels):
            ax = axes[r, c]
            if img.ndim == 2:
                h, w = img.shape
                im = ax.imshow(img, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
                title = f"{title}\n{h}x{w}, mean {img.mean():.2f}"
            else:
                ax.imshow(img)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 or c >= 2:
                ax.set_title(title, fontsize=6)
    fig.colorbar(im, ax=axes, fraction=0.01, pad=0.01, label="M")
    fig.suptitle(f"{direction}: weight maps M of every Attentional AdaIN layer (eq. 4), coarse to fine", fontsize=9)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def training_curves(logs: dict[str, list[dict]], out: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for name, records in logs.items():
        minutes = [r["minutes"] for r in records]
        for ax, key in zip(axes[:2], ("l1", "d_loss"), strict=True):
            ax.plot(minutes, [r[key] for r in records], label=name, alpha=0.8)
        axes[2].plot([r["step"] for r in records], [r["l1"] for r in records], label=name, alpha=0.8)
    for ax, (title, xlabel) in zip(axes, (("L1 (eq. 7)", "minutes of training"),
                                          ("discriminator loss", "minutes of training"),
                                          ("L1 (eq. 7)", "step")), strict=True):
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    try:
        return dict(v.split("=", 1) for v in values)
    except ValueError:
        raise SystemExit(f"{flag} takes NAME=PATH items") from None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m train.figures", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="dataset folder whose --split supplies the sources")
    p.add_argument("--split", default="test", help="which split")
    p.add_argument("--model", required=True, help="CrossView pipeline folder")
    p.add_argument("--pix2pix", nargs="*", default=[], help="DIRECTION=FOLDER of Pix2Pix generators")
    p.add_argument("--runs", nargs="*", default=[], help="NAME=RUN_FOLDER of training runs for the curves")
    p.add_argument("--rows", type=int, default=6, help="test pairs per qualitative grid")
    p.add_argument("--seed", type=int, default=0, help="noise seed of pair 0 (pair i uses seed + i)")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    args = p.parse_args(argv)
    try:
        logs = read_run_logs({k: Path(v) for k, v in _pairs(args.runs, "--runs").items()})
    except ValueError as e:
        p.error(str(e))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pipe = CrossViewPipeline.from_pretrained(args.model, "cpu")
    pix2pix = {d: load_model(Pix2PixGenerator, f) for d, f in _pairs(args.pix2pix, "--pix2pix").items()}
    a, g = pipe.embedder.aerial_size, pipe.embedder.ground_size
    dataset = open_pairs(args.data, args.split, a, g)
    step = max(1, len(dataset) // args.rows)
    indices = list(range(0, step * args.rows, step))[: args.rows]
    for d in pipe.directions:
        qualitative(pipe, pix2pix, dataset, d, indices, args.seed, out / f"qualitative-{d}.png")
        weight_maps(pipe, dataset, d, indices[:3], args.seed, out / f"weight-maps-{d}.png")
    if logs:
        training_curves(logs, out / "training-curves.png")
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
