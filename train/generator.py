"""Train the retrieval-guided generator for one direction (paper sections 3.3-3.4, 5.1).

    python -m train.generator --direction a2g --data data/synthcity --saig-s assets/checkpoints/saig-s \\
        --out runs/gen-a2g
    torchrun --nproc_per_node 2 -m train.generator --direction g2a ...       # DDP
    python -m train.generator ... --resume                                    # continue exactly
    python -m train.generator ... --init assets/checkpoints/demo/a2g          # go on from shipped weights

Ablations (paper table 4): --no-embedder, --no-attn-adain, --no-style, --no-retrieval, --same-structure,
--no-coarse-d. Writes to --out: train.log, log.jsonl (every loss), curves.png, samples/step-*.png
(source | coarse | synthesized | target), checkpoints/ (resumable: models, optimizers, RNG states),
generator/ (config.json + model.safetensors), with --ema-kimg also generator-ema/ (the moving average of G's
weights), and config.json (the run's settings, including which features the perceptual loss used).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from crossview.augment import DIFFAUG_POLICIES
from crossview.checkpoint import (
    TrainingCheckpointer,
    load_model,
    load_weights,
    save_model,
    write_json_atomic,
)
from crossview.data import open_pairs
from crossview.data.pairs import tensor_to_image
from crossview.losses import PERCEPTUAL_LEVELS
from crossview.models.embedder import SAIG, SAIGBranch
from crossview.presets import get_preset
from crossview.runtime import (
    JsonlLog,
    add_dataclass_arguments,
    cleanup_distributed,
    epoch_loader,
    pick_device,
    plot_curves,
    seed_everything,
    setup_distributed,
    setup_logging,
)
from crossview.trainer import GANConfig, GANTrainer, GeneratorEMA
from crossview.visualize import make_grid

log = logging.getLogger("train.generator")
EMA_MODULE = "generator_ema"  # the weight average's name in a run's checkpoints


@dataclass
class RunConfig:
    """Settings of a GAN training run, shared by train/generator.py and train/pix2pix.py."""

    data: str = "data/synthcity"
    out: str = "runs/gen-a2g"
    batch_size: int = 16  # per process
    epochs: float = 20.0
    max_steps: int = 0  # stop early at this step (0: run all epochs); the schedule does not depend on it
    max_minutes: float = 0.0  # stop once this much training time has passed, over all resumes (0: no limit)
    workers: int = 1
    seed: int = 0
    log_every: int = 10
    sample_every: int = 500
    checkpoint_every: int = 200
    device: str = "auto"
    resume: bool = False
    init: str = ""  # a generator folder to start from (fresh discriminators, optimizers); --resume's checkpoint wins
    ema_kimg: float = 0.0  # half-life of G's weight average in thousands of images (0: none, as the shipped models)
    ema_rampup: float = 0.05  # the half-life is at most this share of the images seen so far (0: no ramp-up)


@dataclass
class GeneratorTrainConfig(RunConfig, GANConfig):
    saig_s: str = "assets/checkpoints/saig-s"  # the frozen guide


def build_gan_trainer(cfg: GeneratorTrainConfig, device: torch.device) -> GANTrainer:
    saig = load_model(SAIG, cfg.saig_s, device)
    gan_cfg = GANConfig(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(GANConfig)})
    return GANTrainer(gan_cfg, saig, device)


def load_init(generator: torch.nn.Module, path_or_repo: str) -> None:
    """--init: a generator folder's weights, strictly. A generator with its own tuned SAIG-S source branch
    (--tune-embedder-lr) may start from one without it, and then keeps the branch it was built with, SAIG-S's."""
    tuned = isinstance(getattr(generator, "encoder", None), SAIGBranch)
    load_weights(generator, path_or_repo,
                 defaults={f"encoder.{k}": v for k, v in generator.encoder.state_dict().items()} if tuned else None)


def save_samples(trainer: GANTrainer, source: torch.Tensor, target: torch.Tensor, path: Path) -> None:
    out = trainer.sample(source, seed=0)
    rows = []
    for i in range(source.shape[0]):
        row = [tensor_to_image(source[i])]
        if out.coarse is not None:
            row.append(tensor_to_image(F.interpolate(out.coarse[i:i + 1], size=target.shape[-2:], mode="nearest")[0]))
        rows.append([*row, tensor_to_image(out.image[i]), tensor_to_image(target[i])])
    path.parent.mkdir(parents=True, exist_ok=True)
    make_grid(rows).save(path)


