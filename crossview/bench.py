"""Benchmarks: parameter counts, inference speed and training-step time, ours against Pix2Pix, in one run.

    python -m crossview.bench --params-only --out runs/bench/params.json
    python -m crossview.bench --out runs/bench/bench.json

Speed is the median of several timed runs after warm-up, measured here for both models in the same process,
so the ratios compare like with like; absolute numbers hold only for the machine recorded under ``machine``.
"ours" is the generator alone given the retrieval embedding (paper table 6 counts the 25.9M-parameter
generator); ``synthesis_ms`` (demo) is one whole CrossViewPipeline call: embedding, synthesis, attention maps.
``--device cuda`` times on the GPU (the paper's table 6 reports GPU frames per second); each timed call then
ends with a CUDA synchronisation, so that the clock sees the kernels finish, not just their launch.
``ours_ops_b1`` / ``pix2pix_ops_b1`` count the tensor operations one forward pass dispatches (views excluded):
on a GPU each is at least one kernel launch, which is what small-batch latency follows when the kernels are
too small to fill the device.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import time
from functools import partial
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from crossview.models.embedder import SAIG
from crossview.models.pix2pix import Pix2PixGenerator
from crossview.presets import get_preset
from crossview.runtime import pick_device
from crossview.trainer import GANConfig, GANTrainer, Pix2PixConfig, Pix2PixTrainer, build_discriminator, build_generator

log = logging.getLogger("crossview.bench")


def count(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def parameter_counts(preset: str) -> dict[str, int]:
    """Integer parameter counts of every network of a preset (generator and discriminators for a2g and g2a)."""
    p = get_preset(preset)
    saig_s, saig_d = SAIG.from_preset(preset, "s"), SAIG.from_preset(preset, "d")
    out = {"saig_s_branch": count(saig_s.ground), "saig_d_branch": count(saig_d.ground)}
    for direction in ("a2g", "g2a"):
        cfg = GANConfig(direction=direction, preset=preset)
        g = build_generator(cfg, saig_s.embed_dim)
        d = count(build_discriminator(cfg, g.target_size, saig_s.embed_dim))
        d += count(build_discriminator(cfg, g.coarse_size, saig_s.embed_dim))
        suffix = "" if direction == "a2g" else "_g2a"
        out[f"generator{suffix}"] = count(g)
        out[f"discriminator{suffix}"] = d
        out[f"pix2pix_generator{suffix}"] = count(Pix2PixGenerator(g.target_size, p.p2p_ngf))
    return out


CPU = torch.device("cpu")


class OpCounter(TorchDispatchMode):
    """Counts the ATen operations dispatched inside its ``with`` block, views (no computation) excluded."""

    def __init__(self):
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += not func.is_view
        return func(*args, **(kwargs or {}))


def count_ops(fn) -> int:
    """How many non-view operations one call of ``fn`` dispatches."""
    with torch.no_grad(), OpCounter() as counter:
        fn()
    return counter.ops


def median_seconds(fn, runs: int, warmup: int, device: torch.device = CPU) -> float:
    def call():
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(preset: str, runs: int, warmup: int, train_batch: int, pipeline_dir: str | None,
          device: torch.device = CPU) -> dict:
    """a2g at the preset's sizes: generator vs Pix2Pix latency (batch 1), throughput (batch 8), train step."""
    p = get_preset(preset)
    torch.manual_seed(0)
    saig = SAIG.from_preset(preset, "s").eval().to(device)
    ours = build_generator(GANConfig(direction="a2g", preset=preset), saig.embed_dim).eval().to(device)
    pix = Pix2PixGenerator(p.ground_size, p.p2p_ngf).eval().to(device)
    res: dict = {"direction": "a2g", "source_size": list(p.aerial_size), "target_size": list(p.ground_size)}
    with torch.no_grad():
        for batch in (1, 8):
            e = torch.nn.functional.normalize(torch.randn(batch, saig.embed_dim), dim=1).to(device)
            z, z_local = ours.sample_noise(batch, torch.Generator().manual_seed(0), device)
            image = (torch.rand(batch, 3, *p.aerial_size) * 2 - 1).to(device)
            run_ours, run_pix = partial(ours, e, z, z_local), partial(pix, image)
            t_ours = median_seconds(run_ours, runs, warmup, device)
            t_pix = median_seconds(run_pix, runs, warmup, device)
            if batch == 1:
                res["ours_latency_ms_b1"], res["pix2pix_latency_ms_b1"] = 1000 * t_ours, 1000 * t_pix
                res["ours_ops_b1"], res["pix2pix_ops_b1"] = count_ops(run_ours), count_ops(run_pix)
            else:
                res["ours_fps"], res["pix2pix_fps"] = batch / t_ours, batch / t_pix
    res["speed_ratio"] = res["ours_fps"] / res["pix2pix_fps"]
    res["latency_ratio_b1"] = res["pix2pix_latency_ms_b1"] / res["ours_latency_ms_b1"]

    aerial = torch.rand(train_batch, 3, *p.aerial_size) * 2 - 1
    ground = torch.rand(train_batch, 3, *p.ground_size) * 2 - 1
    trainer = GANTrainer(GANConfig(direction="a2g", preset=preset), saig, device)
    baseline = Pix2PixTrainer(Pix2PixConfig(direction="a2g", preset=preset), device)
    steps = iter(range(10**6))
    res["train_batch"] = train_batch
    res["ours_train_step_s"] = median_seconds(lambda: trainer.train_step(aerial, ground, next(steps)),
                                              max(2, runs // 2), 1, device)
    res["pix2pix_train_step_s"] = median_seconds(lambda: baseline.train_step(aerial, ground, 0), max(2, runs // 2),
                                                 1, device)

    if preset == "demo":
        from PIL import Image

        from crossview.pipeline import CrossViewPipeline

        if pipeline_dir and Path(pipeline_dir).is_dir():
            pipe, res["synthesis_model"] = CrossViewPipeline.from_pretrained(pipeline_dir, device), pipeline_dir
        else:
            pipe, res["synthesis_model"] = CrossViewPipeline.untrained("demo", device=device), "untrained demo preset"
        image = Image.new("RGB", (p.aerial_size[1], p.aerial_size[0]), (90, 120, 80))
        res["synthesis_ms"] = 1000 * median_seconds(lambda: pipe(image, "a2g", seed=0), runs, warmup, device)
    return res


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": platform.python_version()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m crossview.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="where to write the JSON results")
    ap.add_argument("--params-only", action="store_true", help="only count parameters (fast)")
    ap.add_argument("--presets", nargs="+", default=["paper", "demo"], help="presets to measure")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per measurement (the median is reported)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    ap.add_argument("--train-batch", type=int, default=4, help="batch size of the timed training steps")
    ap.add_argument("--model", default="assets/checkpoints/demo",
                    help="pipeline folder for synthesis_ms (an untrained demo model if it does not exist)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (CUDA if available)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result: dict = {"machine": machine() | {"device": str(device)},
                    "params": {p: parameter_counts(p) for p in args.presets}}
    if not args.params_only:
        for preset in args.presets:
            log.info("timing %s ...", preset)
            result[preset] = speed(preset, args.runs, args.warmup, args.train_batch, args.model, device)
            log.info("%s: %s", preset, json.dumps(result[preset]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log.info("wrote %s", out)


if __name__ == "__main__":
    main()
