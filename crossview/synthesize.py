"""Synthesize the other view of one image or of every image in a folder, from the command line.

    python -m crossview.synthesize assets/examples/aerial-1.png --out runs/synth
    python -m crossview.synthesize data/synthcity-test/ground --out runs/synth --samples 4 --save-attention

For an input NAME.EXT it writes NAME.png (or NAME_s0.png, NAME_s1.png, ... with --samples > 1),
NAME_coarse.png, and with --save-attention NAME_attention/<layer>.png (heatmap over the result, with a
colorbar) and NAME_attention/maps.npz (the raw maps). results.json lists the direction and similarity per
input. An unreadable input is reported and skipped; the exit status is 1 if any input failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crossview.checkpoint import CheckpointError
from crossview.data.pairs import ImageReadError
from crossview.pipeline import CrossViewPipeline
from crossview.visualize import attention_overlay

log = logging.getLogger("crossview.synthesize")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
DIRECTION_CHOICES = ["auto", "a2g", "g2a"]


def list_inputs(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"no such image or folder: {path}")


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def synthesize_one(pipe: CrossViewPipeline, path: Path, out: Path, direction: str, seed: int, samples: int,
                   save_attention: bool) -> dict:
    result = pipe(path, direction=direction, seed=seed, num_samples=samples)
    stem = path.stem
    names = [f"{stem}.png"] if samples == 1 else [f"{stem}_s{i}.png" for i in range(samples)]
    for name, image in zip(names, result.images, strict=True):
        image.save(out / name)
    result.coarse[0].save(out / f"{stem}_coarse.png")
    if save_attention:
        folder = out / f"{stem}_attention"
        folder.mkdir(exist_ok=True)
        for layer, m in result.attention.items():
            attention_overlay(result.images[0], m).save(folder / f"{safe_name(layer)}.png")
        np.savez_compressed(folder / "maps.npz", **{safe_name(k): v for k, v in result.attention.items()})
    return {"input": str(path), "direction": result.direction, "outputs": names, "similarity": result.similarity}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m crossview.synthesize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="an image file or a folder of images")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default="assets/checkpoints/demo", help="pipeline folder or Hugging Face repo id")
    p.add_argument("--direction", default="auto", choices=DIRECTION_CHOICES,
                   help="auto decides from the aspect ratio (wide: a panorama, so g2a)")
    p.add_argument("--seed", type=int, default=0, help="style-noise seed; the same seed gives the same result")
    p.add_argument("--samples", type=int, default=1, help="diverse results per input (seeds seed, seed+1, ...)")
    p.add_argument("--save-attention", action="store_true", help="also save the Attn-AdaIN weight maps M")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        pipe = CrossViewPipeline.from_pretrained(args.model, args.device)
        inputs = list_inputs(Path(args.input))
    except (CheckpointError, FileNotFoundError) as e:
        log.error("%s", e)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, failed = [], 0
    for path in tqdm(inputs, desc="synthesizing", unit="image", disable=len(inputs) < 2):
        try:
            results.append(synthesize_one(pipe, path, out, args.direction, args.seed, args.samples,
                                          args.save_attention))
        except (ImageReadError, ValueError) as e:
            failed += 1
            log.error("skipped %s: %s", path, e)
            results.append({"input": str(path), "error": str(e)})
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    log.info("%d of %d inputs synthesized into %s", len(inputs) - failed, len(inputs), out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