def train(cfg: RunConfig, build_trainer=build_gan_trainer, name: str = "generator") -> dict:
    """The loop for any trainer with train_step / sample / modules / optimizers / wrap_ddp / describe."""
    device = pick_device(cfg.device)
    dist = setup_distributed(device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
    out = Path(cfg.out)
    setup_logging(out, dist.is_main)
    seed_everything(cfg.seed + dist.rank)

    trainer = build_trainer(cfg, device)
    src_view, tgt_view = trainer.source_view, trainer.target_view
    preset = get_preset(cfg.preset)
    train_set = open_pairs(cfg.data, "train", preset.aerial_size, preset.ground_size)
    val_set = open_pairs(cfg.data, "val", preset.aerial_size, preset.ground_size)
    images_per_step = cfg.batch_size * dist.world_size
    steps_per_epoch = len(train_set) // images_per_step
    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_set)} training pairs are fewer than one batch of {images_per_step}")
    total_steps = int(cfg.epochs * steps_per_epoch)
    stop_at = min(total_steps, cfg.max_steps) if cfg.max_steps else total_steps

    ema = GeneratorEMA(trainer.G, cfg.ema_kimg, cfg.ema_rampup) if cfg.ema_kimg else None
    modules = trainer.modules() | ({EMA_MODULE: ema.module} if ema else {})  # what a checkpoint holds
    checkpointer = TrainingCheckpointer(out)
    latest = checkpointer.latest() if cfg.resume else None
    step, seconds_before = 0, 0.0
    if latest is not None:
        # A run started without --ema-kimg keeps its discriminators and optimizers when an average is added later:
        # the average then starts at the resumed weights (as --init starts it at the loaded ones).
        start_average = ema is not None and not checkpointer.holds(latest, EMA_MODULE)
        state = checkpointer.restore(trainer.modules() if start_average else modules, trainer.optimizers(),
                                     path=latest, device=device)
        step, seconds_before = state["step"], state["extra"].get("train_seconds", 0.0)
        log.info("resumed from %s at step %d", state["path"], step)
        if start_average:
            ema.reset(trainer.G)
            log.info("%s holds no weight average: the average starts at step %d's weights", latest, step)
    elif cfg.init:
        load_init(trainer.G, cfg.init)
        if ema:
            ema.reset(trainer.G)
        log.info("starting from the generator weights of %s", cfg.init)
    elif cfg.resume:
        log.info("no checkpoint under %s yet: starting from scratch", out)
    if dist.enabled:  # every module is called once per backward; ablations may leave parameters unused
        trainer.wrap_ddp(lambda m: DistributedDataParallel(m, find_unused_parameters=True))

    history = JsonlLog(out / "log.jsonl", resume_step=step if cfg.resume else None) if dist.is_main else None
    if dist.is_main:
        n_g = sum(p.numel() for p in trainer.G.parameters())
        info = trainer.describe()
        write_json_atomic(out / "config.json", {
            "train": dataclasses.asdict(cfg), **info, "train_pairs": len(train_set), "steps": total_steps,
            "world_size": dist.world_size, "device": str(device), "generator_params": n_g})
        perc = f"; perceptual loss on {info['perceptual_features']}" if "perceptual_features" in info else ""
        log.info("%s %s (%s): generator %.2fM parameters%s; %d pairs, %d steps of %d x %d", name, cfg.direction,
                 cfg.preset, n_g / 1e6, perc, len(train_set), total_steps, cfg.batch_size, dist.world_size)
    a_fixed, g_fixed = (torch.stack(t) for t in zip(*[val_set[i] for i in range(min(6, len(val_set)))],
                                                   strict=True))
    fixed = {"aerial": a_fixed, "ground": g_fixed}

    bar = tqdm(total=stop_at, initial=step, desc=f"{name} {cfg.direction}", unit="step", disable=not dist.is_main)
    t_start = t_last = time.time()
    running = []

    def train_seconds() -> float:
        return seconds_before + time.time() - t_start

    if cfg.max_minutes and seconds_before >= 60 * cfg.max_minutes:
        stop_at = step  # resumed with its time budget already spent

    while step < stop_at:
        epoch, done_in_epoch = divmod(step, steps_per_epoch)
        for aerial, ground in epoch_loader(train_set, epoch, done_in_epoch, cfg.batch_size, cfg.seed, dist,
                                           cfg.workers):
            batch = {"aerial": aerial, "ground": ground}
            try:
                logs = trainer.train_step(batch[src_view], batch[tgt_view], step)
            except FloatingPointError as e:
                log.error("%s; stopping. The last good checkpoint is %s", e, checkpointer.latest())
                raise
            step += 1
            if ema:
                ema.update(trainer.G, images_per_step, step * images_per_step)
            if cfg.max_minutes and out_of_time(train_seconds(), cfg.max_minutes, device):
                stop_at = step  # the wall-clock budget (equal budgets compare methods fairly) ends the run here
            running.append(logs)
            bar.update()
            bar.set_postfix(l1=f"{logs['l1']:.3f}", d=f"{logs['d_loss']:.2f}")
            if dist.is_main and (step % cfg.log_every == 0 or step == stop_at):
                now = time.time()
                keys = {k for r in running for k in r}
                mean = {k: sum(r[k] for r in running if k in r) / sum(k in r for r in running) for k in keys}
                history.write({"step": step, "epoch": step / steps_per_epoch, "minutes": train_seconds() / 60, **mean,
                               "sec_per_step": (now - t_last) / len(running)})
                t_last, running = now, []
            if dist.is_main and (step % cfg.sample_every == 0 or step == stop_at):
                save_samples(trainer, fixed[src_view], fixed[tgt_view], out / "samples" / f"step-{step:07d}.png")
                plot_curves(history.read(), out / "curves.png", f"{name} {cfg.direction}")
            if dist.is_main and (step % cfg.checkpoint_every == 0 or step == stop_at):
                checkpointer.save(step, modules, trainer.optimizers(), {"train_seconds": train_seconds()})
            if step >= stop_at:
                break
    bar.close()
    if dist.is_main:
        save_model(trainer.G, out / "generator")
        if ema:
            save_model(ema.module, out / "generator-ema")
        log.info("done at step %d after %.1f min of training: generator in %s", step, train_seconds() / 60,
                 out / "generator")
    cleanup_distributed(dist)
    return {"step": step}


