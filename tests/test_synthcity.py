import csv
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from crossview.data import synthcity
from crossview.data.synthcity import CLASSES, SynthCityConfig, file_name, generate, render_pair

GROUND_PLANE = [CLASSES[c] for c in ("road", "lane_mark", "sidewalk", "grass", "parking")]


def test_render_shapes_and_class_table():
    pair = render_pair(seed=5, index=0)
    assert pair["aerial"].shape == (128, 128, 3) and pair["aerial"].dtype == np.uint8
    assert pair["ground"].shape == (64, 256, 3) and pair["ground"].dtype == np.uint8
    assert pair["aerial_labels"].shape == (128, 128) and pair["ground_labels"].shape == (64, 256)
    ids = set(CLASSES.values())
    assert set(np.unique(pair["aerial_labels"])) <= ids and set(np.unique(pair["ground_labels"])) <= ids


def test_view_specific_content_over_many_scenes():
    """Roofs only from above, facades and sky only from the ground; the camera stands on a road."""
    seen = {"aerial": set(), "ground": set()}
    for index in range(12):
        pair = render_pair(seed=1, index=index)
        a, g = pair["aerial_labels"], pair["ground_labels"]
        assert CLASSES["facade"] not in a and CLASSES["window"] not in a and CLASSES["sky"] not in a
        assert CLASSES["roof"] not in g
        assert a[63:65, 63:65].max() in (CLASSES["road"], CLASSES["lane_mark"])  # the tile centre is road
        assert g[-1].tolist().count(CLASSES["road"]) + g[-1].tolist().count(CLASSES["lane_mark"]) > 200
        seen["aerial"] |= set(np.unique(a).tolist())
        seen["ground"] |= set(np.unique(g).tolist())
    # Over a dozen scenes every kind of surface shows up in the view that can see it.
    names = {v: k for k, v in CLASSES.items()}
    assert {names[i] for i in seen["aerial"]} >= {"road", "sidewalk", "grass", "roof", "tree"}
    assert {names[i] for i in seen["ground"]} >= {"sky", "road", "sidewalk", "grass", "facade", "window", "tree"}


def test_scenes_vary():
    a = [render_pair(seed=0, index=i)["aerial"].astype(float) for i in range(4)]
    means = [x.mean(axis=(0, 1)) for x in a]
    assert all(np.abs(a[0] - x).mean() > 10 for x in a[1:])
    assert np.std([m.sum() for m in means]) > 1.0  # palettes differ from scene to scene


def test_same_seed_and_index_is_identical_and_seed_matters():
    first, again = render_pair(7, 3), render_pair(7, 3)
    for key in first:
        assert np.array_equal(first[key], again[key])
    assert not np.array_equal(render_pair(8, 3)["aerial"], first["aerial"])


def test_layout_splits_and_meta(synthcity_dir):
    root = synthcity_dir
    names = sorted(p.name for p in (root / "aerial").glob("*.png"))
    assert len(names) == 8
    for sub in ("ground", "labels/aerial", "labels/ground"):
        assert sorted(p.name for p in (root / sub).glob("*.png")) == names
    rows = {}
    for split in ("train", "val", "test"):
        with open(root / "splits" / f"{split}.csv", newline="") as f:
            reader = csv.reader(f)
            assert next(reader) == ["aerial", "ground"]
            rows[split] = list(reader)
    assert [len(rows[s]) for s in ("train", "val", "test")] == [6, 1, 1]
    all_rows = rows["train"] + rows["val"] + rows["test"]
    assert sorted(r[0] for r in all_rows) == [f"aerial/{n}" for n in names]
    assert all(r[1] == r[0].replace("aerial/", "ground/") for r in all_rows)

    meta = json.loads((root / "meta.json").read_text())
    for key in ("aerial_size", "ground_size", "aerial_meters_per_pixel", "camera_height_m",
                "ground_elevation_range_deg", "azimuth_at_column_0_deg", "azimuth_direction", "classes",
                "generator_version", "seed"):
        assert key in meta, key
    assert meta["aerial_size"] == [128, 128] and meta["ground_size"] == [64, 256]
    assert meta["azimuth_direction"] in ("clockwise", "counterclockwise")
    assert meta["classes"] == CLASSES and meta["seed"] == 123
    label = np.array(Image.open(root / "labels" / "ground" / names[0]))
    assert label.dtype == np.uint8 and label.shape == (64, 256)
    assert np.array_equal(np.array(Image.open(root / "ground" / names[0])), render_pair(123, 0)["ground"])


