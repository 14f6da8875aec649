"""The evaluation harness: metric values against closed forms, and end-to-end runs on tiny models."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from crossview import CrossViewPipeline
from crossview.checkpoint import save_model
from crossview.metrics import feature_frechet_distance, frechet_distance, ssim_psnr
from crossview.models.embedder import SAIG
from crossview.models.pix2pix import Pix2PixGenerator
from crossview.runtime import read_run_logs
from train.evaluate import main as evaluate_main


def test_psnr_known_value():
    real = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    fake = torch.full((2, 3, 16, 16), 10, dtype=torch.uint8)  # MSE = 100
    _, psnr = ssim_psnr(fake, real)
    assert torch.allclose(psnr, torch.full((2,), 10 * math.log10(255**2 / 100), dtype=psnr.dtype), atol=1e-6)


def test_ssim_known_values():
    a = torch.full((1, 3, 32, 32), 100, dtype=torch.uint8)
    b = torch.full((1, 3, 32, 32), 120, dtype=torch.uint8)
    c1 = (0.01 * 255) ** 2
    expected = (2 * 100 * 120 + c1) / (100**2 + 120**2 + c1)  # flat images: only the luminance term is left
    ssim, _ = ssim_psnr(a, b)
    assert ssim.item() == pytest.approx(expected, abs=1e-6)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8))
    same, _ = ssim_psnr(x, x)
    assert torch.allclose(same, torch.ones(2, dtype=same.dtype))


def test_frechet_distance_closed_form():
    assert frechet_distance([0.0], [[1.0]], [1.0], [[4.0]]) == pytest.approx(1 + 1 + 4 - 2 * 2)
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(np.diag(s1)) - np.sqrt(np.diag(s2))) ** 2).sum()
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected)
    g = torch.Generator().manual_seed(0)
    same = torch.randn(4000, 3, generator=g)
    shifted = torch.randn(4000, 3, generator=g) * 2 + 1
    assert feature_frechet_distance(same, same) == pytest.approx(0, abs=1e-6)
    assert feature_frechet_distance(same, shifted) == pytest.approx(3 * 1 + 3 * 1, rel=0.1)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    pipe = CrossViewPipeline.untrained("tiny", seed=0).save_pretrained(root / "pipe")
    torch.manual_seed(1)
    saig_d = save_model(SAIG.from_preset("tiny", "d"), root / "saig-d")
    p2p = save_model(Pix2PixGenerator((16, 64), ngf=4), root / "p2p")
    return pipe, saig_d, p2p


def test_synthesis_evaluation_end_to_end(synthcity_dir, tiny_models, tmp_path, capsys, monkeypatch):
    pipe, saig_d, p2p = tiny_models
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # an empty hub cache: no LPIPS/FID weights
    monkeypatch.delenv("CROSSVIEW_ALEXNET", raising=False)
    monkeypatch.delenv("CROSSVIEW_FID_INCEPTION", raising=False)
    ours, images = tmp_path / "ours.json", tmp_path / "images"
    evaluate_main(["--model", str(pipe), "--data", str(synthcity_dir), "--split", "train", "--evaluator",
                   str(saig_d), "--out", str(ours), "--save-images", str(images), "--batch-size", "4"])
    result = json.loads(ours.read_text())
    for d in ("a2g", "g2a"):
        r = result[d]
        assert 0 < r["psnr"] < 100 and -1 <= r["ssim"] <= 1 and 0 <= r["r1"] <= 1 and r["fid_saig"] >= 0
        assert r["lpips"] is None and r["fid"] is None
        assert "torch hub cache" in r["unavailable"]["fid"] and "AlexNet" in r["unavailable"]["lpips"]
        assert r["num_pairs"] == 6
    assert "ssim" in result["how"] and "SAIG-D" in result["how"]["r1"]
    # Synthesized images keep their ground truth's file name and the model's output size.
    assert sorted(p.name for p in (images / "a2g").iterdir()) == \
        sorted(p.name for p in (synthcity_dir / "ground").glob("*.png"))[:6]
    assert (images / "a2g-grid.png").is_file() and (images / "g2a-grid.png").is_file()
    again = tmp_path / "again.json"
    evaluate_main(["--model", str(pipe), "--data", str(synthcity_dir), "--split", "train", "--evaluator",
                   str(saig_d), "--out", str(again), "--direction", "g2a"])
    second = json.loads(again.read_text())
    assert "a2g" not in second and second["g2a"]["psnr"] == result["g2a"]["psnr"]  # deterministic

    base = tmp_path / "p2p.json"
    evaluate_main(["--model", str(p2p), "--baseline", "pix2pix", "--data", str(synthcity_dir), "--split",
                   "train", "--evaluator", str(saig_d), "--out", str(base)])
    assert json.loads(base.read_text())["method"] == "pix2pix"
    capsys.readouterr()
    evaluate_main(["--markdown", str(ours), str(base)])
    table = capsys.readouterr().out
    assert "| a2g | crossview |" in table and "| a2g | pix2pix |" in table and "| g2a | crossview |" in table
    assert "n/a" in table  # LPIPS and FID are reported as unavailable, not invented
    assert torch.is_grad_enabled()  # evaluating leaves the process's autograd mode as it found it


def test_figures_script_writes_every_figure(synthcity_dir, tiny_models, tmp_path, capsys):
    from train.figures import main as figures_main

    pipe, _, p2p = tiny_models
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text("".join(json.dumps({"step": s, "minutes": s / 10, "l1": 1 / s, "d_loss": 2.0}) + "\n"
                                           for s in range(1, 6)))
    figures_main(["--data", str(synthcity_dir), "--split", "train", "--model", str(pipe), "--pix2pix",
                  f"a2g={p2p}", "--runs", f"ours-a2g={run}", "--rows", "3", "--out", str(tmp_path / "fig")])
    names = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert names == ["qualitative-a2g.png", "qualitative-g2a.png", "training-curves.png", "weight-maps-a2g.png",
                     "weight-maps-g2a.png"]
    from PIL import Image

    grid = Image.open(tmp_path / "fig" / "qualitative-a2g.png")  # 4 columns (source, ours, pix2pix, truth)
    assert grid.width == 32 + 3 * 64 + 3 * 4 and grid.height == 3 * 32 + 2 * 4

    (run / "log.jsonl").write_text(json.dumps({"step": 1, "l1": 1.0, "d_loss": 2.0}) + "\n")  # no minutes: say so
    with pytest.raises(SystemExit):
        figures_main(["--data", str(synthcity_dir), "--split", "train", "--model", str(pipe), "--runs",
                      f"ours-a2g={run}", "--rows", "3", "--out", str(tmp_path / "fig2")])
    assert "a line has no 'minutes'" in capsys.readouterr().err
    assert not (tmp_path / "fig2").exists()  # it fails before making or drawing anything


def test_markdown_mean_rows_average_score_files(tmp_path, capsys):
    def score(name, **g2a):
        path = tmp_path / f"{name}.json"
        metrics = {"ssim": 0.3, "psnr": 16.0, "lpips": None, "fid": None, "fid_saig": 40.0, "r1": 0.5} | g2a
        path.write_text(json.dumps({"method": "crossview", "name": name, "g2a": metrics}))
        return str(path)

    seed0, seed1 = score("seed0", ssim=0.2, r1=0.40), score("seed1", ssim=0.4, r1=0.45, fid_saig=50.0)
    a2g_too = tmp_path / "lr=2e-4 both.json"  # seed 0's scores in both directions; an = in a file's path is no name
    seed0_g2a = json.loads(Path(seed0).read_text())["g2a"]
    a2g_too.write_text(json.dumps({"name": "both", "a2g": seed0_g2a, "g2a": seed0_g2a}))
    evaluate_main(["--markdown", seed0, f"ours, mean={seed0},{seed1}", f"mixed={seed1},{a2g_too}"])
    rows = capsys.readouterr().out.splitlines()
    assert rows[2] == "| g2a | seed0 | 0.2000 | 16.0000 | n/a | n/a | 40.0000 | 40.00 |"
    assert rows[3] == "| g2a | ours, mean | 0.3000 | 16.0000 | n/a | n/a | 45.0000 | 42.50 |"
    assert rows[4] == "| g2a | mixed | 0.3000 | 16.0000 | n/a | n/a | 45.0000 | 42.50 |"
    assert len(rows) == 5  # a direction that not every file has gets no mean row
    evaluate_main(["--markdown", str(a2g_too)])  # on its own, a file whose path holds an = is still a file
    assert capsys.readouterr().out.splitlines()[2:] == [
        "| a2g | both | 0.2000 | 16.0000 | n/a | n/a | 40.0000 | 40.00 |",
        "| g2a | both | 0.2000 | 16.0000 | n/a | n/a | 40.0000 | 40.00 |"]


def test_logstats_steps_speed_and_window_means(tmp_path, capsys):
    from train.logstats import main as logstats_main

    run, p2p = tmp_path / "ours", tmp_path / "p2p"
    for folder, extra in ((run, {"identity": 1.0}), (p2p, {})):
        folder.mkdir()
        lines = [{"step": s, "minutes": s / 20, "l1": s / 100, "d_loss": 2.0, "sec_per_step": 3.0 if s < 40 else 9.0}
                 | extra for s in range(10, 101, 10)] + [{"step": 105, "minutes": 5.25, "l1": 2.0, "d_loss": 2.0,
                                                           "sec_per_step": 3.0} | extra]
        (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    logstats_main([str(run), str(p2p), "--keys", "l1", "identity", "--first", "2", "--last", "3"])
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "| run | steps | sec_per_step | l1 first 2 | l1 last 3 | identity first 2 | identity last 3 |"
    # First 2 lines: steps 10 and 20; last 3: steps 90, 100 and 105. Median of four 3.0 and seven 9.0: 9.0.
    assert rows[2] == f"| {run} | 105 | 9.000 | 0.150 | 1.300 | 1.000 | 1.000 |"
    assert rows[3] == f"| {p2p} | 105 | 9.000 | 0.150 | 1.300 | n/a | n/a |"
    logstats_main([str(run), "--keys", "l1", "--last", "2", "--until", "2.5"])  # lines up to step 50
    assert capsys.readouterr().out.splitlines()[2] == f"| {run} | 50 | 3.000 | 0.300 | 0.450 |"
    with pytest.raises(SystemExit):
        logstats_main([str(run), "--last", "0"])
    logstats_main([str(run), "--keys", "l1", "--first", "1", "--last", "1", "--since", "2.5"])  # steps 60 to 105
    assert capsys.readouterr().out.splitlines()[2] == f"| {run} | 105 | 9.000 | 0.600 | 2.000 |"
    with pytest.raises(SystemExit):
        logstats_main([str(run), "--until", "0.1"])
    capsys.readouterr()
    with pytest.raises(SystemExit):  # a folder without a training log: the CLI says which
        logstats_main([str(run), str(tmp_path / "no-run")])
    assert f"{tmp_path / 'no-run' / 'log.jsonl'}: no training log there" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no training log there"):  # the library raises, the CLIs exit
        read_run_logs({"none": tmp_path / "no-run"})


def test_real_reference_and_blur(synthcity_dir, tiny_models, tmp_path, monkeypatch):
    """--baseline real scores the real targets (a perfect synthesis): SSIM 1, FID-SAIG 0 and the evaluator's own
    retrieval R@1; --blur low-pass filters what is scored."""
    from train.evaluate import evaluate_retrieval

    _, saig_d, _ = tiny_models
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    common = ["--data", str(synthcity_dir), "--split", "train", "--evaluator", str(saig_d), "--batch-size", "4"]
    evaluate_main(["--baseline", "real", "--out", str(tmp_path / "real.json"), *common])
    real = json.loads((tmp_path / "real.json").read_text())
    retrieval = evaluate_retrieval(str(saig_d), str(synthcity_dir), "train")
    assert real["method"] == "real" and real["blur"] == 0
    for d, r1 in (("a2g", retrieval["r1"]), ("g2a", retrieval["aerial_query"]["r1"])):
        assert real[d]["ssim"] == pytest.approx(1.0) and real[d]["fid_saig"] == pytest.approx(0, abs=1e-3)
        assert real[d]["psnr"] is None and "infinite" in real[d]["unavailable"]["psnr"]
        assert real[d]["r1"] == pytest.approx(r1)
    evaluate_main(["--baseline", "real", "--blur", "5", "--out", str(tmp_path / "blurred.json"), *common])
    blurred = json.loads((tmp_path / "blurred.json").read_text())
    assert blurred["blur"] == 5
    for d in ("a2g", "g2a"):
        assert blurred[d]["ssim"] < 0.99 and 10 < blurred[d]["psnr"] < 100
        assert blurred[d]["fid_saig"] > 10 * max(real[d]["fid_saig"], 1e-9)  # an untrained evaluator: small
        assert "psnr" not in blurred[d]["unavailable"]
    with pytest.raises(SystemExit):  # a blur needs an odd number of taps
        evaluate_main(["--baseline", "real", "--blur", "4", "--out", str(tmp_path / "x.json"), *common])
    with pytest.raises(SystemExit):  # only the real reference needs no --model
        evaluate_main(["--out", str(tmp_path / "x.json"), *common])
    with pytest.raises(SystemExit):  # and it takes none
        evaluate_main(["--baseline", "real", "--model", str(saig_d), "--out", str(tmp_path / "x.json"), *common])


def test_noise_psnr_compares_two_noise_samples(synthcity_dir, tiny_models, tmp_path, monkeypatch):
    """--noise-psnr: the mean PSNR between each scored image and its source drawn again with another noise seed
    (seed + number of pairs + i), by hand here; a method without noise gets None with the reason."""
    from crossview.data import open_pairs
    from train.evaluate import to_uint8

    pipe_dir, saig_d, p2p = tiny_models
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    common = ["--data", str(synthcity_dir), "--split", "train", "--evaluator", str(saig_d), "--direction", "a2g",
              "--noise-psnr", "--limit", "3"]
    evaluate_main(["--model", str(pipe_dir), "--out", str(tmp_path / "ours.json"), "--seed", "5", *common])
    ours = json.loads((tmp_path / "ours.json").read_text())["a2g"]

    pipe = CrossViewPipeline.from_pretrained(pipe_dir, "cpu")
    pairs = open_pairs(str(synthcity_dir), "train", pipe.embedder.aerial_size, pipe.embedder.ground_size)
    aerial = torch.stack([pairs[i][0] for i in range(3)])
    with torch.no_grad():
        first = to_uint8(pipe.generate(aerial, "a2g", [5, 6, 7]).image)
        second = to_uint8(pipe.generate(aerial, "a2g", [8, 9, 10]).image)
    assert not torch.equal(first, second)  # the noise changes the tiny model's output
    by_hand = float(ssim_psnr(second, first)[1].mean())
    assert ours["noise_psnr"] == pytest.approx(by_hand, rel=1e-6) and 0 < by_hand < 100

    evaluate_main(["--model", str(p2p), "--baseline", "pix2pix", "--out", str(tmp_path / "p2p.json"), *common])
    base = json.loads((tmp_path / "p2p.json").read_text())["a2g"]
    assert base["noise_psnr"] is None and "noise does not change" in base["unavailable"]["noise_psnr"]
    evaluate_main(["--model", str(pipe_dir), "--out", str(tmp_path / "plain.json"), *common[:-3]])
    assert "noise_psnr" not in json.loads((tmp_path / "plain.json").read_text())["a2g"]  # opt-in
