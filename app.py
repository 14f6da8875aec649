"""CrossView demo: upload an aerial image or a street-level panorama, see the other view synthesized.

    python app.py                                   # http://127.0.0.1:7860, the shipped demo checkpoint
    CROSSVIEW_MODEL=path/or/hub-repo python app.py  # your own pipeline folder
"""

from __future__ import annotations

import os
import random
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import torch

from crossview.demo import (
    DIRECTIONS,
    MAX_UPLOAD,
    UploadError,
    attention_gallery,
    describe_result,
    examples_cache_dir,
    load_pipeline,
    open_upload,
)

try:  # Hugging Face ZeroGPU: borrow a GPU per call when the Space runs there
    import spaces

    gpu = spaces.GPU
except ImportError:
    def gpu(fn):
        return fn

PIPE = load_pipeline()
os.environ.setdefault("GRADIO_EXAMPLES_CACHE", examples_cache_dir(PIPE))
EXAMPLES = sorted(str(p) for p in (Path(__file__).parent / "assets" / "examples").glob("*.png"))

NOTICES = []
if not torch.cuda.is_available():
    NOTICES.append("Running on CPU (no GPU found).")
if not PIPE.trained:
    NOTICES.append("**Untrained model:** no trained checkpoint was found, so the outputs are noise-like; "
                   "train one (see the README) or set `CROSSVIEW_MODEL`.")


@gpu
def synthesize(image: str | None, direction: str, seed: float, samples: float):
    """Synthesize the other view; returns the result, the coarse output, the attention maps and the
    similarity (plus all samples, a description and the per-session state used to re-draw overlays)."""
    try:
        picture = open_upload(image)
        requested = DIRECTIONS.get(direction, "auto")
        result = PIPE(picture, direction=requested, seed=int(seed), num_samples=int(samples))
    except (UploadError, ValueError) as e:
        raise gr.Error(str(e), print_exception=False) from e
    gallery = attention_gallery(result, 0.6)
    return (result.images[0], result.coarse[0], gallery, round(result.similarity[0], 4), result.images,
            describe_result(result, requested, picture), result)


def resample(image: str | None, direction: str, seed: float, samples: float):
    """New style noise: a fresh random seed (shown, so the result can be reproduced), then synthesize."""
    new_seed = random.randrange(2**31 - 1)
    return (new_seed, *synthesize(image, direction, new_seed, samples))


def redraw(result, opacity: float):
    return attention_gallery(result, opacity) if result is not None else gr.skip()


def preview(image: str | None):
    """Show what was uploaded, or say at once why it cannot be used."""
    if not image:
        return None
    try:
        return open_upload(image)
    except UploadError as e:
        raise gr.Error(str(e), print_exception=False) from e


with gr.Blocks(title="CrossView") as demo:
    gr.Markdown("# CrossView: retrieval-guided cross-view synthesis\n"
                "Upload an aerial image (north up) or a 360° street-level panorama (north at the centre). "
                "The generator, guided by a retrieval embedding of your image, synthesizes the other view; the "
                "maps show where each Attentional AdaIN layer let that embedding in (M, eq. 4).")
    if NOTICES:
        gr.Markdown(" ".join(NOTICES), elem_id="notice")
    with gr.Row():
        with gr.Column(scale=1):
            # A file, not gr.Image: gr.Image decodes uploads itself, so a broken file would fail before our
            # checks could say what is wrong with it.
            image = gr.File(label="Aerial image or panorama", file_types=["image"], type="filepath")
            shown = gr.Image(label="Your upload", type="pil", interactive=False, height=200)
            direction = gr.Radio(list(DIRECTIONS), value="Auto", label="Direction")
            with gr.Row():
                seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
                samples = gr.Slider(1, 4, value=1, step=1, label="Samples")
            with gr.Row():
                run = gr.Button("Synthesize", variant="primary")
                again = gr.Button("Resample style")
        with gr.Column(scale=2):
            info = gr.Markdown()
            output = gr.Image(label="Synthesized view", type="pil", format="png", height=260)
            coarse = gr.Image(label="Coarse (structure) output", type="pil", format="png", height=160)
            similarity = gr.Number(label="Retrieval similarity (source vs result)", precision=4)
            all_samples = gr.Gallery(label="Samples", columns=4, height=200, object_fit="contain", format="png")
    opacity = gr.Slider(0, 1, value=0.6, step=0.05, label="Heatmap opacity")
    attention = gr.Gallery(label="Attention weight maps M", columns=2, height=720, object_fit="contain",
                           format="png")
    state = gr.State()

    outputs = [output, coarse, attention, similarity, all_samples, info, state]
    run.click(synthesize, [image, direction, seed, samples], outputs, api_name="synthesize")
    again.click(resample, [image, direction, seed, samples], [seed, *outputs], api_name="resample")
    opacity.change(redraw, [state, opacity], attention, api_visibility="private")
    image.change(preview, image, shown, api_visibility="private")
    gr.Examples(examples=[[p, "Auto", 0, 1] for p in EXAMPLES], inputs=[image, direction, seed, samples],
                outputs=outputs, fn=synthesize, cache_examples=True, api_visibility="private")


if __name__ == "__main__":
    demo.queue(default_concurrency_limit=4).launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                                                    max_file_size=MAX_UPLOAD)