def test_files_are_byte_identical_whatever_the_workers(tmp_path):
    cfg = SynthCityConfig(aerial_size=(48, 48), ground_size=(24, 96))
    generate(tmp_path / "one", 6, seed=4, cfg=cfg, labels=True, workers=1, progress=False)
    generate(tmp_path / "two", 6, seed=4, cfg=cfg, labels=True, workers=2, progress=False)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(files) == 6 * 4 + 3 + 1
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def project_ground_to_aerial(meta: dict, rows: np.ndarray, cols: np.ndarray):
    """Ground-plane pixels of the panorama -> aerial pixel coordinates, using only meta.json's geometry."""
    gh, gw = meta["ground_size"]
    ah, aw = meta["aerial_size"]
    bottom, top = meta["ground_elevation_range_deg"]
    sign = 1.0 if meta["azimuth_direction"] == "clockwise" else -1.0
    azimuth = np.radians(meta["azimuth_at_column_0_deg"] + sign * (cols + 0.5) * 360.0 / gw)
    elevation = np.radians(top - (rows + 0.5) * (top - bottom) / gh)
    distance = meta["camera_height_m"] / np.tan(-elevation)  # where the ray meets the ground plane
    east, north = distance * np.sin(azimuth), distance * np.cos(azimuth)
    mpp = meta["aerial_meters_per_pixel"]
    return ah / 2 - north / mpp, aw / 2 + east / mpp  # (row, col), continuous


@pytest.mark.parametrize("azimuth_offset", [0.0, 90.0])
def test_ground_plane_pixels_project_onto_the_same_aerial_classes(synthcity_dir, azimuth_offset):
    """Project each ground-plane pixel of the panorama into the aerial label map with meta.json's geometry;
    the classes must agree. A wrong azimuth (offset by 90 degrees) must break the agreement."""
    meta = json.loads((synthcity_dir / "meta.json").read_text())
    meta["azimuth_at_column_0_deg"] += azimuth_offset
    agree = total = 0
    for name in sorted(p.name for p in (synthcity_dir / "aerial").glob("*.png")):
        g = np.array(Image.open(synthcity_dir / "labels" / "ground" / name))
        a = np.array(Image.open(synthcity_dir / "labels" / "aerial" / name))
        rows, cols = np.nonzero(np.isin(g, GROUND_PLANE))
        r, c = project_ground_to_aerial(meta, rows, cols)
        inside = (r >= 0) & (r < a.shape[0]) & (c >= 0) & (c < a.shape[1])
        ground_cls = g[rows[inside], cols[inside]]
        aerial_cls = a[r[inside].astype(int), c[inside].astype(int)]
        visible = np.isin(aerial_cls, GROUND_PLANE)  # from above, crowns and roofs may hide the ground
        agree += int((ground_cls[visible] == aerial_cls[visible]).sum())
        total += int(visible.sum())
    assert total > 8 * 2000
    rate = agree / total
    if azimuth_offset == 0:
        assert rate > 0.95, rate
    else:
        assert rate < 0.85, rate


def test_help_documents_every_flag(capsys):
    parser = synthcity.build_parser()
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help"
    with pytest.raises(SystemExit):
        synthcity.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--out", "--num", "--seed", "--aerial-size", "--ground-size", "--train-frac", "--val-frac",
                 "--workers", "--labels"):
        assert flag in text


def test_cli_writes_the_layout(tmp_path):
    synthcity.main(["--out", str(tmp_path), "--num", "3", "--seed", "9", "--aerial-size", "32",
                    "--ground-size", "16x64", "--train-frac", "0", "--val-frac", "0", "--labels", "--quiet"])
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["splits"] == {"train": 0, "val": 0, "test": 3}
    assert Image.open(tmp_path / "aerial" / "0000002.png").size == (32, 32)
    assert Image.open(tmp_path / "ground" / "0000002.png").size == (64, 16)
    assert (tmp_path / "labels" / "ground" / "0000002.png").is_file()


@pytest.mark.parametrize("argv", [["--num", "0"], ["--train-frac", "0.9", "--val-frac", "0.5"],
                                  ["--ground-size", "abc"]])
