"""train.probe_embedding: the layout targets and polar features against hand-placed classes, the ridge probe on
known data, and the CLI end to end on a tiny untrained pipeline."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from crossview.data.pairs import image_to_tensor, read_rgb, read_split_csv
from crossview.data.synthcity import CLASSES, SynthCityConfig, generate
from crossview.models.embedder import SAIG
from crossview.pipeline import CrossViewPipeline
from crossview.trainer import GANConfig, build_generator
from train.probe_embedding import (
    TARGETS,
    aerial_polar_layout,
    embed_aerials,
    main,
    panorama_layout,
    pooled_r2,
    ridge_r2,
)


def test_panorama_layout_counts_each_class_per_sector_and_band():
    labels = np.full((1, 16, 64), CLASSES["road"], np.uint8)
    labels[0, :8] = CLASSES["sky"]
    labels[0, :4, 8:16] = CLASSES["tree"]  # sector 1 of 8, the whole upper band (rows 0-3)
    labels[0, 4:8, 16:20] = CLASSES["window"]  # half of sector 2 in the lower band (rows 4-7)
    out = panorama_layout(labels, sectors=8)
    tree, building, sky = (list(TARGETS).index(t) for t in ("tree", "building", "sky"))
    assert out["upper"].shape == out["lower"].shape == (1, len(TARGETS), 8)
    assert out["upper"][0, tree].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert out["lower"][0, building].tolist() == [0, 0, 0.5, 0, 0, 0, 0, 0]
    assert out["upper"][0, sky, 0] == 1 and out["upper"][0, sky, 1] == 0 and out["lower"][0, sky, 2] == 0.5
    with pytest.raises(ValueError, match="do not divide"):
        panorama_layout(labels, sectors=6)


def test_aerial_polar_layout_puts_a_pixel_in_the_sector_the_panorama_shows_it_in():
    """A tree north-east of the camera, 3.5 m out: SynthCity's panorama starts at azimuth 180 (south) and turns
    clockwise, so north-east (45 deg) is 225 deg on, in the third quarter of its columns: sector 2 of 4."""
    labels = np.full((1, 8, 8), CLASSES["grass"], np.uint8)
    labels[0, 1, 6] = CLASSES["tree"]  # x = 2.5 m east, y = 2.5 m north at 1 m per pixel
    rings = [0, 4, 8]
    features = aerial_polar_layout(labels, sectors=4, rings=rings, meters_per_pixel=1.0, azimuth_at_column_0_deg=180)
    bins = 4 * (len(rings) - 1)
    per_class = features.reshape(1, len(CLASSES), bins)
    tree = per_class[0, sorted(CLASSES.values()).index(CLASSES["tree"])]
    assert np.flatnonzero(tree).tolist() == [2 * 2 + 0]  # sector 2, ring 0
    assert 0 < tree[4] < 1  # a share of that bin's pixels
    assert per_class[0].sum(0) == pytest.approx(np.ones(bins))  # every bin's shares add up to one


def test_ridge_r2_recovers_a_linear_map_and_finds_nothing_in_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 10))
    y = x @ rng.normal(size=(10, 3))
    prediction, _ = ridge_r2(x[:300], y[:300], x[300:], y[300:])
    assert pooled_r2(y[300:], prediction) > 0.99
    wide = rng.normal(size=(40, 100))  # more features than pairs: the dual form gives the primal's weights
    y_wide = rng.normal(size=(40, 2))
    _, alpha = ridge_r2(wide[:30], y_wide[:30], wide[30:], y_wide[30:])
    xs = (wide[:30] - wide[:30].mean(0)) / (wide[:30].std(0) + 1e-8)
    primal = np.linalg.solve(xs.T @ xs + alpha * np.eye(100), xs.T @ (y_wide[:30] - y_wide[:30].mean(0)))
    expected = (wide[30:] - wide[:30].mean(0)) / (wide[:30].std(0) + 1e-8) @ primal + y_wide[:30].mean(0)
    assert np.allclose(ridge_r2(wide[:30], y_wide[:30], wide[30:], y_wide[30:])[0], expected)
    noise = rng.normal(size=(400, 3))
    prediction, alpha = ridge_r2(x[:300], noise[:300], x[300:], noise[300:])
    assert pooled_r2(noise[300:], prediction) < 0.05 and alpha > 1


def test_cli_probes_a_pipeline(tmp_path):
    """Fitted and scored on the same 12 small pairs: the aerial layout, with as many features as pairs and more,
    explains the panorama's layout almost exactly, a random tiny embedder's 16 numbers much less."""
    data = tmp_path / "synthcity"
    generate(data, num=12, seed=5, cfg=SynthCityConfig(aerial_size=(32, 32), ground_size=(16, 64)),
             train_frac=1.0, val_frac=0.0, labels=True, progress=False)
    model = tmp_path / "model"
    CrossViewPipeline.untrained("tiny", seed=0).save_pretrained(model)
    out = tmp_path / "probe.json"
    main(["--model", str(model), "--fit", str(data), "--data", str(data), "--split", "train", "--sectors", "8",
          "--tokens", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["fit_pairs"] == result["test_pairs"] == 12
    assert len(result["r2"]) == 3 * 2 * len(TARGETS)  # (embedding, tokens, aerial layout) x bands x targets
    assert result["r2"]["aerial layout | sky | lower"]["r2"] > 0.9
    shares = [v["mean_share"] for k, v in result["r2"].items() if k.endswith("| sky | upper")]
    assert shares[0] == shares[1] > 0.5
    with pytest.raises(SystemExit):  # too few pairs to choose the ridge weight on
        main(["--model", str(model), "--fit", str(data), "--fit-limit", "9", "--data", str(data), "--split", "train"])


def test_the_probe_embeds_with_what_a2g_sees(synthcity_dir):
    """The frozen SAIG-S aerial branch, or the a2g generator's own tuned copy of it where it has one."""
    saig = SAIG.from_preset("tiny").eval()
    tuned = build_generator(GANConfig(preset="tiny", tune_embedder_lr=1e-5), saig.embed_dim,
                            saig.branch_config("aerial"))
    with torch.no_grad():
        for p in tuned.encoder.parameters():
            p.add_(0.1)
    paths = [a for a, _ in read_split_csv(synthcity_dir, "train")][:2]
    images = torch.stack([image_to_tensor(read_rgb(p), (32, 32)) for p in paths])
    with torch.no_grad():
        frozen, own = saig.embed(images, "aerial").numpy(), tuned.encoder(images).numpy()
    plain = build_generator(GANConfig(preset="tiny"), saig.embed_dim)
    assert np.allclose(embed_aerials(CrossViewPipeline(saig, {"a2g": plain}), paths)["embedding"], frozen, atol=1e-5)
    assert np.allclose(embed_aerials(CrossViewPipeline(saig, {"a2g": tuned}), paths)["embedding"], own, atol=1e-5)
    assert not np.allclose(own, frozen, atol=1e-3)


def test_cli_refuses_a_set_without_labels(synthcity_dir, tmp_path):
    plain = tmp_path / "plain"
    (plain / "splits").mkdir(parents=True)
    meta = json.loads((synthcity_dir / "meta.json").read_text()) | {"labels": False}
    (plain / "meta.json").write_text(json.dumps(meta))
    Image.new("RGB", (4, 4)).save(tmp_path / "x.png")
    with pytest.raises(SystemExit, match="no class maps"):
        main(["--model", "unused", "--fit", str(plain), "--data", str(plain)])
