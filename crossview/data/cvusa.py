"""CVUSA (the 35,532 / 8,884 subset of Zhai et al., as used by cross-view synthesis work).

Layout::

    root/splits/train-19zl.csv   root/splits/val-19zl.csv
    root/bingmap/19/*.jpg        aerial, 750 x 750
    root/streetview/panos/*.jpg  panorama, 1232 x 224

Each csv row (no header): satellite path, panorama path, annotation path, all relative to root.
Prior work reports its test numbers on the val split, so ``split="test"`` reads val-19zl.csv too.
"""

from __future__ import annotations

import csv
from pathlib import Path

from crossview.data.pairs import PairedImages, Size

SPLIT_FILES = {"train": "train-19zl.csv", "val": "val-19zl.csv", "test": "val-19zl.csv"}


def cvusa_pairs(root: str | Path, split: str) -> list[tuple[Path, Path]]:
    root = Path(root)
    if split not in SPLIT_FILES:
        raise ValueError(f"CVUSA split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
    path = root / "splits" / SPLIT_FILES[split]
    if not path.is_file():
        raise FileNotFoundError(f"missing CVUSA split file: {path}")
    pairs = []
    with open(path, newline="") as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) < 2:
                raise ValueError(f"{path}:{line_no}: expected 'satellite,panorama[,annotation]', got {row}")
            pairs.append((root / row[0].strip(), root / row[1].strip()))
    return pairs


class CVUSA(PairedImages):
    def __init__(self, root: str | Path, split: str, aerial_size: Size, ground_size: Size):
        self.root = Path(root)
        super().__init__(cvusa_pairs(root, split), aerial_size, ground_size)
