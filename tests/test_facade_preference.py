"""train.facade_preference: the terms scored on a candidate panorama, and the CLI end to end."""

import json

import pytest
import torch

from crossview.checkpoint import save_model
from crossview.models.embedder import SAIG
from crossview.trainer import GANConfig, GANTrainer
from train.facade_preference import best_of, main, scene_losses, summarize


@pytest.fixture(scope="module")
def demo_saig(tmp_path_factory):
    """A randomly initialised demo-size SAIG-S folder: the sizes of a demo SynthCity folder."""
    torch.manual_seed(0)
    return save_model(SAIG.from_preset("demo", "s"), tmp_path_factory.mktemp("saig") / "saig-s")


def test_scene_losses_vanish_on_the_truth_and_pooling_never_adds_to_l1():
    torch.manual_seed(0)
    trainer = GANTrainer(GANConfig(direction="a2g", preset="tiny", feature_blur=3), SAIG.from_preset("tiny", "s"))
    real = torch.rand(1, 3, 16, 64) * 2 - 1
    exact = scene_losses(trainer, real, real.clone(), pools=[2, 4])
    assert all(v == pytest.approx(0, abs=1e-5) for k, v in exact.items() if k != "identity")
    assert exact["identity"] == pytest.approx(0, abs=1e-4)
    noisy = scene_losses(trainer, real, real + 0.3 * torch.randn_like(real), pools=[2, 4])
    assert noisy["l1 pooled 4"] < noisy["l1 pooled 2"] < noisy["l1"]  # averaging cancels the noise
    levels = [v for k, v in noisy.items() if k.startswith("perceptual level")]
    assert len(levels) > 1 and sum(levels) == pytest.approx(noisy["perceptual"], rel=1e-5)


def test_summarize_gives_the_gap_and_the_share_where_the_redraw_scores_higher():
    redraw = [{"l1": 3.0}, {"l1": 1.0}, {"l1": 2.0}]
    blurred = [{"l1": 2.0}, {"l1": 2.0}, {"l1": 1.0}]
    out = summarize(redraw, blurred)["l1"]
    assert out["gap"] == pytest.approx(1 / 3) and out["relative gap"] == pytest.approx((1 / 3) / (5 / 3))
    assert out["share where the redraw scores higher"] == pytest.approx(2 / 3)


def test_best_of_takes_the_first_k_candidates_best_by_the_named_term():
    candidates = [{"l1": 3.0, "total": 1.0}, {"l1": 2.0, "total": 5.0}, {"l1": 1.0, "total": 4.0}]
    assert best_of(candidates, 2, "l1") is candidates[1]  # the third, better still, is not among the first 2
    assert best_of(candidates, 3, "l1") is candidates[2]
    assert best_of(candidates, 3, "total") is candidates[0]


def test_cli_scores_each_feature_blur_on_the_same_redraws(synthcity_dir, demo_saig, tmp_path, capsys):
    out = tmp_path / "preference.json"
    main(["--data", str(synthcity_dir), "--split", "train", "--limit", "2", "--redraws", "2", "--mean-colours",
          "--pools", "4", "--feature-blur", "0", "3", "--best-of", "2", "--saig-s", str(demo_saig), "--out", str(out)])
    result = json.loads(out.read_text())
    assert result == json.loads(capsys.readouterr().out)
    assert (result["scenes"], result["redraws"], result["mean_colours"]) == (2, 2, True)
    by_blur = result["terms by feature blur"]
    assert set(by_blur) == {"0", "3"}
    assert by_blur["0"]["l1"] == by_blur["3"]["l1"]  # the blur is eq. 8 and 9's alone
    for terms in by_blur.values():
        assert {"l1", "l1 pooled 4", "perceptual", "identity"} <= set(terms)
        for term in terms.values():
            assert term["gap"] == pytest.approx(term["redraw"] - term["mean of redraws"])
    best = result["best of k by feature blur"]
    assert set(best) == {"0", "3"} and set(best["3"]) == {"best of 2 by l1", "best of 2 by total"}
    for taps, by_label in best.items():  # the best of 2 is never worse, by its own term, than the first redraw
        assert by_label["best of 2 by l1"]["l1"]["redraw"] <= by_blur[taps]["l1"]["redraw"] + 1e-9
        total = "l1 + perceptual + identity"
        assert by_label["best of 2 by total"][total]["redraw"] <= by_blur[taps][total]["redraw"] + 1e-9
        assert by_label["best of 2 by l1"]["l1"]["mean of redraws"] == by_blur[taps]["l1"]["mean of redraws"]


def test_cli_names_a_folder_without_meta(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path)])
    assert "meta.json" in capsys.readouterr().err
