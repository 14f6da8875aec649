"""Train the Pix2Pix baseline (U-Net + PatchGAN, L1 weight 100) on the same data as the CrossView generator.

    python -m train.pix2pix --direction a2g --data data/synthcity --out runs/pix2pix-a2g
    torchrun --nproc_per_node 2 -m train.pix2pix ...      # DDP
    python -m train.pix2pix ... --resume                  # continue exactly

Same run folder layout as train.generator: log.jsonl, curves.png, samples/, checkpoints/, generator/.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch

from crossview.runtime import add_dataclass_arguments
from crossview.trainer import Pix2PixConfig, Pix2PixTrainer
from train.generator import RUN_HELPS, RunConfig, train


@dataclass
class Pix2PixTrainConfig(RunConfig, Pix2PixConfig):
    out: str = "runs/pix2pix-a2g"


def build_pix2pix_trainer(cfg: Pix2PixTrainConfig, device: torch.device) -> Pix2PixTrainer:
    return Pix2PixTrainer(Pix2PixConfig(cfg.direction, cfg.preset, cfg.lr, cfg.beta1, cfg.beta2, cfg.lambda_l1),
                          device)


HELPS = RUN_HELPS | {
    "direction": "a2g (aerial -> ground panorama) or g2a (panorama -> aerial)",
    "preset": "sizes and widths: paper, demo or tiny",
    "lr": "Adam learning rate of G and D", "beta1": "Adam beta1", "beta2": "Adam beta2",
    "lambda_l1": "weight of the L1 loss",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train.pix2pix", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_arguments(p, Pix2PixTrainConfig, HELPS,
                            {"direction": ["a2g", "g2a"], "preset": ["paper", "demo", "tiny"]})
    return p


def main(argv: list[str] | None = None) -> None:
    cfg = Pix2PixTrainConfig(**vars(build_parser().parse_args(argv)))
    train(cfg, build_pix2pix_trainer, name="pix2pix")


if __name__ == "__main__":
    main()
