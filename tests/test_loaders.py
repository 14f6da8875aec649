"""Loaders for every layout, on tiny folders built in the real layouts."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat
from torch.utils.data import DataLoader

from crossview.data import CVACT, CVUSA, PairsFolder, VIGORCentred, detect_layout, open_pairs, read_rgb
from crossview.data.pairs import ImageReadError, image_to_tensor, tensor_to_image
from crossview.data.vigor import build_parser as vigor_parser
from crossview.data.vigor import centred_crop, derive_pairs

AERIAL, GROUND = (32, 32), (16, 64)


def solid(path, size, color, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)


def check_pair(aerial, ground, aerial_color=None, ground_color=None):
    assert aerial.shape == (3, *AERIAL) and ground.shape == (3, *GROUND)
    assert aerial.dtype == torch.float32 and aerial.min() >= -1 and aerial.max() <= 1
    for x, color in ((aerial, aerial_color), (ground, ground_color)):
        if color is not None:
            expected = torch.tensor(color, dtype=torch.float32) / 127.5 - 1
            assert torch.allclose(x.mean(dim=(1, 2)), expected, atol=0.05)  # JPEG shifts colours a little


def test_pairs_folder_from_synthcity(synthcity_dir):
    train = PairsFolder(synthcity_dir, "train", AERIAL, GROUND)
    assert len(train) == 6 and len(PairsFolder(synthcity_dir, "test", AERIAL, GROUND)) == 1
    aerial, ground = next(iter(DataLoader(train, batch_size=4)))
    assert aerial.shape == (4, 3, *AERIAL) and ground.shape == (4, 3, *GROUND)
    assert aerial.min() >= -1 and aerial.max() <= 1 and aerial.std() > 0.05
    # Full-size read round-trips exactly through tensor_to_image.
    full = PairsFolder(synthcity_dir, "train", (128, 128), (64, 256))
    a, _ = full[0]
    assert np.array_equal(np.array(tensor_to_image(a)), np.array(Image.open(full.pairs[0][0])))


def make_cvusa(root):
    rows = []
    for i, (ac, gc) in enumerate([((200, 0, 0), (0, 200, 0)), ((0, 0, 200), (200, 200, 0))]):
        sat, pano = f"bingmap/19/{i:07d}.jpg", f"streetview/panos/{i:07d}.jpg"
        solid(root / sat, (75, 75), ac)
        solid(root / pano, (123, 22), gc)
        rows.append([sat, pano, f"streetview/annotations/{i:07d}.png"])
    (root / "splits").mkdir()
    for name, part in (("train-19zl.csv", rows[:1]), ("val-19zl.csv", rows[1:])):
        with open(root / "splits" / name, "w", newline="") as f:
            csv.writer(f).writerows(part)


def test_cvusa(tmp_path):
    make_cvusa(tmp_path)
    assert detect_layout(tmp_path) == "cvusa"
    train, test = CVUSA(tmp_path, "train", AERIAL, GROUND), open_pairs(tmp_path, "test", AERIAL, GROUND)
    assert len(train) == 1 and len(test) == 1 and isinstance(test, CVUSA)
    check_pair(*train[0], (200, 0, 0), (0, 200, 0))
    check_pair(*test[0], (0, 0, 200), (200, 200, 0))


def make_cvact(root):
    ids = ["__-DFIFxvZBCn1873qkqXA", "__3KXYTkCNbyRmXMDmCHCQ", "__6dBnt3bJBhQqxWSqkbxA"]
    colors = [(220, 10, 10), (10, 220, 10), (10, 10, 220)]
    for pid, c in zip(ids, colors, strict=True):
        solid(root / "satview_polish" / f"{pid}_satView_polish.jpg", (60, 60), c)
        solid(root / "streetview" / f"{pid}_grdView.jpg", (120, 60), tuple(255 - v for v in c))
    savemat(root / "ACT_data.mat", {
        "panoIds": np.array(ids, dtype=object).reshape(-1, 1),
        "trainSet": {"trainInd": np.array([[1], [3]], dtype=float), "trainNum": 2.0},
        "valSet": {"valInd": np.array([[2]], dtype=float), "valNum": 1.0},
    })
    return ids, colors


def test_cvact(tmp_path):
    ids, colors = make_cvact(tmp_path)
    assert detect_layout(tmp_path) == "cvact"
    train = CVACT(tmp_path, "train", AERIAL, GROUND)
    assert [p[1].name for p in train.pairs] == [f"{ids[0]}_grdView.jpg", f"{ids[2]}_grdView.jpg"]
    check_pair(*train[1], colors[2], tuple(255 - v for v in colors[2]))
    val = open_pairs(tmp_path, "val", AERIAL, GROUND)
    assert len(val) == 1
    check_pair(*val[0], colors[1], tuple(255 - v for v in colors[1]))


def make_vigor(root, city="Chicago"):
    """One panorama per split; each tile has a white dot where the panorama was taken."""
    lines = {}
    for split, (pano, d_row, d_col) in {"train": ("p_train,41.8,-87.6,.jpg", 40.0, -25.0),
                                        "test": ("p_test,41.9,-87.7,.jpg", -60.5, 80.2)}.items():
        tile = np.zeros((640, 640, 3), np.uint8)
        row, col = round(320 + d_row), round(320 - d_col)
        tile[row - 3:row + 3, col - 3:col + 3] = 255
        sat = f"satellite_{split}.png"
        (root / city / "satellite").mkdir(parents=True, exist_ok=True)
        Image.fromarray(tile).save(root / city / "satellite" / sat)
        solid(root / city / "panorama" / pano, (200, 100), (90, 90, 90))
        semi = " ".join(f"other{i}.png 1.0 2.0" for i in range(3))
        lines[split] = f"{pano} {sat} {d_row} {d_col} {semi}\n"
    (root / "splits" / city).mkdir(parents=True)
    (root / "splits" / city / "same_area_balanced_train.txt").write_text(lines["train"])
    (root / "splits" / city / "same_area_balanced_test.txt").write_text(lines["test"])
    (root / "splits" / city / "pano_label_balanced.txt").write_text(lines["train"] + lines["test"])


def test_centred_crop_puts_the_camera_at_the_centre():
    tile = np.zeros((640, 640, 3), np.uint8)
    tile[320 + 100 - 2:320 + 100 + 2, 320 + 50 - 2:320 + 50 + 2] = 255  # d_row = 100, d_col = -50
    crop = np.array(centred_crop(Image.fromarray(tile), 100.0, -50.0, 320))
    assert crop.shape == (320, 320, 3)
    assert crop[158:162, 158:162].min() == 255 and crop.sum() == 255 * 3 * 16
    # The same offsets on a tile stored at half resolution scale with it.
    small = Image.fromarray(tile).resize((320, 320), Image.Resampling.NEAREST)
    assert np.array(centred_crop(small, 100.0, -50.0, 320)).shape == (160, 160, 3)


def assert_dot_at_centre(aerial):
    """The brightest pixel of the crop (the camera's dot) lies at its centre; the rest is dark."""
    grey = aerial.mean(0)
    row, col = divmod(int(grey.argmax()), grey.shape[1])
    centre = (grey.shape[0] - 1) / 2
    assert abs(row - centre) <= 1.5 and abs(col - centre) <= 1.5, (row, col)
    assert grey[: grey.shape[0] // 3].max() < -0.9


def test_vigor_loader_and_derived_pairs_folder(tmp_path):
    make_vigor(tmp_path / "VIGOR")
    assert detect_layout(tmp_path / "VIGOR") == "vigor"
    ds = VIGORCentred(tmp_path / "VIGOR", "train", (64, 64), GROUND, cities=("Chicago",))
    aerial, ground = ds[0]
    assert aerial.shape == (3, 64, 64) and ground.shape == (3, *GROUND)
    assert_dot_at_centre(aerial)
    out = tmp_path / "pairs"
    meta = derive_pairs(tmp_path / "VIGOR", out, cities=("Chicago",), crop=320, progress=False)
    assert meta["splits"] == {"train": 1, "test": 1}
    assert detect_layout(out) == "pairs"
    test = PairsFolder(out, "test", (64, 64), GROUND)
    assert len(test) == 1 and test.pairs[0][0].name == "Chicago_p_test,41.9,-87.7,.png"
    assert_dot_at_centre(test[0][0])
    assert json.loads((out / "meta.json").read_text())["cities"] == ["Chicago"]
    assert all(a.help for a in vigor_parser()._actions)


def test_vigor_bad_label_line_names_the_file(tmp_path):
    make_vigor(tmp_path)
    (tmp_path / "splits" / "Chicago" / "same_area_balanced_train.txt").write_text("pano.jpg sat.png north 3\n")
    with pytest.raises(ValueError, match=r"same_area_balanced_train\.txt:1"):
        VIGORCentred(tmp_path, "train", AERIAL, GROUND, cities=("Chicago",))


def test_missing_image_names_the_file(synthcity_dir, tmp_path):
    make_cvusa(tmp_path)
    (tmp_path / "streetview" / "panos" / "0000000.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"streetview/panos/0000000\.jpg"):
        CVUSA(tmp_path, "train", AERIAL, GROUND)[0]


@pytest.mark.parametrize("content", [b"", b"this is not a png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_corrupt_image_names_the_file(tmp_path, content):
    make_cvusa(tmp_path)
    (tmp_path / "bingmap" / "19" / "0000001.jpg").write_bytes(content)
    ds = CVUSA(tmp_path, "val", AERIAL, GROUND)
    with pytest.raises(ImageReadError, match=r"bingmap/19/0000001\.jpg"):
        ds[0]


def test_truncated_image_names_the_file(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ImageReadError, match=r"big\.png"):
        read_rgb(path)


def test_missing_split_files_are_named(tmp_path):
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "train.csv").write_text("aerial,ground\n")
    with pytest.raises(FileNotFoundError, match=r"splits/test\.csv"):
        PairsFolder(tmp_path, "test", AERIAL, GROUND)
    with pytest.raises(FileNotFoundError, match=r"ACT_data\.mat"):
        CVACT(tmp_path, "train", AERIAL, GROUND)
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        detect_layout(tmp_path / "nowhere")


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "CMYK"])
def test_read_rgb_converts_every_mode(tmp_path, mode):
    img = Image.new("RGB", (10, 6), (120, 60, 30))
    img = Image.fromarray(np.full((6, 10), 40000, np.uint16)) if mode == "I;16" else img.convert(mode)
    path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    img.save(path)
    out = read_rgb(path)
    assert out.mode == "RGB" and out.size == (10, 6)
    if mode == "I;16":
        assert np.array(out)[0, 0].tolist() == [156, 156, 156]  # 40000 / 257
    assert image_to_tensor(out, (4, 8)).shape == (3, 4, 8)
