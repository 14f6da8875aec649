"""Where a synthesized view's PSNR goes, class by class, and what a perfect sampler of SynthCity would pay.

Measurements on a SynthCity test set rendered with ``--labels``:

* ``--images DIR``: the squared error of a model's saved outputs (``train.evaluate --save-images``) split by the
  ground-truth class of each pixel (sky, road, facade, window, ...). A class's share of the squared error says
  how much of the PSNR gap it holds, the mean PSNR after setting a class's pixels to the truth how many dB it
  costs, the share one colour shift per image explains whether it is a colour or a shape, and its error row by
  row where in the panorama it lies.
* ``--perfect-sampler K``: the ground view of each test scene rendered K more times with what the aerial view
  does not show drawn anew (``synthcity.redraw_unseen``: facade and window colours, window spacing, storeys, sky
  and fog). One redraw is what a perfect cross-view sampler, exact everywhere the aerial tells, would output; the
  mean of the K redraws approximates the conditional mean that an L1/L2-trained generator tends to. With
  ``--mean-colours`` only where the windows are is redrawn (colours and fog at their means): the cheapest
  plausible facade, one wall colour with crisp windows.
* both: the PSNR the model would score if it added, around its own outputs, the variation a perfect sampler
  draws. A draw d independent of the truth x given the aerial, with mean zero, adds its variance to the
  expected squared error, E|y + d - x|^2 = E|y - x|^2 + E|d|^2, so image i scores
  10 log10(255^2 / (MSE_i + Var_i)), with Var_i the per-pixel variance of scene i's K redraws (K >= 2).

    python -m train.error_by_class --data data/synthcity-test-labels --images runs/eval-images/a2g --limit 500
    python -m train.error_by_class --data data/synthcity-test-labels --perfect-sampler 8 --limit 500 \
        [--images runs/eval-images/a2g]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from crossview.checkpoint import write_json_atomic
from crossview.data.pairs import read_split_csv
from crossview.data.synthcity import CLASSES, SynthCityConfig, redraw_unseen, render_ground, sample_scene
from crossview.visualize import make_grid

CLASS_NAMES = {index: name for name, index in CLASSES.items()}


def read_u8(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def to_batch(images: list[np.ndarray]) -> torch.Tensor:
    """(N, 3, H, W) uint8 from a list of (H, W, 3) uint8 arrays."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)


