"""CrossViewPipeline (the public API), the synthesize CLI, the benchmark (parameter counts, timing), Pix2Pix."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from crossview import CrossViewPipeline
from crossview.bench import main as bench_main
from crossview.checkpoint import CheckpointError
from crossview.data import PairsFolder
from crossview.pipeline import guess_direction
from crossview.synthesize import main as synthesize_main
from crossview.trainer import Pix2PixConfig, Pix2PixTrainer
from tests.test_embedder import _run


@pytest.fixture(scope="module")
def tiny_pipe():
    return CrossViewPipeline.untrained("tiny", seed=0)


@pytest.fixture(scope="module")
def tiny_pipe_dir(tiny_pipe, tmp_path_factory):
    return tiny_pipe.save_pretrained(tmp_path_factory.mktemp("pipe") / "tiny")


def aerial(size=32, color=(80, 140, 60)):
    img = Image.new("RGB", (size, size), color)
    img.paste((60, 60, 60), (0, size // 2 - 2, size, size // 2 + 2))  # a road
    return img


def test_public_api_outputs(tiny_pipe):
    out = tiny_pipe(aerial(), direction="auto", seed=0, num_samples=2)
    assert out.direction == "a2g"
    assert len(out.images) == 2 and out.images[0].size == (64, 16) and out.coarse[0].size == (32, 8)
    assert len(out.similarity) == 2 and all(-1 <= s <= 1 for s in out.similarity)
    assert out.attention and all(m.dtype == np.float32 and m.ndim == 2 for m in out.attention.values())
    assert all(m.min() >= 0 and m.max() <= 1 for m in out.attention.values())
    wide = tiny_pipe(Image.new("RGB", (256, 64), (120, 120, 200)))
    assert wide.direction == "g2a" and wide.images[0].size == (32, 32)


def test_same_seed_same_output(tiny_pipe):
    a = tiny_pipe(aerial(), seed=3)
    b = tiny_pipe(aerial(), seed=3)
    c = tiny_pipe(aerial(), seed=4)
    assert np.array_equal(np.asarray(a.images[0]), np.asarray(b.images[0]))
    assert not np.array_equal(np.asarray(a.images[0]), np.asarray(c.images[0]))
    several = tiny_pipe(aerial(), seed=3, num_samples=3)
    assert np.array_equal(np.asarray(several.images[0]), np.asarray(a.images[0]))  # sample i uses seed + i
    assert np.array_equal(np.asarray(several.images[1]), np.asarray(c.images[0]))


def test_direction_guess_and_bad_arguments(tiny_pipe):
    assert guess_direction(Image.new("RGB", (1024, 512))) == "g2a"
    assert guess_direction(Image.new("RGB", (640, 640))) == "a2g"
    with pytest.raises(ValueError, match="direction"):
        tiny_pipe(aerial(), direction="sideways")
    with pytest.raises(ValueError, match="num_samples"):
        tiny_pipe(aerial(), num_samples=0)


@pytest.mark.parametrize("fp16", [False, True])
def test_save_and_load_round_trip(tiny_pipe, tmp_path, fp16):
    folder = tiny_pipe.save_pretrained(tmp_path / "p", fp16=fp16)
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "crossview-pipeline" and config["trained"] is False
    loaded = CrossViewPipeline.from_pretrained(folder, device="cpu")
    assert not loaded.trained and loaded.directions == ["a2g", "g2a"]
    a = np.asarray(tiny_pipe(aerial(), seed=1).images[0], dtype=float)
    b = np.asarray(loaded(aerial(), seed=1).images[0], dtype=float)
    assert np.abs(a - b).max() <= (12 if fp16 else 0)


def test_loading_errors_name_the_problem(tiny_pipe_dir, tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        CrossViewPipeline.from_pretrained(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="not a CrossView pipeline"):
        CrossViewPipeline.from_pretrained(tiny_pipe_dir / "a2g")
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_pipe_dir.rglob("*"):
        target = broken / f.relative_to(tiny_pipe_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.is_file():
            target.write_bytes(f.read_bytes())
    weights = broken / "g2a" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"g2a/model\.safetensors"):
        CrossViewPipeline.from_pretrained(broken)


def test_synthesize_cli_over_a_folder(tiny_pipe_dir, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    aerial().save(inputs / "a.png")
    Image.new("RGB", (128, 32), (100, 100, 180)).save(inputs / "g.jpg")
    (inputs / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    code = synthesize_main([str(inputs), "--out", str(out), "--model", str(tiny_pipe_dir), "--samples", "2",
                            "--save-attention"])
    assert code == 1  # one input failed, the others were written
    results = {r["input"].split("/")[-1]: r for r in json.loads((out / "results.json").read_text())}
    assert results["a.png"]["direction"] == "a2g" and results["g.jpg"]["direction"] == "g2a"
    assert "error" in results["broken.png"]
    assert Image.open(out / "a_s1.png").size == (64, 16) and (out / "g_coarse.png").is_file()
    maps = np.load(out / "a_attention" / "maps.npz")
    assert len(maps.files) == len(list((out / "a_attention").glob("*.png"))) > 0
    assert synthesize_main([str(tmp_path / "nothing"), "--out", str(out), "--model", str(tiny_pipe_dir)]) == 2


def test_bench_params_only(tmp_path):
    bench_main(["--params-only", "--out", str(tmp_path / "p.json")])
    params = json.loads((tmp_path / "p.json").read_text())["params"]
    for preset in ("paper", "demo"):
        for key in ("saig_s_branch", "saig_d_branch", "generator", "discriminator", "pix2pix_generator"):
            assert isinstance(params[preset][key], int) and params[preset][key] > 0
    assert abs(params["paper"]["generator"] - 25.9e6) < 0.2e6
    assert abs(params["paper"]["pix2pix_generator"] - 41.8e6) < 0.1e6  # paper table 6


def test_bench_times_both_models_on_the_chosen_device(tmp_path):
    bench_main(["--presets", "tiny", "--runs", "1", "--warmup", "0", "--train-batch", "2", "--device", "cpu",
                "--out", str(tmp_path / "b.json")])
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["machine"]["device"] == "cpu"
    tiny = result["tiny"]
    for key in ("ours_latency_ms_b1", "pix2pix_latency_ms_b1", "ours_fps", "pix2pix_fps", "ours_train_step_s",
                "pix2pix_train_step_s"):
        assert tiny[key] > 0
    assert tiny["speed_ratio"] == pytest.approx(tiny["ours_fps"] / tiny["pix2pix_fps"])
    # The U-Net dispatches a handful of operations per layer; ours adds Attn-AdaIN's MLPs, norms and blends.
    assert 0 < tiny["pix2pix_ops_b1"] < tiny["ours_ops_b1"]


def test_pix2pix_lowers_l1_and_trains_from_the_cli(synthcity_dir, tmp_path):
    torch.manual_seed(0)
    trainer = Pix2PixTrainer(Pix2PixConfig(direction="g2a", preset="tiny", lr=1e-3))
    pairs = PairsFolder(synthcity_dir, "train", (32, 32), (16, 64))
    a, g = (torch.stack(t) for t in zip(*[pairs[i] for i in range(4)], strict=True))
    l1 = [trainer.train_step(g, a, s)["l1"] for s in range(25)]
    assert sum(l1[-5:]) < 0.8 * sum(l1[:5]), l1
    r = _run(["-m", "train.pix2pix", "--data", str(synthcity_dir), "--preset", "tiny", "--batch-size", "3",
              "--workers", "0", "--max-steps", "2", "--out", str(tmp_path / "p2p")])
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "p2p" / "generator" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "p2p" / "config.json").read_text())["model"] == "pix2pix"


def test_pix2pix_discriminator_sees_real_and_fake_in_separate_batches(synthcity_dir):
    """D's BatchNorm normalizes by batch statistics. A mixed real+fake batch in the D step and a fake-only one in
    the G step would score the same fakes differently, so D is called once per kind, as in Isola et al.'s code."""
    trainer = Pix2PixTrainer(Pix2PixConfig(direction="a2g", preset="tiny"))
    pairs = PairsFolder(synthcity_dir, "train", (32, 32), (16, 64))
    a, g = (torch.stack(t) for t in zip(*[pairs[i] for i in range(4)], strict=True))
    seen = []  # every image batch D scores, in the D step (through trainer.d) and the G step (the bare module)
    trainer.D.register_forward_pre_hook(lambda module, args: seen.append(args[1].detach().clone()))
    trainer.train_step(a, g, 0)

    def kind(image):
        matches = [torch.equal(x, t) for x, t in zip(image, g, strict=False)]
        return "real" if image.shape == g.shape and all(matches) else "fake" if not any(matches) else "mixed"

    assert [kind(image) for image in seen] == ["real", "fake", "fake"]  # D step: real, fake; G step: fake


@pytest.mark.parametrize("module", ["train.embedder", "train.generator", "train.pix2pix", "train.evaluate",
                                    "crossview.data.vigor"])
def test_every_flag_is_documented(module):
    import importlib

    parser = importlib.import_module(module).build_parser()
    undocumented = [a.option_strings for a in parser._actions if not a.help]
    assert not undocumented


def test_cached_examples_are_kept_per_model():
    """The app caches example outputs per model, so a newly shipped checkpoint never shows old outputs."""
    from crossview.demo import examples_cache_dir

    first = examples_cache_dir(CrossViewPipeline.untrained("tiny", seed=0))
    assert first == examples_cache_dir(CrossViewPipeline.untrained("tiny", seed=0))
    assert first != examples_cache_dir(CrossViewPipeline.untrained("tiny", seed=1))
