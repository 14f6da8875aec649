"""Checkpoints: safetensors + JSON only, written atomically, loaded strictly; never pickle.

Two kinds:
* a *model folder* (``config.json`` + ``model.safetensors``), what ``save_pretrained`` of
  ``PyTorchModelHubMixin`` writes and what ships in assets/checkpoints/; ``load_model`` reads one from a local
  folder or a Hugging Face repo id and names the file and the problem when it cannot;
* a *training checkpoint* (``runs/<run>/checkpoints/step-XXXXXXXX/``): every module, optimizer and RNG state
  needed to resume exactly. A folder is written under a temporary name and renamed into place, and the
  ``latest`` pointer is replaced last, so a run killed at any moment resumes from the last complete one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

log = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, or does not fit the model; the message names the file."""


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write in the ``with`` block; when the block ends without error it
    is renamed over ``path``, otherwise removed. A reader never sees half a file, and a hard link to the old
    file (a dataset copied with ``cp -al``) keeps the old contents."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one writer process per name at a time
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """``path.write_text`` through ``atomic_file``, synced to disk before the rename."""
    with atomic_file(path) as tmp, open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def replace_dir(tmp: Path, target: Path) -> None:
    """Move a finished folder into place; an older folder of that name is removed only afterwards.

    Training checkpoints never overwrite (each step has its own folder). When a model folder is overwritten,
    a crash between the two renames leaves the previous version as ``.<name>.old`` beside it.
    """
    tmp.chmod(0o755)  # mkdtemp makes it private; the published folder is an ordinary one
    for f in tmp.iterdir():
        if f.is_file():
            f.chmod(0o644)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill in the ``with`` block; when the block ends without error it
    replaces ``target`` (``replace_dir``), otherwise it is removed and ``target`` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def save_model(model: nn.Module, directory: str | Path, fp16: bool = False) -> Path:
    """``model.save_pretrained(directory)``, atomically: the folder is complete or not there.

    ``fp16`` stores floating-point tensors as float16 (half the size; loading casts them back).
    """
    with atomic_dir(directory) as tmp:
        model.save_pretrained(tmp)
        if fp16:
            save_file(half(model.state_dict()), str(tmp / WEIGHTS_NAME))
    return Path(directory)


def half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors as float16, the others unchanged (how fp16 model folders are stored)."""
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def copy_model(src: str | Path, dst: str | Path, fp16: bool = False) -> Path:
    """Copy a model folder (config, weights, model card) to ``dst`` atomically, without its model class.

    ``fp16`` stores the floating-point tensors as float16, as ``save_model(..., fp16=True)`` would; this is how
    a trained generator in a run folder becomes a shipped checkpoint.
    """
    src = resolve_model_dir(src)
    read_config(src)  # a clear error when src is not a model folder
    state = read_safetensors(src / WEIGHTS_NAME)  # and when its weights are missing or truncated
    with atomic_dir(dst) as tmp:
        for f in src.iterdir():
            if f.is_file():
                shutil.copyfile(f, tmp / f.name)
        if fp16:
            save_file(half(state), str(tmp / WEIGHTS_NAME))
    return Path(dst)


def resolve_model_dir(path_or_repo: str | Path) -> Path:
    """A local folder as is; otherwise a Hugging Face repo id, fetched (or found in the cache) with huggingface_hub."""
    path = Path(path_or_repo)
    if path.is_dir():
        return path
    text = str(path_or_repo)
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") != 1:
        raise CheckpointError(f"model folder not found: {path_or_repo}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=text, allow_patterns=["*.json", "*.safetensors", "*.md"]))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot fetch model {text!r} from the Hugging Face Hub or its cache: {e}") from e


def read_config(directory: str | Path) -> dict:
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"missing {CONFIG_NAME} in {directory}")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return config


def read_safetensors(path: str | Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"missing weights file: {path}")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt safetensors file ({e})") from e


def load_state_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """load_state_dict(strict=True), with an error that names the file and the keys that do not fit."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected)):
            if keys:
                parts.append(f"{len(keys)} {label} tensors (e.g. {', '.join(keys[:3])})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} with the wrong shape (e.g. {k}: file {tuple(state[k].shape)}, "
                         f"model {tuple(own[k].shape)})")
        raise CheckpointError(f"{source} does not fit {type(module).__name__}: " + "; ".join(parts))
    module.load_state_dict(state, strict=True)