def psnr_from_mse(mse: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) of 8-bit images from their mean squared errors, as ``crossview.metrics.psnr`` computes it."""
    return 10 * torch.log10(255.0 ** 2 / mse)


def per_image_mse(fakes: list[np.ndarray], reals: list[np.ndarray]) -> torch.Tensor:
    return (to_batch(fakes).double() - to_batch(reals).double()).pow(2).mean((1, 2, 3))


def class_breakdown(fakes: list[np.ndarray], reals: list[np.ndarray], labels: list[np.ndarray]) -> dict:
    """Per class: its share of the pixels and of the squared error, its RMSE (8-bit levels), the mean per-image
    PSNR (dB, as ``train.evaluate`` reports it) with that class's pixels replaced by the truth, the share of its
    squared error that one colour shift per image explains (``offset_share``), and its part of the pooled mean
    squared error row by row (``row_mse``, top row first; they sum to pixel_share * rmse^2)."""
    label = torch.from_numpy(np.stack(labels))  # (N, H, W)
    diff = to_batch(fakes).double() - to_batch(reals).double()
    squared = diff.pow(2).sum(1)  # (N, H, W), summed over RGB
    values_per_image = 3 * label[0].numel()
    mse = squared.sum((1, 2)) / values_per_image
    total = float(squared.sum())
    out = {"psnr": float(psnr_from_mse(mse).mean()), "classes": {}}
    for index, name in CLASS_NAMES.items():
        mask = label == index
        pixels = int(mask.sum())
        if not pixels:
            continue
        per_image = mask.sum((1, 2)).clamp(min=1)  # the class's pixels in each image
        offset = (diff * mask[:, None]).sum((2, 3)) / per_image[:, None]  # (N, 3): each image's mean shift
        class_error = float(squared[mask].sum())
        out["classes"][name] = {
            "pixel_share": pixels / mask.numel(),
            "error_share": class_error / total,
            "rmse": math.sqrt(class_error / (3 * pixels)),
            "psnr_if_exact": float(psnr_from_mse(mse - (squared * mask).sum((1, 2)) / values_per_image).mean()),
            "offset_share": float((per_image * offset.pow(2).sum(1)).sum()) / class_error if class_error else 0.0,
            "row_mse": ((squared * mask).sum((0, 2)) / (3 * mask.numel())).tolist(),
        }
    return out


def redraws_of(data: Path, meta: dict, name: str, redraws: int, mean_colours: bool):
    """Scene ``name`` of ``data``: its real panorama, class map, and ``redraws`` panoramas with what the aerial
    does not show drawn anew (``synthcity.redraw_unseen``), from a random stream of its own."""
    cfg, index = SynthCityConfig.from_geometry(meta), int(Path(name).stem)  # SynthCity names a file by its index
    scene = sample_scene(meta["seed"], index, cfg.tile_meters)
    real, label = render_ground(scene, cfg)
    if not np.array_equal(real, read_u8(data / "ground" / name)):
        raise ValueError(f"scene {index} renders unlike {data}/ground/{name}: another SynthCity version or geometry")
    rng = np.random.default_rng(np.random.SeedSequence([meta["seed"], index, 1]))  # apart from the scene's stream
    return real, label, [render_ground(redraw_unseen(scene, rng, mean_colours), cfg)[0] for _ in range(redraws)]


def perfect_sampler(data: Path, meta: dict, names: list[str], redraws: int, mean_colours: bool = False) -> dict:
    """PSNR against the real panorama of one redraw (a perfect sampler) and of the mean of ``redraws`` redraws
    (about the conditional mean), with the class breakdown of each and the per-pixel variance of the redraws
    per scene, over the scenes of ``data`` whose files are ``names``. ``mean_colours``: redraw where the
    windows are alone."""
    reals, labels, samples, means, variances = [], [], [], [], []
    for name in tqdm(names, desc="redrawing what the aerial does not show", unit="scene"):
        real, label, draws = redraws_of(data, meta, name, redraws, mean_colours)
        reals.append(real)
        labels.append(label)
        samples.append(draws[0])
        stack = np.stack(draws).astype(np.float64)
        means.append(np.round(stack.mean(0)).astype(np.uint8))
        variances.append(float(stack.var(0, ddof=1).mean()) if redraws > 1 else None)
    return {"scenes": len(names), "redraws": redraws, "mean_colours": mean_colours,
            "sampler": class_breakdown(samples, reals, labels),
            "mean_of_redraws": class_breakdown(means, reals, labels),
            "variance": variances}


def redraw_figure(data: Path, meta: dict, names: list[str], redraws: int, path: str) -> None:
    """One row per scene: aerial | real panorama | two redraws | two redraws of the windows alone (mean colours)
    | the mean of ``redraws`` redraws."""
    rows = []
    for name in names:
        real, _, draws = redraws_of(data, meta, name, max(redraws, 2), mean_colours=False)
        _, _, windows = redraws_of(data, meta, name, 2, mean_colours=True)
        aerial = Image.open(data / "aerial" / name).convert("RGB").resize((real.shape[0],) * 2, Image.BILINEAR)
        mean = np.round(np.mean(draws, axis=0)).astype(np.uint8)
        rows.append([aerial] + [Image.fromarray(x) for x in (real, draws[0], draws[1], *windows, mean)])
    make_grid(rows).save(path)


def psnr_with_variance(fakes: list[np.ndarray], reals: list[np.ndarray], variances: list[float]) -> float:
    """Mean per-image PSNR (dB) after adding each image's variance to its mean squared error (8-bit levels)."""
    return float(psnr_from_mse(per_image_mse(fakes, reals) + torch.tensor(variances, dtype=torch.float64)).mean())


