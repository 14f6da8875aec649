"""Train the SAIG retrieval embedder contrastively (paper section 3.2).

    python -m train.embedder --data data/synthcity --out runs/saig-s --variant s
    torchrun --nproc_per_node 2 -m train.embedder --data data/synthcity --out runs/saig-s   # DDP
    python -m train.embedder --data data/synthcity --out runs/saig-s --resume               # continue
    python -m train.embedder --data data/synthcity --out runs/saig-d2 --variant d --init assets/checkpoints/saig-d
    python -m train.embedder ... --hard-negatives 3   # batches of look-alike scenes, mined every --mine-every epochs

AdamW (lr 1e-4, weight decay 0.03), linear warm-up then cosine decay, gradient clipping 1.0, bf16 autocast
on GPU. Writes to --out: train.log, log.jsonl (loss and recalls), curves.png, checkpoints/ (resumable),
and model/ (config.json + model.safetensors, loadable with ``--model`` by train.evaluate).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from crossview.augment import random_rotate_flip
from crossview.checkpoint import TrainingCheckpointer, load_weights, save_model, write_json_atomic
from crossview.data import open_pairs
from crossview.losses import RETRIEVAL_LOSSES
from crossview.metrics import embed_pairs, retrieval_metrics
from crossview.models.embedder import SAIG
from crossview.presets import get_preset
from crossview.runtime import (
    JsonlLog,
    add_dataclass_arguments,
    cleanup_distributed,
    epoch_loader,
    grouped_epoch_order,
    pick_device,
    plot_curves,
    seed_everything,
    setup_distributed,
    setup_logging,
)

log = logging.getLogger("train.embedder")


@dataclass
class EmbedderTrainConfig:
    data: str = "data/synthcity"
    out: str = "runs/saig-s"
    preset: str = "demo"
    variant: str = "s"  # s: SAIG-S (11 blocks, the generator's guide); d: SAIG-D (22 blocks, the evaluator)
    head: str = "smd"
    loss: str = "triplet"
    batch_size: int = 32  # per process
    epochs: float = 10.0
    lr: float = 1e-4
    weight_decay: float = 0.03
    warmup_steps: int = 300
    grad_clip: float = 1.0
    augment: bool = True  # a random heading and mirror, consistent between the views
    workers: int = 2
    seed: int = 0
    eval_every: int = 500  # steps; recall on the val split
    eval_pairs: int = 500
    checkpoint_every: int = 200
    device: str = "auto"
    resume: bool = False
    init: str = ""  # a model folder to start from (fresh optimizer); a checkpoint found by --resume wins
    hard_negatives: int = 0  # k > 0: batches in groups of each pair and its k most confusable pairs
    mine_every: int = 1  # epochs between two minings of the look-alikes (one mining costs a forward pass)


def lr_at(step: int, total: int, cfg: EmbedderTrainConfig) -> float:
    """Linear warm-up, then cosine decay to zero at the last step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def mine_neighbours(model: SAIG, dataset, k: int, device: torch.device, workers: int) -> torch.Tensor:
    """Each pair's k most confusable other pairs under ``model``, (N, k): the highest sums of the two
    cross-view cosines, ground i to aerial j plus aerial i to ground j (the negatives of both directions)."""
    aerial, ground = embed_pairs(model, dataset, batch_size=128, device=device, workers=workers, progress=True)
    n = len(aerial)
    neighbours = torch.empty(n, k, dtype=torch.long)
    for start in range(0, n, 1024):  # chunks keep the N x N similarity out of memory
        stop = min(n, start + 1024)
        sim = ground[start:stop] @ aerial.T + aerial[start:stop] @ ground.T
        sim[torch.arange(stop - start), torch.arange(start, stop)] = -math.inf  # a pair is not its own negative
        neighbours[start:stop] = sim.topk(k, dim=1).indices
    return neighbours


