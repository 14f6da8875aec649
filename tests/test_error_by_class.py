"""train.error_by_class: the class breakdown against hand computations, and the perfect-sampler CLI end to end."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from crossview.data.pairs import read_split_csv
from crossview.data.synthcity import CLASSES
from train.error_by_class import class_breakdown, main, psnr_with_variance


def test_class_breakdown_matches_a_hand_computation():
    real = np.zeros((4, 4, 3), np.uint8)
    labels = np.full((4, 4), CLASSES["road"], np.uint8)
    labels[:1] = CLASSES["sky"]  # 4 sky pixels, 12 road pixels
    fake = real.copy()
    fake[:1] = 20  # sky off by 20 in every channel
    fake[3, :2] = 10  # two road pixels off by 10
    out = class_breakdown([fake], [real], [labels])

    sky_error, road_error = 4 * 3 * 20**2, 2 * 3 * 10**2
    total = sky_error + road_error
    assert out["psnr"] == pytest.approx(10 * math.log10(255**2 / (total / 48)))
    sky, road = out["classes"]["sky"], out["classes"]["road"]
    assert (sky["pixel_share"], road["pixel_share"]) == (0.25, 0.75)
    assert sky["error_share"] == pytest.approx(sky_error / total)
    assert road["error_share"] == pytest.approx(road_error / total)
    assert sky["rmse"] == pytest.approx(20) and road["rmse"] == pytest.approx(math.sqrt(200 / 12))
    # Making the sky exact leaves the road's error alone, and the other way round.
    assert sky["psnr_if_exact"] == pytest.approx(10 * math.log10(255**2 / (road_error / 48)))
    assert road["psnr_if_exact"] == pytest.approx(10 * math.log10(255**2 / (sky_error / 48)))
    assert set(out["classes"]) == {"sky", "road"}  # absent classes are not listed
    # The sky is off by one shift; the road's error, two pixels of 12, is a sixth shift (12 * 3 * (10/6)^2 = 100).
    assert sky["offset_share"] == pytest.approx(1) and road["offset_share"] == pytest.approx(100 / road_error)
    assert sky["row_mse"] == pytest.approx([sky_error / 48, 0, 0, 0])
    assert road["row_mse"] == pytest.approx([0, 0, 0, road_error / 48])
    assert sum(road["row_mse"]) == pytest.approx(road["pixel_share"] * road["rmse"] ** 2)


def test_psnr_with_variance_adds_the_variance_to_each_images_mse():
    real = [np.zeros((2, 2, 3), np.uint8)] * 2
    fake = [np.full((2, 2, 3), 10, np.uint8), np.full((2, 2, 3), 5, np.uint8)]  # MSE 100 and 25
    expected = np.mean([10 * math.log10(255**2 / (100 + 50)), 10 * math.log10(255**2 / (25 + 0))])
    assert psnr_with_variance(fake, real, [50.0, 0.0]) == pytest.approx(expected)


def test_cli_scores_saved_images_and_a_perfect_sampler(synthcity_dir, tmp_path):
    names = [g.name for _, g in read_split_csv(synthcity_dir, "train")]
    images = tmp_path / "images"
    images.mkdir()
    expected = []
    for name in names[:3]:  # the truth, a little brighter: a known PSNR
        real = np.asarray(Image.open(synthcity_dir / "ground" / name)).astype(int)
        fake = np.clip(real + 4, 0, 255)
        Image.fromarray(fake.astype(np.uint8)).save(images / name)
        expected.append(10 * math.log10(255**2 / ((fake - real) ** 2).mean()))
    out = tmp_path / "result.json"
    main(["--data", str(synthcity_dir), "--split", "train", "--limit", "3", "--images", str(images),
          "--perfect-sampler", "2", "--out", str(out), "--figure", str(tmp_path / "redraws.png")])
    result = json.loads(out.read_text())
    # aerial (scaled to the panorama's height) | real | two redraws | two of the windows alone | their mean
    assert Image.open(tmp_path / "redraws.png").size == (64 + 6 * 256 + 6 * 4, 3 * 64 + 2 * 4)

    scored = result["images"][str(images)]
    assert scored["psnr"] == pytest.approx(np.mean(expected))
    assert sum(c["error_share"] for c in scored["classes"].values()) == pytest.approx(1)
    sampler = result["perfect_sampler"]
    assert sampler["scenes"] == 3 and len(sampler["variance"]) == 3
    # Facades and windows differ between redraws, so a sampler pays for them; the mean of redraws pays less.
    assert sampler["sampler"]["psnr"] < sampler["mean_of_redraws"]["psnr"] < 60
    assert sampler["sampler"]["classes"]["facade"]["error_share"] > 0.5
    assert scored["psnr_with_sampler_variance"] < scored["psnr"]

    # Redrawing only where the windows are, at the mean colours, costs less than redrawing the colours too.
    main(["--data", str(synthcity_dir), "--split", "train", "--limit", "3", "--perfect-sampler", "2",
          "--mean-colours", "--out", str(out)])
    windows_only = json.loads(out.read_text())["perfect_sampler"]
    assert windows_only["mean_colours"] and not sampler["mean_colours"]
    assert windows_only["sampler"]["classes"]["facade"]["rmse"] < sampler["sampler"]["classes"]["facade"]["rmse"]
    assert windows_only["sampler"]["psnr"] > sampler["sampler"]["psnr"]


@pytest.mark.parametrize("argv, message", [
    (["--images"], "expected at least one argument"),
    ([], "give --images, --perfect-sampler or both"),
    (["--perfect-sampler", "0"], "K >= 1"),
])
def test_cli_rejects_bad_arguments(synthcity_dir, capsys, argv, message):
    with pytest.raises(SystemExit):
        main(["--data", str(synthcity_dir), *argv])
    assert message in capsys.readouterr().err


def test_cli_says_when_images_are_missing_or_the_data_has_no_labels(synthcity_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--data", str(synthcity_dir), "--images", str(tmp_path)])
    assert "lacks 1 of the 1 images" in capsys.readouterr().err
    (tmp_path / "meta.json").write_text(json.dumps({"labels": False}))
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path), "--perfect-sampler", "1"])
    assert "has no class maps" in capsys.readouterr().err