def out_of_time(seconds: float, max_minutes: float, device: torch.device) -> bool:
    """Whether the budget is spent; under DDP rank 0's clock decides, so that every rank stops at one step."""
    spent = seconds >= 60 * max_minutes
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return spent  # one process: no tensor, no device synchronisation in the step loop
    flag = torch.tensor([float(spent)], device=device)
    torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


RUN_HELPS = {
    "data": "dataset folder (pairs layout, CVUSA, CVACT or VIGOR); uses its train and val splits",
    "out": "run folder", "batch_size": "pairs per process per step",
    "epochs": "passes over the training split (fractions allowed)",
    "max_steps": "stop at this step (0: all epochs); the learning rates are constant, so resuming "
                 "with a larger value continues the same run",
    "max_minutes": "stop once this many minutes of training have passed, counted over all resumes "
                   "(0: no limit); gives two methods the same wall-clock budget",
    "workers": "DataLoader worker processes", "seed": "random seed",
    "log_every": "steps between log.jsonl records", "sample_every": "steps between sample grids",
    "checkpoint_every": "steps between resumable checkpoints", "device": "auto (CUDA if available), cpu or cuda",
    "resume": "continue exactly from the newest complete checkpoint in --out",
    "init": "start from this generator folder's weights (same preset and options), with fresh discriminators "
            "and optimizers; ignored when --resume finds a checkpoint",
    "ema_kimg": "also keep a moving average of the generator's weights whose half-life is this many thousand "
                "training images (StyleGAN2-ADA's G_ema; 0: none); written to generator-ema/",
    "ema_rampup": "cap the average's half-life at this share of the images seen so far (0: no cap)",
}
HELPS = RUN_HELPS | {
    "direction": "a2g (aerial -> ground panorama) or g2a (panorama -> aerial)",
    "preset": "sizes and widths: paper, demo or tiny (must match the embedder's)",
    "lr_g": "generator Adam learning rate", "lr_d": "discriminator Adam learning rate",
    "beta1": "Adam beta1", "beta2": "Adam beta2",
    "lambda_rec": "weight of the L1 reconstruction loss (eq. 7)",
    "rec_pool": "beyond the paper: eq. 7 between the images' means over blocks of this many pixels square, blind "
                "to where detail finer than a block (a window) lies within it (1: per pixel, as the paper and "
                "the shipped models)",
    "lambda_perc": "weight of the perceptual loss (eq. 8)",
    "lambda_id": "weight of the identity loss (eq. 9)",
    "lambda_div": "weight of the diversity loss (eq. 10): 0.1 for CVUSA/CVACT, 1 for VIGOR-GEN",
    "div_every": "compute the diversity loss every this many steps",
    "best_of": "beyond the paper: draw this many noises per pair and train on the output nearest the target by "
               "eq. 7 (best-of-many samples); with enough draws the losses no longer favour a blur of what the "
               "source does not show (1: one draw, as the paper and the shipped models)",
    "diffaug": "DiffAug on every image the discriminators see (--no-diffaug: none)",
    "diffaug_policy": "DiffAug's augmentations: Color then Cutout (as the shipped a2g), or one of them alone "
                      "(the shipped g2a: cutout)",
    "vgg16_weights": "VGG16 safetensors for the perceptual loss: a file, 'repo_id' or 'repo_id:filename'; "
                     "empty uses the frozen SAIG-S stem features",
    "perceptual_levels": "eq. 8 over the feature levels: 'sum' (the shipped models) or 'mean' (lambda_perc "
                         "then weights one level's worth)",
    "perceptual_from_level": "beyond the paper: eq. 8 over the feature levels from this one on, dropping the "
                             "finer ones (0: all, as the paper and the shipped models; SAIG-S's stem has 6, at "
                             "strides 2, 4, 4, 8, 8, 16)",
    "feature_blur": "binomial low-pass of this many taps (odd, >= 3; 0: none, as the shipped models) on every "
                    "image the perceptual and identity losses (eq. 8, 9) embed: their gradient then has no "
                    "power at 2-pixel periods, where it drew a fine colour grid (RESULTS.md)",
    "lambda_patch": "weight of an unconditional PatchGAN's adversarial term beside eq. 11, a third "
                    "discriminator for local realism (0: none, as the paper and the shipped models)",
    "patch_layers": "strided layers of that PatchGAN: 1, 2 or 3 for a receptive field of 16, 34 or 70 px "
                    "(0: 3, Pix2Pix's 70x70, or as many as a small image allows)",
    "patch_luma": "that PatchGAN sees the images' luma alone, blind to colour (--no-patch-luma: RGB)",
    "tune_embedder_lr": "beyond the paper: G gets its own copy of SAIG-S's source branch, trained with G at this "
                        "learning rate (0: the frozen SAIG-S guides G, as the paper and the shipped models)",
    "saig_s": "the frozen SAIG-S model folder (or hub repo id) that guides the generator",
    "embedder": "guide G with the frozen SAIG-S (--no-embedder: a trainable encoder instead, ablation i)",
    "attn_adain": "Attentional AdaIN (--no-attn-adain: plain AdaIN, ablation ii)",
    "style": "style code through the mapping network (--no-style: ablation iii)",
    "retrieval": "retrieval embedding in the normalisation layers (--no-retrieval: ablation iv)",
    "same_structure": "ResBlock-S at every stage (ablation v)",
    "coarse_d": "the coarse discriminator (--no-coarse-d: ablation vi)",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.generator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_arguments(p, GeneratorTrainConfig, HELPS,
                            {"direction": ["a2g", "g2a"], "preset": ["paper", "demo", "tiny"],
                             "perceptual_levels": list(PERCEPTUAL_LEVELS), "diffaug_policy": list(DIFFAUG_POLICIES)})
    return p


def main(argv: list[str] | None = None) -> None:
    train(GeneratorTrainConfig(**vars(build_parser().parse_args(argv))))


if __name__ == "__main__":
    main()