def hard_negative_order(model: SAIG, train_set, epoch: int, cfg: EmbedderTrainConfig, dist,
                        device) -> list[int] | None:
    """This rank's batch order for ``epoch`` in groups of look-alikes (None: random batches).

    The look-alikes are mined with the weights at the start of the first epoch (epoch 0 with --init, else
    epoch 1: a model from scratch knows none yet) and again every ``mine_every`` epochs; the epochs between
    reuse the last table with a new anchor order. The main process mines and saves each table under
    hard_negatives/, so that a resumed run reuses it and every rank reads the same one.
    """
    first = 0 if cfg.init else 1
    if epoch < first:
        return None
    mined_at = epoch - (epoch - first) % cfg.mine_every
    path = Path(cfg.out) / "hard_negatives" / f"epoch-{mined_at:04d}.json"
    if dist.is_main and not path.exists():
        t0 = time.time()
        neighbours = mine_neighbours(model, train_set, cfg.hard_negatives, device, cfg.workers)
        model.train()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, {"mined_at_epoch": epoch, "k": cfg.hard_negatives, "neighbours": neighbours.tolist()})
        log.info("epoch %d: mined %d nearest neighbours of %d pairs in %.0f s", epoch, cfg.hard_negatives,
                 len(neighbours), time.time() - t0)
    if dist.enabled:
        torch.distributed.barrier()
    table = json.loads(path.read_text())
    if table["k"] != cfg.hard_negatives or len(table["neighbours"]) != len(train_set):
        raise ValueError(f"{path} was mined for k={table['k']} and {len(table['neighbours'])} pairs, not "
                         f"k={cfg.hard_negatives} and {len(train_set)}: delete it or use another --out")
    return grouped_epoch_order(torch.tensor(table["neighbours"]), epoch, cfg.seed, cfg.batch_size, dist.rank,
                               dist.world_size)


