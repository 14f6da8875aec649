"""Every kind of upload gets a clear message or a sensible result (issue: reliability)."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from crossview import CrossViewPipeline
from crossview.demo import MAX_PIXELS, UploadError, open_upload


@pytest.fixture(scope="module")
def pipe():
    return CrossViewPipeline.untrained("tiny")


def png_claiming(path, width, height):
    """A tiny PNG whose header declares width x height (a decompression bomb as far as a decoder knows)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def save(path, image, **kw):
    image.save(path, **kw)
    return path


BAD = {
    "zero bytes": lambda p: (p / "empty.png").write_bytes(b"") or p / "empty.png",
    "text named .png": lambda p: (p / "notes.png").write_text("hello") or p / "notes.png",
    "corrupt": lambda p: (p / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4) or p / "c.png",
    "truncated": lambda p: (p / "t.jpg").write_bytes(
        save(p / "full.jpg", Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)))
        .read_bytes()[:600]) or p / "t.jpg",
    "1x1": lambda p: save(p / "dot.png", Image.new("RGB", (1, 1))),
    "above the pixel cap": lambda p: png_claiming(p / "big.png", 8000, 6000),
    "20000x20000 bomb": lambda p: png_claiming(p / "bomb.png", 20000, 20000),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_uploads_get_a_clear_message(case, tmp_path):
    path = BAD[case](tmp_path)
    with pytest.raises(UploadError) as e:
        open_upload(str(path))
    message = str(e.value)
    assert "Traceback" not in message and len(message) < 400
    if case == "20000x20000 bomb":  # PIL's own guard (over 2 x 89M pixels) or our cap, whichever comes first
        assert "400000000 pixels" in message or f"{MAX_PIXELS:,}" in message
    if case == "above the pixel cap":
        assert f"{MAX_PIXELS:,}" in message
    if case == "1x1":
        assert "at least" in message


def test_no_upload_at_all():
    with pytest.raises(UploadError, match="upload"):
        open_upload(None)


def rgba(size=(64, 64)):
    arr = np.zeros((*size[::-1], 4), np.uint8)
    arr[..., 0], arr[..., 3] = 200, 128
    return Image.fromarray(arr, "RGBA")


GOOD = {
    "RGBA": lambda p: save(p / "a.png", rgba()),
    "LA": lambda p: save(p / "la.png", rgba().convert("LA")),
    "palette": lambda p: save(p / "p.png", Image.new("RGB", (64, 64), (10, 200, 30)).convert("P")),
    "greyscale": lambda p: save(p / "g.png", Image.new("L", (64, 64), 90)),
    "16-bit": lambda p: save(p / "16.png", Image.fromarray(np.full((64, 64), 50000, np.uint16))),
    "CMYK JPEG": lambda p: save(p / "cmyk.jpg", Image.new("CMYK", (64, 64), (0, 100, 200, 0))),
    "extreme wide": lambda p: save(p / "wide.png", Image.new("RGB", (4000, 10), (120, 120, 200))),
    "extreme tall": lambda p: save(p / "tall.png", Image.new("RGB", (10, 3000), (120, 200, 120))),
    "animated GIF": lambda p: save(p / "anim.gif", Image.new("RGB", (64, 64), (255, 0, 0)), save_all=True,
                                   append_images=[Image.new("RGB", (64, 64), (0, 0, 255))], duration=100),
    "animated WebP": lambda p: save(p / "anim.webp", Image.new("RGB", (64, 64), (255, 0, 0)), save_all=True,
                                    append_images=[Image.new("RGB", (64, 64), (0, 0, 255))], duration=100),
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_valid_uploads_give_a_result(case, tmp_path, pipe):
    image = open_upload(str(GOOD[case](tmp_path)))
    assert image.mode == "RGB"
    out = pipe(image)
    assert out.images and out.direction == ("g2a" if image.width / image.height >= 1.5 else "a2g")
    if case.startswith("animated"):
        assert image.getpixel((5, 5))[0] > 200  # the first frame (red), not the second
    if case == "16-bit":
        assert image.getpixel((0, 0)) == (195, 195, 195)  # 50000 / 257


def test_exif_rotation_is_applied(tmp_path):
    img = Image.new("RGB", (80, 40), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 10, 40))  # white stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    img.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    upright = open_upload(str(tmp_path / "rot.jpg"))
    assert upright.size == (40, 80)
    assert upright.getpixel((20, 2))[0] > 200  # the stripe now runs along the top


def test_a_bad_crossview_model_stops_start_up_with_its_reason(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "config.json").write_text('{"format": "something else"}')
    for target, reason in ((tmp_path / "nowhere", "not found"), (tmp_path, "not a CrossView pipeline")):
        env = {**os.environ, "CROSSVIEW_MODEL": str(target), "GRADIO_ANALYTICS_ENABLED": "False",
               "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode != 0
        assert "CROSSVIEW_MODEL" in r.stderr and reason in r.stderr and "Traceback" not in r.stderr


def test_uploads_over_the_size_cap_are_refused(tmp_path):
    from gradio_client import Client, handle_file

    from tests.conftest import ROOT, launched_app

    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300, 3), np.uint8)).save(big)  # ~270 kB
    with launched_app(CROSSVIEW_MAX_UPLOAD="100kb") as url:
        client = Client(url, verbose=False)
        with pytest.raises(ValueError, match="exceeds the maximum file size of 102400 bytes"):
            client.predict(handle_file(str(big)), "Auto", 0, 1, api_name="/synthesize")
        client.predict(handle_file(str(ROOT / "assets/examples/aerial-1.png")), "Auto", 0, 1, api_name="/synthesize")