def print_breakdown(title: str, result: dict) -> None:
    print(f"{title}: PSNR {result['psnr']:.3f} dB")
    print(f"  {'class':<10} {'pixels':>7} {'error':>7} {'RMSE':>6} {'shift':>6} {'PSNR if exact':>14}")
    for name, c in sorted(result["classes"].items(), key=lambda kv: -kv[1]["error_share"]):
        print(f"  {name:<10} {c['pixel_share']:7.1%} {c['error_share']:7.1%} {c['rmse']:6.1f} "
              f"{c['offset_share']:6.1%} {c['psnr_if_exact']:11.3f} dB")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a SynthCity folder rendered with --labels (ground view scored)")
    p.add_argument("--images", nargs="+", default=[], metavar="DIR",
                   help="folders of synthesized panoramas named as the data's ground/ files")
    p.add_argument("--perfect-sampler", type=int, metavar="K",
                   help="redraw each scene's unseen attributes K times and score one and their mean")
    p.add_argument("--mean-colours", action="store_true",
                   help="with --perfect-sampler: redraw only where the windows are, colours and fog at their means")
    p.add_argument("--figure", metavar="PNG", help="with --perfect-sampler: draw the first 4 scenes' redraws here")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="which split to score")
    p.add_argument("--limit", type=int, default=500, help="only the split's first N pairs")
    p.add_argument("--out", help="write the result as JSON here")
    args = p.parse_args(argv)
    if not (args.images or args.perfect_sampler is not None):
        p.error("give --images, --perfect-sampler or both")

    data = Path(args.data)
    meta = json.loads((data / "meta.json").read_text())
    if not meta.get("labels"):
        p.error(f"{data} has no class maps: render it with python -m crossview.data.synthcity ... --labels")
    names = [ground.name for _, ground in read_split_csv(data, args.split)][:args.limit]
    for folder in args.images:
        missing = [n for n in names if not (Path(folder) / n).is_file()]
        if missing:
            p.error(f"{folder} lacks {len(missing)} of the {len(names)} images, e.g. {missing[0]}")
    if args.perfect_sampler is not None and args.perfect_sampler < (2 if args.images else 1):
        p.error("--perfect-sampler needs K >= 1, and K >= 2 beside --images (the variance of the redraws)")

    result = {"images": {}}
    reals = [read_u8(data / "ground" / n) for n in names]
    labels = [read_u8(data / "labels" / "ground" / n) for n in names]
    fakes = {folder: [read_u8(Path(folder) / n) for n in names] for folder in args.images}
    for folder, images in fakes.items():
        result["images"][folder] = class_breakdown(images, reals, labels)
        print_breakdown(folder, result["images"][folder])
    if args.perfect_sampler:
        result["perfect_sampler"] = redrawn = perfect_sampler(data, meta, names, args.perfect_sampler,
                                                                  args.mean_colours)
        print_breakdown("one redraw (a perfect sampler)", redrawn["sampler"])
        print_breakdown(f"mean of {args.perfect_sampler} redraws (about the conditional mean)",
                        redrawn["mean_of_redraws"])
        if args.figure:
            redraw_figure(data, meta, names[:4], args.perfect_sampler, args.figure)
        for folder, images in fakes.items():
            with_variance = psnr_with_variance(images, reals, redrawn["variance"])
            result["images"][folder]["psnr_with_sampler_variance"] = with_variance
            print(f"{folder} with a perfect sampler's variation added: PSNR {with_variance:.3f} dB "
                  f"(from {result['images'][folder]['psnr']:.3f} dB)")
    if args.out:
        write_json_atomic(args.out, result)


if __name__ == "__main__":
    main()
