"""What every training entry point needs: device, seeds, DDP set-up, a JSONL log and loss curves."""

from __future__ import annotations

import json
import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from crossview.checkpoint import atomic_file

log = logging.getLogger(__name__)


def pick_device(name: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else CPU; nothing assumes a GPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: torch.device) -> Distributed:
    """Join the process group when launched by torchrun (RANK and WORLD_SIZE set); gloo on CPU, nccl on CUDA."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Distributed()
    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(rank, world, local)


def cleanup_distributed(d: Distributed) -> None:
    """Leave the process group together: rank 0 saves and evaluates after the last step while the others are
    done, and a rank that tore down its gloo connections meanwhile was once seen to abort at exit (SIGABRT)."""
    if d.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def setup_logging(run_dir: Path | None = None, is_main: bool = True) -> None:
    level = logging.INFO if is_main else logging.WARNING
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if run_dir is not None and is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(run_dir / "train.log"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True)


class JsonlLog:
    """One JSON object per line; on resume, lines past the resumed step are dropped so curves stay clean."""

    def __init__(self, path: Path, resume_step: int | None = None):
        self.path = path
        if resume_step is not None and path.is_file():
            kept = [line for line in path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step]
            path.write_text("".join(line + "\n" for line in kept))
        elif resume_step is None and path.exists():
            path.unlink()

    def write(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[dict]:
        return read_jsonl(self.path)


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL log (e.g. a run's log.jsonl); none if the file does not exist."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_run_logs(runs: dict[str, Path]) -> dict[str, list[dict]]:
    """Each training run's log.jsonl (train.generator or train.pix2pix), checked up front, so that a wrong run
    folder fails before any figure or table is made. Raises ValueError naming the log that is missing or foreign."""
    logs = {}
    for name, run in runs.items():
        records = read_jsonl(run / "log.jsonl")
        if not records:
            raise ValueError(f"{run / 'log.jsonl'}: no training log there")
        if any("minutes" not in r for r in records):  # train.generator and train.pix2pix log it on every line
            raise ValueError(f"{run / 'log.jsonl'}: a line has no 'minutes'; not a train.generator/pix2pix log")
        logs[name] = records
    return logs


def pyplot():
    """matplotlib.pyplot on the headless Agg backend (training machines and CI have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(records: list[dict], out: Path, title: str) -> None:
    """One panel per numeric key (other than step/epoch/time/minutes) against the step."""
    plt = pyplot()
    keys = sorted({k for r in records for k, v in r.items()
                   if isinstance(v, int | float) and k not in ("step", "epoch", "time", "minutes", "lr")})
    if not keys:
        return
    cols = min(4, len(keys))
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        pts = [(r["step"], r[key]) for r in records if key in r and "step" in r]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="." if len(pts) < 50 else None)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_file(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def epoch_order(n: int, epoch: int, seed: int, batch: int, rank: int = 0, world: int = 1) -> list[int]:
    """This rank's sample indices for an epoch: a seeded permutation cut to whole global batches."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g)
    usable = n - n % (batch * world)
    return perm[:usable][rank::world].tolist()


def grouped_epoch_order(neighbours: torch.Tensor, epoch: int, seed: int, batch: int, rank: int = 0,
                        world: int = 1) -> list[int]:
    """Like epoch_order, but in groups of look-alikes, for hard negatives (Sample4Geo's similarity sampling).

    ``neighbours`` (N, k) holds each sample's k nearest other samples. Anchors come in a seeded random
    order, and each anchor not yet placed brings its neighbours not yet placed right after it, so a group
    shares a batch unless it straddles a batch boundary. Every index appears at most once; the order is cut
    to whole global batches, and each rank takes a contiguous share of every global batch, so that a group
    stays on one rank (the in-batch negatives of one process).
    """
    n = len(neighbours)
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    rows, placed, order = neighbours.tolist(), [False] * n, []
    for anchor in torch.randperm(n, generator=g).tolist():
        if placed[anchor]:
            continue
        for j in [anchor, *rows[anchor]]:
            if not placed[j]:
                placed[j] = True
                order.append(j)
    usable = n - n % (batch * world)
    return [i for start in range(rank * batch, usable, batch * world) for i in order[start:start + batch]]


def epoch_loader(dataset, epoch: int, skip_batches: int, batch_size: int, seed: int, dist: Distributed,
                 workers: int, order: list[int] | None = None) -> torch.utils.data.DataLoader:
    """The rest of an epoch's batches after ``skip_batches``: the same order whether or not the run resumed.

    ``order`` (this rank's indices for the epoch) replaces the seeded permutation of epoch_order. The
    loader gets its own torch.Generator so that building it never draws from the global RNG, which
    training uses for noise and augmentation and restores on resume.
    """
    if order is None:
        order = epoch_order(len(dataset), epoch, seed, batch_size, dist.rank, dist.world_size)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=order[skip_batches * batch_size:],
                                       num_workers=workers, drop_last=True, generator=torch.Generator())


def add_dataclass_arguments(parser, config_cls, helps: dict[str, str], choices: dict[str, list] | None = None) -> None:
    """One --flag per field of a config dataclass (booleans as --x / --no-x), each with its help and default."""
    import argparse
    import dataclasses

    defaults = config_cls()
    for f in dataclasses.fields(config_cls):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=helps[f.name])
        else:
            parser.add_argument(flag, type=type(default), default=default, choices=(choices or {}).get(f.name),
                                help=f"{helps[f.name]} (default: {default!r})")
