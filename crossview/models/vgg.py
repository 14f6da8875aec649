"""Feature extractors for the perceptual loss (eq. 8).

The paper uses a pretrained VGG16. Its weights cannot be downloaded on every machine, so the extractor is
either ``VGG16Features`` loaded from a safetensors file (a local path, or ``repo_id`` / ``repo_id:filename``
on the Hugging Face Hub, e.g. timm's ``timm/vgg16.tv_in1k``), or, when none is given, the frozen SAIG
embedder's conv stem (``SAIGBranch.forward(..., return_stem=True)``, see crossview/trainer.py). The training
run's config records which was used.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from crossview.checkpoint import CheckpointError, read_safetensors
from crossview.models.pretrained import load_pretrained, tapped_features

VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
TAPS = (3, 8, 15, 22)  # relu1_2, relu2_2, relu3_3, relu4_3 in torchvision/timm numbering of `features`
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """Plain-torch VGG16 ``features`` (the same parameter names as torchvision and timm), up to relu4_3."""

    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for v in VGG16_LAYOUT:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
                c = v
        self.features = nn.Sequential(*layers[: TAPS[-1] + 1])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std  # [-1, 1] -> ImageNet normalisation
        return tapped_features(self.features, x, TAPS)


def resolve_weights_file(spec: str) -> Path:
    """A local file, or a hub file given as 'repo_id' (model.safetensors) or 'repo_id:filename'."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.suffix == ".safetensors" and "/" not in spec.split(":")[0]:
        raise CheckpointError(f"VGG16 weights file not found: {spec}")
    repo, _, filename = spec.partition(":")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo, filename or "model.safetensors"))
    except Exception as e:  # offline, unknown repo, missing file: all mean "not available here"
        raise CheckpointError(f"VGG16 weights {spec!r} are neither a local file nor fetchable from the hub: {e}") from e


def load_vgg16(spec: str) -> VGG16Features:
    """VGG16 features with pretrained weights from a safetensors file (extra keys such as the classifier are
    ignored; every ``features`` tensor up to relu4_3 must be present with the right shape)."""
    file = resolve_weights_file(spec)
    return load_pretrained(VGG16Features(), read_safetensors(file), file)

