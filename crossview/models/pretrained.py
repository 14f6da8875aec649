"""Third-party pretrained weights for the evaluation metrics (LPIPS's AlexNet, FID's Inception), found locally.

Nothing is downloaded. A weights file is taken from, in order: the environment variable the caller names (a
file path), then the torch hub cache (``$TORCH_HOME/hub/checkpoints``, where torchvision, pytorch-fid and
the lpips package keep the files they download), under its standard file name. ``find_weights`` returns
None and a sentence saying where it looked, so that a metric can be reported as unavailable with its reason.

The standard files are PyTorch ``.pth`` state dicts; they are read with ``torch.load(weights_only=True)``,
which accepts tensors and containers only and never runs code from the file. A ``.safetensors`` conversion
of the same tensors works too. CrossView's own checkpoints are safetensors only (crossview/checkpoint.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from crossview.checkpoint import CheckpointError, load_state_strict, read_safetensors


def torch_hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_weights(env_var: str, filenames: tuple[str, ...]) -> tuple[Path | None, str]:
    """(the file, "") or (None, where it looked)."""
    if os.environ.get(env_var):
        path = Path(os.environ[env_var]).expanduser()
        if path.is_file():
            return path, ""
        return None, f"{env_var}={path} is not a file"
    hub = torch_hub_checkpoints()
    for name in filenames:
        if (hub / name).is_file():
            return hub / name, ""
    return None, f"no {' or '.join(filenames)} in the torch hub cache ({hub}) and {env_var} is not set"


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a .safetensors or a .pth/.pt file (tensors only: weights_only=True)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a state dict, or containing objects other than tensors
        raise CheckpointError(f"{path}: not a readable PyTorch state dict ({e})") from e
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a flat dict of tensors")
    return state


def load_pretrained(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path,
                    rename: dict[str, str] | None = None) -> nn.Module:
    """Load the tensors ``module`` has from ``state`` (others, e.g. a classifier, are ignored), strictly:
    every parameter and buffer must be there with its shape. BatchNorm's step counters may be absent."""
    rename = rename or {}
    state = {rename.get(k, k): v for k, v in state.items()}
    own = module.state_dict()
    state = {k: v for k, v in state.items() if k in own}
    for k, v in own.items():
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = v
    load_state_strict(module, state, source)
    return module.eval().requires_grad_(False)


def tapped_features(layers: nn.Sequential, x: torch.Tensor, taps: tuple[int, ...]) -> list[torch.Tensor]:
    """Run ``layers`` in order and keep the outputs of the layers at the indices in ``taps``."""
    out = []
    for i, layer in enumerate(layers):
        x = layer(x)
        if i in taps:
            out.append(x)
    return out
