"""CrossViewPipeline: image in, the other view out, with the attention weight maps M (DESIGN.md "Public API").

    pipe = CrossViewPipeline.from_pretrained("assets/checkpoints/demo")   # local folder or hub repo id
    out = pipe(image, direction="auto", seed=0, num_samples=1)

A pipeline folder holds the frozen SAIG-S and one generator per direction, each a model folder
(config.json + model.safetensors), and a ``config.json`` that names them::

    {"format": "crossview-pipeline", "embedder": "saig-s", "generators": {"a2g": "a2g", "g2a": "g2a"},
     "trained": true, "notes": "..."}

``python -m crossview.pipeline --embedder DIR --a2g DIR --g2a DIR --out DIR [--fp16]`` assembles one.
Calls hold no state between them (the model is only read), so one pipeline can serve concurrent users.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from crossview.checkpoint import (
    CheckpointError,
    atomic_dir,
    load_model,
    read_config,
    resolve_model_dir,
    save_model,
    write_json_atomic,
)
from crossview.data.pairs import image_to_tensor, read_rgb, tensor_to_image, to_rgb
from crossview.models.embedder import SAIG
from crossview.models.generator import Generator
from crossview.runtime import pick_device
from crossview.trainer import DIRECTIONS, GANConfig, build_generator

log = logging.getLogger(__name__)

FORMAT = "crossview-pipeline"
PANORAMA_MIN_ASPECT = 1.5  # width / height at or above which "auto" treats an image as a panorama


@dataclass
class SynthesisOutput:
    direction: str  # "a2g" or "g2a"
    images: list[Image.Image]  # one synthesized target view per sample
    coarse: list[Image.Image]  # the structure stage's low-resolution output, per sample
    attention: dict[str, np.ndarray]  # Attn-AdaIN layer name -> M of the first sample, H x W float32 in [0, 1]
    similarity: list[float]  # cosine of SAIG-S embeddings: source vs each synthesized image


def guess_direction(image: Image.Image) -> str:
    """Panoramas are wide (4:1 or 2:1); aerial tiles are square."""
    return "g2a" if image.width / image.height >= PANORAMA_MIN_ASPECT else "a2g"


class CrossViewPipeline:
    def __init__(self, embedder: SAIG, generators: dict[str, Generator], device: str | torch.device = "cpu",
                 trained: bool = True, notes: str = ""):
        unknown = set(generators) - set(DIRECTIONS)
        if unknown or not generators:
            raise ValueError(f"generators must be keyed by a2g / g2a, got {sorted(generators)}")
        self.device = pick_device(str(device)) if str(device) == "auto" else torch.device(device)
        self.embedder = embedder.to(self.device).eval().requires_grad_(False)
        self.generators = {d: g.to(self.device).eval().requires_grad_(False) for d, g in generators.items()}
        self.trained, self.notes = trained, notes

    @property
    def directions(self) -> list[str]:
        return sorted(self.generators)

    # ------------------------------------------------------------------------------------------------
    # Loading and saving

    @classmethod
    def from_pretrained(cls, path_or_repo: str | Path, device: str | torch.device = "auto") -> CrossViewPipeline:
        directory = resolve_model_dir(path_or_repo)
        config = read_config(directory)
        if config.get("format") != FORMAT:
            raise CheckpointError(f"{directory / 'config.json'} is not a CrossView pipeline (format "
                                  f"{config.get('format')!r}, expected {FORMAT!r})")
        dev = pick_device(str(device))
        embedder = load_model(SAIG, directory / config["embedder"], dev)
        generators = {d: load_model(Generator, directory / sub, dev) for d, sub in config["generators"].items()}
        for d, g in generators.items():
            if g.fc.in_features != embedder.embed_dim:
                raise CheckpointError(f"{directory / config['generators'][d]}: generator expects a "
                                      f"{g.fc.in_features}-d embedding, the embedder gives {embedder.embed_dim}")
        return cls(embedder, generators, dev, trained=bool(config.get("trained", True)),
                   notes=str(config.get("notes", "")))

    @classmethod
    def untrained(cls, preset: str = "demo", seed: int = 0, device: str | torch.device = "cpu") -> CrossViewPipeline:
        """Randomly initialised networks of a preset: the app runs on this until a trained checkpoint exists."""
        torch.manual_seed(seed)
        embedder = SAIG.from_preset(preset, "s")
        generators = {d: build_generator(GANConfig(direction=d, preset=preset), embedder.embed_dim)
                      for d in DIRECTIONS}
        return cls(embedder, generators, device, trained=False, notes=f"untrained {preset} preset, seed {seed}")

    def save_pretrained(self, directory: str | Path, fp16: bool = False) -> Path:
        """Write the pipeline folder atomically (optionally with fp16 weights, half the size)."""
        with atomic_dir(directory) as tmp:
            parts = {"saig-s": self.embedder} | dict(self.generators)
            for name, model in parts.items():
                save_model(model, tmp / name, fp16=fp16)
            write_json_atomic(tmp / "config.json", {
                "format": FORMAT, "embedder": "saig-s", "generators": {d: d for d in self.generators},
                "trained": self.trained, "notes": self.notes, "weights_dtype": "float16" if fp16 else "float32"})
        return Path(directory)

    # ------------------------------------------------------------------------------------------------
    # Synthesis

    @torch.no_grad()
    def generate(self, source: torch.Tensor, direction: str, seeds: list[int]):
        """A batch of source tensors (N, 3, H, W) in [-1, 1] -> GeneratorOutput; image i's noise from seeds[i].

        Sample i's noise comes from its own seed, so a result does not depend on what else is in the batch.
        """
        source_view, _ = DIRECTIONS[direction]
        generator = self.generators[direction]
        source = source.to(self.device)
        if generator.encoder is not None:
            embedding = generator.encoder(source)
        else:
            embedding = self.embedder.embed(source, source_view)
        noise = [generator.sample_noise(1, torch.Generator().manual_seed(s), self.device) for s in seeds]
        z, z_local = (torch.cat(parts) for parts in zip(*noise, strict=True))
        return generator(embedding, z, z_local)

    @torch.no_grad()
    def __call__(self, image: Image.Image | str | Path, direction: str = "auto", seed: int = 0,
                 num_samples: int = 1) -> SynthesisOutput:
        img = read_rgb(image) if isinstance(image, str | Path) else to_rgb(image)
        if direction == "auto":
            direction = guess_direction(img)
        if direction not in self.generators:
            raise ValueError(f"direction must be 'auto' or one of {self.directions}, got {direction!r}")
        if not 1 <= num_samples <= 16:
            raise ValueError(f"num_samples must be between 1 and 16, got {num_samples}")
        source_view, target_view = DIRECTIONS[direction]
        source = image_to_tensor(img, self.embedder.image_size(source_view)).unsqueeze(0).to(self.device)
        out = self.generate(source.expand(num_samples, -1, -1, -1), direction, [seed + i for i in range(num_samples)])
        # Both sides through SAIG-S, even where G embeds the source with its own tuned branch: a cosine means
        # something only between the two branches of one embedder, trained into one space.
        target_embedding = self.embedder.embed(out.image, target_view)
        similarity = F.cosine_similarity(self.embedder.embed(source, source_view), target_embedding, dim=1)
        return SynthesisOutput(
            direction=direction,
            images=[tensor_to_image(x) for x in out.image],
            coarse=[tensor_to_image(x) for x in out.coarse],
            attention={name: m[0, 0].float().cpu().numpy() for name, m in out.weight_maps.items()},
            similarity=[float(s) for s in similarity],
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m crossview.pipeline",
                                description="Assemble a pipeline folder from a trained SAIG-S and generators.")
    p.add_argument("--embedder", required=True, help="SAIG-S model folder (e.g. runs/saig-s/model)")
    p.add_argument("--a2g", help="aerial -> ground generator folder (e.g. runs/gen-a2g/generator)")
    p.add_argument("--g2a", help="ground -> aerial generator folder (e.g. runs/gen-g2a/generator)")
    p.add_argument("--out", required=True, help="the pipeline folder to write")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--notes", default="", help="free text kept in the pipeline's config.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generators = {d: load_model(Generator, getattr(args, d)) for d in DIRECTIONS if getattr(args, d)}
    if not generators:
        p.error("give at least one of --a2g and --g2a")
    pipe = CrossViewPipeline(load_model(SAIG, args.embedder), generators, "cpu", trained=True, notes=args.notes)
    log.info("wrote %s", pipe.save_pretrained(args.out, fp16=args.fp16))


if __name__ == "__main__":
    main()
