"""Datasets: SynthCity (procedural), the pairs layout, CVUSA, CVACT and VIGOR.

All yield ``(aerial, ground)`` float tensors in [-1, 1]; ``open_pairs`` picks the loader from the folder.
"""

from __future__ import annotations

from pathlib import Path

from crossview.data.cvact import CVACT
from crossview.data.cvusa import CVUSA
from crossview.data.pairs import ImageReadError, PairedImages, PairsFolder, Size, read_rgb
from crossview.data.vigor import VIGORCentred

__all__ = ["CVACT", "CVUSA", "ImageReadError", "PairedImages", "PairsFolder", "VIGORCentred", "detect_layout",
           "open_pairs", "read_rgb"]

LOADERS = {"pairs": PairsFolder, "cvusa": CVUSA, "cvact": CVACT, "vigor": VIGORCentred}


def detect_layout(root: str | Path) -> str:
    """Which dataset layout a folder holds: 'pairs', 'cvusa', 'cvact' or 'vigor'."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    if (root / "splits" / "train.csv").is_file() or (root / "splits" / "test.csv").is_file():
        return "pairs"
    if (root / "splits" / "train-19zl.csv").is_file() or (root / "splits" / "val-19zl.csv").is_file():
        return "cvusa"
    if (root / "ACT_data.mat").is_file():
        return "cvact"
    if (root / "splits").is_dir() and any((root / "splits" / c).is_dir() for c in ("Chicago", "NewYork",
                                                                                      "SanFrancisco", "Seattle")):
        return "vigor"
    raise ValueError(f"{root}: not a known dataset layout (pairs splits/*.csv, CVUSA splits/*-19zl.csv, "
                     "CVACT ACT_data.mat, or VIGOR splits/<City>/)")


def open_pairs(root: str | Path, split: str, aerial_size: Size, ground_size: Size,
               layout: str = "auto") -> PairedImages:
    """The ``split`` of the dataset in ``root`` as (aerial, ground) tensors of the given sizes."""
    layout = detect_layout(root) if layout == "auto" else layout
    if layout not in LOADERS:
        raise ValueError(f"unknown dataset layout {layout!r}; choose one of {sorted(LOADERS)} or 'auto'")
    return LOADERS[layout](root, split, aerial_size, ground_size)