def train(cfg: EmbedderTrainConfig) -> dict:
    device = pick_device(cfg.device)
    dist = setup_distributed(device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
    out = Path(cfg.out)
    setup_logging(out, dist.is_main)
    seed_everything(cfg.seed + dist.rank)
    preset = get_preset(cfg.preset)

    train_set = open_pairs(cfg.data, "train", preset.aerial_size, preset.ground_size)
    val_set = open_pairs(cfg.data, "val", preset.aerial_size, preset.ground_size)
    if len(val_set) > cfg.eval_pairs:
        val_set.pairs = val_set.pairs[: cfg.eval_pairs]
    steps_per_epoch = len(train_set) // (cfg.batch_size * dist.world_size)
    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_set)} training pairs are fewer than one batch of "
                         f"{cfg.batch_size * dist.world_size}")
    total_steps = int(cfg.epochs * steps_per_epoch)

    model = SAIG.from_preset(cfg.preset, cfg.variant, cfg.head).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    checkpointer = TrainingCheckpointer(out)
    step = 0
    if cfg.mine_every < 1:
        raise ValueError(f"--mine-every must be at least 1, got {cfg.mine_every}")
    if not 0 <= cfg.hard_negatives < len(train_set):
        raise ValueError(f"--hard-negatives must lie in [0, {len(train_set) - 1}] (the other training pairs), "
                         f"got {cfg.hard_negatives}")
    if cfg.resume and checkpointer.latest() is not None:
        state = checkpointer.restore({"model": model}, {"optimizer": optimizer}, device=device)
        step = state["step"]
        log.info("resumed from %s at step %d", state["path"], step)
    elif cfg.init:
        load_weights(model, cfg.init)
        log.info("starting from the weights of %s", cfg.init)
    elif cfg.resume:
        log.info("no checkpoint under %s yet: starting from scratch", out)
    net = DistributedDataParallel(model) if dist.enabled else model
    loss_fn = RETRIEVAL_LOSSES[cfg.loss]
    history = JsonlLog(out / "log.jsonl", resume_step=step if cfg.resume else None) if dist.is_main else None
    if dist.is_main:
        write_json_atomic(out / "config.json", {"train": dataclasses.asdict(cfg), "model": model._hub_mixin_config,
                                                "train_pairs": len(train_set), "val_pairs": len(val_set),
                                                "steps": total_steps, "world_size": dist.world_size,
                                                "device": str(device)})
        log.info("SAIG-%s (%s, %s head): %.2fM parameters per branch; %d training pairs, %d steps of %d x %d",
                 cfg.variant.upper(), cfg.preset, cfg.head, sum(p.numel() for p in model.aerial.parameters()) / 1e6,
                 len(train_set), total_steps, cfg.batch_size, dist.world_size)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    aug_gen = torch.Generator().manual_seed(cfg.seed * 7919 + dist.rank)

    def evaluate() -> dict:
        model.eval()
        a, g = embed_pairs(model, val_set, batch_size=64, device=device)
        model.train()
        return retrieval_metrics(a, g)

    bar = tqdm(total=total_steps, initial=step, desc=f"SAIG-{cfg.variant.upper()}", unit="step",
               disable=not dist.is_main)
    model.train()
    t_last, running = time.time(), []
    while step < total_steps:
        epoch, done_in_epoch = divmod(step, steps_per_epoch)
        order, t_mine = None, time.time()
        if cfg.hard_negatives:
            order = hard_negative_order(model, train_set, epoch, cfg, dist, device)
        t_last += time.time() - t_mine  # mining is not training: keep it out of sec_per_step
        for aerial, ground in epoch_loader(train_set, epoch, done_in_epoch, cfg.batch_size, cfg.seed, dist,
                                           cfg.workers, order):
            if cfg.augment:
                aerial, ground = random_rotate_flip(aerial, ground, aug_gen)
            aerial, ground = aerial.to(device, non_blocking=True), ground.to(device, non_blocking=True)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total_steps, cfg)
            with autocast:
                ea, eg = net(aerial, ground)
            loss = loss_fn(ea.float(), eg.float())
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {loss.item()} at step {step}; the last good checkpoint is "
                                         f"{checkpointer.latest()}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            running.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.4f}")

            if dist.is_main and (step % 25 == 0 or step == total_steps):
                now = time.time()
                history.write({"step": step, "epoch": step / steps_per_epoch, "loss": sum(running) / len(running),
                               "grad_norm": float(grad_norm), "lr": optimizer.param_groups[0]["lr"],
                               "sec_per_step": (now - t_last) / len(running)})
                t_last, running = now, []
            if (step % cfg.eval_every == 0 or step == total_steps) and dist.is_main:
                metrics = evaluate()
                history.write({"step": step, "val_r1": metrics["r1"], "val_r5": metrics["r5"],
                               "val_aerial_query_r1": metrics["aerial_query"]["r1"]})
                log.info("step %d: val R@1 %.4f  R@5 %.4f  (aerial query R@1 %.4f)", step, metrics["r1"],
                         metrics["r5"], metrics["aerial_query"]["r1"])
                plot_curves(history.read(), out / "curves.png", f"SAIG-{cfg.variant.upper()} training")
            if dist.is_main and (step % cfg.checkpoint_every == 0 or step == total_steps):
                checkpointer.save(step, {"model": model}, {"optimizer": optimizer})
            if step >= total_steps:
                break
    bar.close()
    result = {}
    if dist.is_main:
        save_model(model, out / "model")
        result = evaluate()
        write_json_atomic(out / "final_val.json", result)
        log.info("done: model in %s; val %s", out / "model", result)
    cleanup_distributed(dist)
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.embedder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    helps = {
        "data": "dataset folder (pairs layout, CVUSA, CVACT or VIGOR); uses its train and val splits",
        "out": "run folder: logs, curves, checkpoints/ and the final model/",
        "preset": "sizes and widths: paper, demo or tiny",
        "variant": "s = SAIG-S (the generator's guide), d = SAIG-D (the R@1 evaluator)",
        "head": "smd (spatial-mixing descriptor) or gap (global average pooling)",
        "loss": "triplet (weighted soft-margin, alpha 10) or infonce (temperature 0.02)",
        "batch_size": "pairs per process per step (in-batch negatives)",
        "epochs": "passes over the training split (fractions allowed)",
        "lr": "peak AdamW learning rate",
        "weight_decay": "AdamW weight decay",
        "warmup_steps": "linear warm-up steps before the cosine decay",
        "grad_clip": "gradient norm clipping",
        "augment": "random heading and mirror applied to both views consistently",
        "workers": "DataLoader worker processes",
        "seed": "random seed (data order, initialisation, augmentation)",
        "eval_every": "steps between validation recalls",
        "eval_pairs": "validation pairs used for the recall during training",
        "checkpoint_every": "steps between resumable checkpoints",
        "device": "auto (CUDA if available), cpu or cuda",
        "resume": "continue from the newest complete checkpoint in --out",
        "init": "start from this model folder's weights (same preset, variant and head) with a fresh optimizer "
                "and schedule; with --resume, a checkpoint in --out takes precedence",
        "hard_negatives": "k > 0: at the start of an epoch (the first only with --init), find every training "
                          "pair's k most confusable pairs with the current model and batch them together, so that "
                          "in-batch negatives include look-alikes (Sample4Geo-style); 0 = random batches",
        "mine_every": "with --hard-negatives: epochs between two minings (each is a forward pass over the "
                      "training split); the epochs between reuse the last one",
    }
    add_dataclass_arguments(p, EmbedderTrainConfig, helps, {
        "preset": ["paper", "demo", "tiny"], "variant": ["s", "d"], "head": ["smd", "gap"],
        "loss": sorted(RETRIEVAL_LOSSES)})
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    train(EmbedderTrainConfig(**vars(args)))


if __name__ == "__main__":
    main()
