"""What the retrieval embedding tells the a2g generator about where things stand in the panorama.

Ours' generator sees the aerial tile only through the SAIG-S embedding r (paper section 3.3). If r does not say
that a tree stands 5 m east of the camera, no generator can draw its crown filling the panorama's upper rows at
that azimuth. This probe asks how much of the panorama's layout r carries, and compares it with what the aerial
tile itself shows:

* targets: on a SynthCity set rendered with ``--labels``, each panorama's share of a class's pixels per azimuth
  sector (``--sectors``, columns) and per band of rows (the upper half of the sky side, elevation 22.5-45 deg,
  and the lower half, 0-22.5 deg, for the default 64-row panorama);
* features: (embedding) the embedding of the aerial tile that G sees: the frozen SAIG-S's, or G's own tuned copy
  of its aerial branch (``--tune-embedder-lr``); (aerial layout) the aerial class map resampled to polar bins
  around the camera, each class's share per azimuth sector and ring of distance (``--rings``, metres), aligned
  with the panorama's sectors: what the tile shows, as geometry; with ``--tokens`` also (tokens) the SAIG branch's
  tokens before its head, to tell a layout the head pools away from one the branch never kept;
* a ridge regression from each feature set, fitted on ``--fit`` (its weight chosen on a fifth of it) and scored
  as R^2 on ``--data``, pooled over sectors, per class and band (in its dual form where there are more features
  than pairs, as for the tokens).

A linear probe is a lower bound on what a feature holds; the aerial-layout probe says what a linear read-out can
do with the geometry in plain view.

    python -m train.probe_embedding --model assets/checkpoints/demo --fit data/synthcity-probe \
        --data data/synthcity-test-labels --limit 500 --out runs/eval-class/probe-embedding.json
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
from crossview.data.pairs import image_to_tensor, read_rgb, read_split_csv
from crossview.data.synthcity import CLASSES
from crossview.pipeline import CrossViewPipeline

# What the panorama shows above the horizon, by class: a building is its walls and windows (a roof seldom shows
# from 2 m).
TARGETS = {"tree": ("tree",), "building": ("facade", "window"), "sky": ("sky",)}
RIDGE_ALPHAS = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)
MIN_FIT_PAIRS = 10  # the ridge weight is chosen on a fifth of the fit set: two pairs at least


def panorama_layout(labels: np.ndarray, sectors: int) -> dict[str, np.ndarray]:
    """(N, H, W) class maps -> per band ('upper', 'lower' half of the rows above the horizon) an (N, T, sectors)
    array: the share of target class t's pixels in each azimuth sector (sector k: columns k W/S to (k+1) W/S)."""
    n, h, w = labels.shape
    if w % sectors:
        raise ValueError(f"{sectors} sectors do not divide the panorama's {w} columns")
    quarter = h // 4  # the rows above the horizon are h/2: the upper and the lower half of those
    bands = {"upper": slice(0, quarter), "lower": slice(quarter, 2 * quarter)}
    out = {}
    for band, rows in bands.items():
        part = labels[:, rows].reshape(n, -1, sectors, w // sectors)  # (N, rows, S, cols per sector)
        out[band] = np.stack([np.isin(part, [CLASSES[c] for c in names]).mean((1, 3))
                              for names in TARGETS.values()], 1)
    return out


def aerial_polar_layout(labels: np.ndarray, sectors: int, rings: list[float], meters_per_pixel: float,
                        azimuth_at_column_0_deg: float) -> np.ndarray:
    """(N, h, w) aerial class maps -> (N, classes * sectors * rings): each class's share of the pixels in each
    polar bin around the camera at the tile's centre. Sector k spans the azimuths of the panorama's sector k, so
    bin (k, ring) lies in the direction the panorama shows in its columns k W/S to (k+1) W/S."""
    n, h, w = labels.shape
    x = (np.arange(w) + 0.5 - w / 2) * meters_per_pixel  # east
    y = (h / 2 - np.arange(h) - 0.5) * meters_per_pixel  # north
    xx, yy = np.meshgrid(x, y)
    azimuth = np.degrees(np.arctan2(xx, yy)) % 360  # 0 = north, clockwise
    sector = (((azimuth - azimuth_at_column_0_deg) % 360) // (360 / sectors)).astype(int)
    ring = np.digitize(np.hypot(xx, yy), rings[1:-1])  # rings[0] = 0, the last edge catches the corners
    bins = (sector * (len(rings) - 1) + ring).ravel()
    n_bins, n_classes = sectors * (len(rings) - 1), len(CLASSES)  # class indices are 0 .. n_classes - 1
    counts = np.bincount(bins, minlength=n_bins)
    index = (np.arange(n)[:, None] * n_classes + labels.reshape(n, -1)) * n_bins + bins  # (pair, class, bin)
    hits = np.bincount(index.ravel(), minlength=n * n_classes * n_bins).reshape(n, n_classes, n_bins)
    return (hits / np.maximum(counts, 1)).reshape(n, -1)


def ridge_r2(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
             seed: int = 0) -> tuple[np.ndarray, float]:
    """Ridge regression on standardised features; its weight is the one of RIDGE_ALPHAS with the best pooled
    R^2 on a held-out fifth of the fit set, then refitted on all of it. Returns the test predictions and alpha."""
    def fit(x, y, alpha):
        mean, std = x.mean(0), x.std(0) + 1e-8
        xs = torch.from_numpy((x - mean) / std).double()
        y_mean = y.mean(0)
        yc = torch.from_numpy(y - y_mean).double()
        n, d = xs.shape
        if d <= n:  # (X'X + alpha I) w = X'y
            weights = torch.linalg.solve(xs.T @ xs + alpha * torch.eye(d, dtype=xs.dtype), xs.T @ yc)
        else:  # the same w with more features than pairs: w = X'(XX' + alpha I)^-1 y
            weights = xs.T @ torch.linalg.solve(xs @ xs.T + alpha * torch.eye(n, dtype=xs.dtype), yc)
        weights = weights.numpy()
        return lambda z: ((z - mean) / std) @ weights + y_mean

    order = np.random.default_rng(seed).permutation(len(x_fit))
    held, kept = order[: len(order) // 5], order[len(order) // 5:]
    scores = {a: pooled_r2(y_fit[held], fit(x_fit[kept], y_fit[kept], a)(x_fit[held])) for a in RIDGE_ALPHAS}
    alpha = max(scores, key=lambda a: -math.inf if math.isnan(scores[a]) else scores[a])
    return fit(x_fit, y_fit, alpha)(x_test), alpha


def pooled_r2(y: np.ndarray, prediction: np.ndarray) -> float:
    """1 - SSE / SST over every column together (each column centred on its own mean); NaN where y is constant."""
    total = ((y - y.mean(0)) ** 2).sum()
    return float(1 - ((y - prediction) ** 2).sum() / total) if total > 0 else math.nan


@torch.no_grad()
def embed_aerials(pipeline: CrossViewPipeline, paths: list[Path], tokens: bool = False,
                  batch_size: int = 64) -> dict[str, np.ndarray]:
    """{"embedding": the embedding a2g's generator sees}: its own encoder's where it has one
    (``--tune-embedder-lr``, or the 'w/o embedder' ablation), otherwise the frozen SAIG-S aerial branch's. With
    ``tokens``, also {"tokens": that SAIG branch's tokens before its head, flattened (N, tokens x width)}."""
    generator = pipeline.generators.get("a2g")
    encoder = generator.encoder if generator is not None and generator.encoder is not None else \
        pipeline.embedder.branch("aerial")
    if tokens and not hasattr(encoder, "encode_tokens"):
        raise ValueError("the a2g generator's own encoder has no tokens (the 'w/o embedder' ablation's)")
    size = pipeline.embedder.image_size("aerial")
    out = {"embedding": [], "tokens": []} if tokens else {"embedding": []}
    for start in tqdm(range(0, len(paths), batch_size), desc="embedding", leave=False):
        batch = torch.stack([image_to_tensor(read_rgb(p), size) for p in paths[start:start + batch_size]])
        batch = batch.to(pipeline.device)
        if tokens:  # one pass for both
            token_map = encoder.encode_tokens(batch)[0]
            out["embedding"].append(encoder.embed_tokens(token_map))
            out["tokens"].append(token_map.flatten(1))
        else:
            out["embedding"].append(encoder(batch))
    return {name: torch.cat(parts).float().cpu().numpy() for name, parts in out.items()}


def load_set(root: Path, split: str, limit: int | None):
    """(aerial paths, aerial class maps, panorama class maps, meta) of a SynthCity set rendered with --labels."""
    meta = json.loads((root / "meta.json").read_text())
    if not meta.get("labels"):
        raise SystemExit(f"{root} has no class maps: render it with python -m crossview.data.synthcity ... --labels")
    pairs = read_split_csv(root, split)[:limit]
    if not pairs:
        raise SystemExit(f"{root} has no {split} pairs")
    aerial_labels = np.stack([np.asarray(Image.open(root / "labels" / "aerial" / a.name)) for a, _ in pairs])
    ground_labels = np.stack([np.asarray(Image.open(root / "labels" / "ground" / g.name)) for _, g in pairs])
    return [a for a, _ in pairs], aerial_labels, ground_labels, meta


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True,
                   help="a CrossViewPipeline folder: its a2g generator's own encoder, or its SAIG-S, embeds aerials")
    p.add_argument("--fit", required=True, help="a SynthCity folder rendered with --labels to fit the probes on")
    p.add_argument("--fit-split", default="train")
    p.add_argument("--data", required=True, help="a SynthCity folder rendered with --labels to score them on")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, default=None, help="score on the first N pairs of --data")
    p.add_argument("--fit-limit", type=int, default=None, help="fit on the first N pairs of --fit")
    p.add_argument("--sectors", type=int, default=16, help="azimuth sectors (they must divide the panorama width)")
    p.add_argument("--rings", type=float, nargs="+", default=[0, 4, 8, 12, 16, 24, 32, 46],
                   help="ring edges of the aerial-layout features, metres from the camera (first 0)")
    p.add_argument("--tokens", action="store_true",
                   help="also probe the tokens before the embedding's head (SAIG's SMD): is the layout lost there?")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    if args.rings[0] != 0 or any(np.diff(args.rings) <= 0):
        p.error("--rings must start at 0 and increase")

    sets = {name: load_set(Path(root), split, limit) for name, root, split, limit in
            (("fit", args.fit, args.fit_split, args.fit_limit), ("test", args.data, args.split, args.limit))}
    if len(sets["fit"][0]) < MIN_FIT_PAIRS:
        p.error(f"--fit has {len(sets['fit'][0])} pairs; the probes need at least {MIN_FIT_PAIRS}")
    pipeline = CrossViewPipeline.from_pretrained(args.model, device=args.device)
    for name, (paths, aerial_labels, ground_labels, meta) in sets.items():
        sets[name] = {
            **embed_aerials(pipeline, paths, tokens=args.tokens),
            "aerial layout": aerial_polar_layout(aerial_labels, args.sectors, args.rings,
                                                 meta["aerial_meters_per_pixel"], meta["azimuth_at_column_0_deg"]),
            "targets": panorama_layout(ground_labels, args.sectors),
            "pairs": len(paths),
        }
    result = {"model": args.model, "fit": args.fit, "data": args.data, "fit_pairs": sets["fit"]["pairs"],
              "test_pairs": sets["test"]["pairs"], "sectors": args.sectors, "rings_m": args.rings, "r2": {}}
    for features in [k for k in ("embedding", "tokens", "aerial layout") if k in sets["test"]]:
        for band in ("upper", "lower"):
            y_fit, y_test = (sets[s]["targets"][band] for s in ("fit", "test"))
            prediction, alpha = ridge_r2(sets["fit"][features], y_fit.reshape(len(y_fit), -1),
                                         sets["test"][features], y_test.reshape(len(y_test), -1))
            prediction = prediction.reshape(y_test.shape)
            for t, target in enumerate(TARGETS):
                key = f"{features} | {target} | {band}"
                result["r2"][key] = {"r2": pooled_r2(y_test[:, t], prediction[:, t]), "alpha": alpha,
                                     "mean_share": float(y_test[:, t].mean())}
    width = max(map(len, result["r2"]))
    for key, value in result["r2"].items():
        print(f"{key:{width}s}  R^2 {value['r2']:6.3f}  (share {value['mean_share']:.3f}, alpha {value['alpha']:g})")
    if args.out:
        write_json_atomic(Path(args.out), result)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