def load_weights(module: nn.Module, path_or_repo: str | Path,
                 defaults: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Load a model folder's ``model.safetensors`` strictly into an existing module (no config needed);
    ``defaults`` fills keys the file lacks (a part the module has and the file's model had not)."""
    file = resolve_model_dir(path_or_repo) / WEIGHTS_NAME
    load_state_strict(module, (defaults or {}) | read_safetensors(file), file)
    return module


def load_model(cls: type[nn.Module], path_or_repo: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Build ``cls(**config.json)`` and load ``model.safetensors`` strictly; the model is left in eval mode."""
    directory = resolve_model_dir(path_or_repo)
    config = read_config(directory)
    try:
        model = cls(**config)
    except TypeError as e:
        raise CheckpointError(f"{directory / CONFIG_NAME} does not describe a {cls.__name__}: {e}") from e
    return load_weights(model, directory).to(device).eval()


# ----------------------------------------------------------------------------------------------------------
# Training checkpoints


def _optimizer_to_files(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, plain = {}, {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "plain": plain}


def _optimizer_from_files(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in [*tensors.items(), *meta["plain"].items()]:
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors |= {f"torch_cuda_{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())}
    np_state = np.random.get_state()
    plain = {"numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]], "python": _to_json(random.getstate())}
    return tensors, plain


def set_rng_state(tensors: dict[str, torch.Tensor], plain: dict) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("torch_cuda_"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, keys, *rest = plain["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    random.setstate(_to_tuple(plain["python"]))


def _to_json(x):
    return [_to_json(v) for v in x] if isinstance(x, tuple | list) else x


def _to_tuple(x):
    return tuple(_to_tuple(v) for v in x) if isinstance(x, list) else x


class TrainingCheckpointer:
    """Saves and restores everything a run needs under ``run_dir/checkpoints``; keeps the newest ``keep``."""

    def __init__(self, run_dir: str | Path, keep: int = 2):
        self.root = Path(run_dir) / "checkpoints"
        self.keep = keep

    @staticmethod
    def _tensors_file(path: Path, key: str) -> Path:
        """Where a checkpoint folder keeps the tensors of ``key``: a module's name, ``optim-<name>`` for an
        optimizer, ``rng`` for the random states."""
        return path / f"{key}.safetensors"

    def holds(self, path: str | Path, key: str) -> bool:
        """Whether the checkpoint folder ``path`` has the weights of module ``key`` (e.g. a run's options changed)."""
        return self._tensors_file(Path(path), key).is_file()

    def save(self, step: int, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
             extra: dict | None = None) -> Path:
        name = f"step-{step:09d}"
        # A save killed mid-write (SIGKILL skips atomic_dir's and atomic_file's cleanup) leaves temporaries of a
        # step folder or of latest.json; one process writes this folder, so every temporary here is such a leftover.
        for leftover in self.root.glob(".*.tmp"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        with atomic_dir(self.root / name) as tmp:
            for key, module in modules.items():
                module = getattr(module, "module", module)  # unwrap DDP
                save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                          str(self._tensors_file(tmp, key)))
            optim_meta = {}
            for key, opt in optimizers.items():
                tensors, meta = _optimizer_to_files(opt)
                save_file(tensors, str(self._tensors_file(tmp, f"optim-{key}")))
                optim_meta[key] = meta
            rng_tensors, rng_plain = rng_state()
            save_file(rng_tensors, str(self._tensors_file(tmp, "rng")))
            write_json_atomic(tmp / "state.json", {"step": step, "optimizers": optim_meta, "rng": rng_plain,
                                                   "extra": extra or {}})
            for f in tmp.iterdir():  # make the data durable before the rename publishes it
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        write_json_atomic(self.root / "latest.json", {"checkpoint": name, "step": step})
        for old in self.complete()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return self.root / name

    def complete(self) -> list[Path]:
        """Finished checkpoint folders, oldest first (temporary folders of an interrupted save are skipped)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob("step-*") if p.is_dir() and (p / "state.json").is_file())

    def latest(self) -> Path | None:
        done = self.complete()
        return done[-1] if done else None

    @classmethod
    def restore_module(cls, path: str | Path, key: str, module: nn.Module, device: str | torch.device = "cpu") -> None:
        """Load one module's weights (``key``: its name in ``save``'s modules) from the checkpoint folder ``path``."""
        file = cls._tensors_file(Path(path), key)
        load_state_strict(getattr(module, "module", module), read_safetensors(file, device), file)

    def restore(self, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                path: str | Path | None = None, device: str | torch.device = "cpu") -> dict:
        """Load the newest (or given) checkpoint into modules and optimizers; returns {'step', 'extra'}."""
        path = Path(path) if path else self.latest()
        if path is None:
            raise CheckpointError(f"no complete checkpoint under {self.root}")
        try:
            state = json.loads((path / "state.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path / 'state.json'}: unreadable ({e})") from e
        for key, module in modules.items():
            self.restore_module(path, key, module, device)
        for key, opt in optimizers.items():
            _optimizer_from_files(opt, read_safetensors(self._tensors_file(path, f"optim-{key}"), device),
                                  state["optimizers"][key])
        set_rng_state(read_safetensors(self._tensors_file(path, "rng")), state["rng"])
        return {"step": state["step"], "extra": state["extra"], "path": path}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m crossview.checkpoint",
                                description="Copy a model folder (e.g. a run's generator/ into assets/checkpoints/), "
                                            "optionally as float16.")
    p.add_argument("src", help="model folder (config.json + model.safetensors) or Hugging Face repo id")
    p.add_argument("dst", help="folder to write (replaced atomically if it exists)")
    p.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        log.info("wrote %s", copy_model(args.src, args.dst, fp16=args.fp16))
    except CheckpointError as e:
        raise SystemExit(f"error: {e}") from e


if __name__ == "__main__":
    main()