def test_cli_rejects_bad_arguments(tmp_path, argv):
    with pytest.raises(SystemExit) as e:
        synthcity.main(["--out", str(tmp_path), "--num", "2", *argv])
    assert e.value.code == 2


def test_resume_renders_only_the_missing_pairs(tmp_path):
    cfg = SynthCityConfig(aerial_size=(48, 48), ground_size=(24, 96))
    generate(tmp_path / "small", 4, seed=4, cfg=cfg, progress=False)
    small_files = {p: p.read_bytes() for p in (tmp_path / "small").rglob("*") if p.is_file()}
    shutil.copytree(tmp_path / "small", tmp_path / "grown", copy_function=os.link)  # the README's cp -al
    kept = tmp_path / "grown" / "aerial" / file_name(0)
    before = kept.stat().st_mtime_ns
    generate(tmp_path / "grown", 6, seed=4, cfg=cfg, progress=False, resume=True)
    assert kept.stat().st_mtime_ns == before  # not rendered again
    for path, data in small_files.items():  # the hard-linked original keeps its meta.json and splits
        assert path.read_bytes() == data, path
    generate(tmp_path / "fresh", 6, seed=4, cfg=cfg, progress=False)
    files = sorted(p.relative_to(tmp_path / "fresh") for p in (tmp_path / "fresh").rglob("*") if p.is_file())
    for rel in files:  # the grown set is the set rendered in one go, splits and meta.json included
        assert (tmp_path / "grown" / rel).read_bytes() == (tmp_path / "fresh" / rel).read_bytes(), rel
    with pytest.raises(ValueError, match="seed 4"):  # another seed would mix two datasets
        generate(tmp_path / "grown", 8, seed=5, cfg=cfg, progress=False, resume=True)


def test_redraw_unseen_changes_only_what_the_aerial_does_not_show():
    cfg = SynthCityConfig()
    changed = 0
    for index in range(4):
        scene = synthcity.sample_scene(3, index)
        redrawn = synthcity.redraw_unseen(scene, np.random.default_rng(index))
        again = synthcity.redraw_unseen(scene, np.random.default_rng(index))
        # The aerial view is the same picture; the redraw is a function of its generator's state.
        assert np.array_equal(synthcity.render_aerial(scene, cfg)[0], synthcity.render_aerial(redrawn, cfg)[0])
        assert np.array_equal(synthcity.render_ground(redrawn, cfg)[0], synthcity.render_ground(again, cfg)[0])
        assert [b.roof_color.tolist() for b in redrawn.buildings] == [b.roof_color.tolist() for b in scene.buildings]
        # Storeys still fit each main block's height: height = floors * floor_height + U(0.3, 1.2).
        for bid, building in enumerate(redrawn.buildings):
            height = next(box.height for box in scene.boxes if box.building == bid)
            assert 2.9 <= building.floor_height <= 3.6
            assert any(0.3 <= height - f * building.floor_height <= 1.2 for f in range(1, 8))
        ground, labels = synthcity.render_ground(scene, cfg)
        ground2, labels2 = synthcity.render_ground(redrawn, cfg)
        facade_or_window = np.isin(labels, [CLASSES["facade"], CLASSES["window"]])
        if facade_or_window.any():
            changed += 1
            assert np.abs(ground2.astype(int) - ground)[facade_or_window].mean() > 3
        # Geometry, and the ground plane's colours, stay: roads are where they were, in the same colours.
        road = labels == CLASSES["road"]
        assert np.array_equal(labels[road], labels2[road])
        assert np.abs(ground2.astype(int) - ground)[road].mean() < 3  # only the fog differs there
    assert changed >= 2


def test_redraw_unseen_with_mean_colours_draws_only_where_the_windows_are():
    scene = synthcity.sample_scene(3, 1)
    redrawn = synthcity.redraw_unseen(scene, np.random.default_rng(0), mean_colours=True)
    mean_facade = np.mean(synthcity.FACADE_COLORS, 0)
    assert all(np.allclose(b.facade_color, mean_facade) for b in redrawn.buildings)
    assert all(np.allclose(b.window_color, (0.16, 0.20, 0.26)) for b in redrawn.buildings)
    assert redrawn.palette.fog_meters == 275.0
    assert [b.window_spacing for b in redrawn.buildings] != [b.window_spacing for b in scene.buildings]

