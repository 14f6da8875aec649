"""What app.py needs besides the UI: the model from CROSSVIEW_MODEL, upload checks and output formatting."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch
from PIL import Image

from crossview.checkpoint import CheckpointError
from crossview.data.pairs import ImageReadError, read_rgb
from crossview.pipeline import CrossViewPipeline, SynthesisOutput
from crossview.visualize import attention_overlay, describe_layer

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "checkpoints" / "demo"
MAX_PIXELS = int(os.environ.get("CROSSVIEW_MAX_PIXELS", 40_000_000))  # decoded-size cap (decompression bombs)
MAX_UPLOAD = os.environ.get("CROSSVIEW_MAX_UPLOAD", "25mb")  # request-size cap, enforced by gradio
MIN_SIDE = 8
DIRECTIONS = {"Auto": "auto", "Aerial → Ground": "a2g", "Ground → Aerial": "g2a"}
DIRECTION_NAMES = {"a2g": "aerial → ground", "g2a": "ground → aerial"}


class UploadError(ValueError):
    """An upload that cannot be used; the message is meant for the user."""


def examples_cache_dir(pipe: CrossViewPipeline) -> str:
    """A cached-examples folder per model (a hash of every weight): gradio reuses an existing cache without
    checking what produced it, so a new checkpoint must not find the outputs of the previous one."""
    digest = hashlib.sha256()
    for module in (pipe.embedder, *pipe.generators.values()):
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return str(Path(".gradio") / "cached_examples" / digest.hexdigest()[:16])


def load_pipeline() -> CrossViewPipeline:
    """The pipeline named by CROSSVIEW_MODEL (a folder or hub repo id), else the shipped demo checkpoint,
    else an untrained demo model. A CROSSVIEW_MODEL that cannot be loaded stops start-up with its reason."""
    name = os.environ.get("CROSSVIEW_MODEL")
    if name:
        try:
            return CrossViewPipeline.from_pretrained(name, "auto")
        except (CheckpointError, OSError, KeyError, ValueError) as e:
            raise SystemExit(f"CROSSVIEW_MODEL={name!r} cannot be loaded: {e}") from e
    if (DEFAULT_MODEL / "config.json").is_file():
        return CrossViewPipeline.from_pretrained(DEFAULT_MODEL, "auto")
    log.warning("no trained checkpoint in %s: serving an untrained demo model", DEFAULT_MODEL)
    return CrossViewPipeline.untrained("demo", device="cuda" if torch.cuda.is_available() else "cpu")


def open_upload(path: str | None) -> Image.Image:
    """The uploaded file as RGB, or an UploadError that says what is wrong with it."""
    if not path:
        raise UploadError("Please upload an aerial image or a street-level panorama first.")
    try:
        image = read_rgb(path, max_pixels=MAX_PIXELS)
    except ImageReadError as e:
        reason = str(e).split(": ", 1)[-1]
        raise UploadError(f"This file could not be read as an image ({reason}). Please upload a PNG, JPEG or "
                          f"WebP aerial image or panorama.") from e
    except FileNotFoundError as e:
        raise UploadError("The upload did not arrive; please try again.") from e
    if min(image.size) < MIN_SIDE:
        raise UploadError(f"The image is {image.width}x{image.height} pixels; it needs at least {MIN_SIDE} "
                          "pixels on each side.")
    return image


def attention_gallery(result: SynthesisOutput, opacity: float) -> list[tuple[Image.Image, str]]:
    """Every Attn-AdaIN weight map over the first synthesized image, captioned with stage and resolution."""
    return [(attention_overlay(result.images[0], m, opacity), describe_layer(name, m))
            for name, m in result.attention.items()]


def describe_result(result: SynthesisOutput, requested: str, image: Image.Image) -> str:
    how = (f"chosen automatically: the upload is {image.width}×{image.height}, "
           f"{'wide like a panorama' if result.direction == 'g2a' else 'not panorama-shaped'}"
           if requested == "auto" else "as requested")
    sims = ", ".join(f"{s:.3f}" for s in result.similarity)
    return (f"**Direction:** {DIRECTION_NAMES[result.direction]} ({how}). "
            f"**Retrieval similarity** (cosine of SAIG-S embeddings, source vs result): {sims}.")
