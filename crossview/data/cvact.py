"""CVACT (Liu and Li, 2019), the ACT_small train/val protocol.

Layout::

    root/ACT_data.mat                         panoIds, trainSet.trainInd, valSet.valInd (1-based)
    root/streetview/<id>_grdView.jpg          panorama
    root/satview_polish/<id>_satView_polish.jpg   aerial

``split="test"`` reads the val indices, as prior synthesis work does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import loadmat

from crossview.data.pairs import PairedImages, Size

SPLIT_FIELDS = {"train": ("trainSet", "trainInd"), "val": ("valSet", "valInd"), "test": ("valSet", "valInd")}


def cvact_pairs(root: str | Path, split: str) -> list[tuple[Path, Path]]:
    root = Path(root)
    if split not in SPLIT_FIELDS:
        raise ValueError(f"CVACT split must be one of {sorted(SPLIT_FIELDS)}, got {split!r}")
    mat_path = root / "ACT_data.mat"
    if not mat_path.is_file():
        raise FileNotFoundError(f"missing CVACT index file: {mat_path}")
    try:
        mat = loadmat(mat_path, squeeze_me=True, struct_as_record=False)
    except Exception as e:  # scipy raises several types for damaged files
        raise ValueError(f"cannot read {mat_path}: {e}") from e
    struct_name, field = SPLIT_FIELDS[split]
    try:
        ids = [str(i) for i in np.atleast_1d(mat["panoIds"])]
        indices = np.atleast_1d(getattr(mat[struct_name], field)).astype(np.int64)
    except (KeyError, AttributeError) as e:
        raise ValueError(f"{mat_path}: expected panoIds and {struct_name}.{field}, missing {e}") from e
    if indices.size and (indices.min() < 1 or indices.max() > len(ids)):
        raise ValueError(f"{mat_path}: {struct_name}.{field} has indices outside 1..{len(ids)}")
    return [(root / "satview_polish" / f"{ids[i - 1]}_satView_polish.jpg",
             root / "streetview" / f"{ids[i - 1]}_grdView.jpg") for i in indices]


class CVACT(PairedImages):
    def __init__(self, root: str | Path, split: str, aerial_size: Size, ground_size: Size):
        self.root = Path(root)
        super().__init__(cvact_pairs(root, split), aerial_size, ground_size)
