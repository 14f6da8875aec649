"""Interrupted and diverging training runs: nothing is corrupted, resuming continues exactly."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from crossview.checkpoint import TrainingCheckpointer, atomic_file, write_text_atomic
from crossview.models.embedder import SAIG
from crossview.trainer import GANConfig, GANTrainer
from tests.test_generator import generator_cli
from train import generator as generator_cli_module


def test_nan_in_a_loss_raises():
    torch.manual_seed(0)
    trainer = GANTrainer(GANConfig(preset="tiny"), SAIG.from_preset("tiny", "s"))
    target = torch.full((2, 3, 16, 64), float("nan"))
    with pytest.raises(FloatingPointError, match=r"non-finite discriminator loss .* at step 5"):
        trainer.train_step(torch.rand(2, 3, 32, 32), target, step=5)


def test_divergence_stops_the_run_and_keeps_the_last_good_checkpoint(synthcity_dir, tiny_saig, tmp_path, capfd):
    def build(cfg, device):
        trainer = generator_cli_module.build_gan_trainer(cfg, device)
        step_fn = trainer.train_step

        def train_step(source, target, step):
            if step == 3:
                target = target * float("nan")
            return step_fn(source, target, step)

        trainer.train_step = train_step
        return trainer

    cfg = generator_cli_module.GeneratorTrainConfig(
        data=str(synthcity_dir), saig_s=str(tiny_saig), preset="tiny", batch_size=3, workers=0, out=str(tmp_path),
        checkpoint_every=1, sample_every=100, max_steps=6, device="cpu")
    with pytest.raises(FloatingPointError):
        generator_cli_module.train(cfg, build)
    assert "step-000000003" in capfd.readouterr().err  # the message names the last good checkpoint
    checkpointer = TrainingCheckpointer(tmp_path)
    assert checkpointer.latest().name == "step-000000003"
    state = checkpointer.restore(GANTrainer(GANConfig(preset="tiny"), SAIG.from_preset("tiny", "s")).modules(), {})
    assert state["step"] == 3


def test_sigkill_at_any_moment_then_resume_ends_exactly_where_an_uninterrupted_run_does(
        synthcity_dir, tiny_saig, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    args = generator_cli(synthcity_dir, tiny_saig, tmp_path / "killed", "--max-steps", "8", "--sample-every", "100")
    rng = random.Random(0)
    for _ in range(3):  # kill -9 at random moments, often while a checkpoint is being written
        proc = subprocess.Popen([sys.executable, *args, "--resume"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(5, 9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run([sys.executable, *args, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = subprocess.run([sys.executable, *generator_cli(synthcity_dir, tiny_saig, tmp_path / "clean",
                                                                "--max-steps", "8", "--sample-every", "100")],
                               env=env, capture_output=True, text=True, timeout=300)
    assert reference.returncode == 0, reference.stderr[-2000:]
    a = load_file(str(tmp_path / "killed" / "generator" / "model.safetensors"))
    b = load_file(str(tmp_path / "clean" / "generator" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not list((tmp_path / "killed" / "checkpoints").glob(".*.tmp"))  # leftovers of a killed save are gone
    steps = [json.loads(x)["step"] for x in (tmp_path / "killed" / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))  # the log was cut back to the resumed step each time, no duplicates


def test_a_save_clears_the_leftovers_of_a_save_killed_mid_write(tmp_path):
    checkpointer = TrainingCheckpointer(tmp_path)
    leftover = checkpointer.root / ".step-000000003.k1ll3d.tmp"  # what SIGKILL leaves inside atomic_dir
    leftover.mkdir(parents=True)
    (leftover / "G.safetensors").write_bytes(b"half a file")
    half_latest = checkpointer.root / ".latest.json.12345.tmp"  # ... and inside atomic_file
    half_latest.write_text('{"checkpoint": "step-0')
    checkpointer.save(3, {"G": torch.nn.Linear(2, 2)}, {})
    assert not leftover.exists()
    assert not half_latest.exists()
    assert sorted(p.name for p in checkpointer.root.iterdir()) == ["latest.json", "step-000000003"]


def test_atomic_file_replaces_whole_or_not_at_all(tmp_path):
    path, linked = tmp_path / "meta.json", tmp_path / "copy" / "meta.json"
    path.write_text("old")
    linked.parent.mkdir()
    os.link(path, linked)  # a dataset copied with cp -al shares the file
    write_text_atomic(path, "new")
    assert path.read_text() == "new" and linked.read_text() == "old"  # the rename left the linked copy alone

    with pytest.raises(RuntimeError), atomic_file(path) as tmp:  # a writer that fails half-way
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "meta.json"]  # no temporary file left
