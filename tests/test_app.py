"""The Gradio demo, launched for real: gradio_client against its API, and Playwright driving Chromium."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ARTIFACTS, ROOT

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def call(client, image, seed, samples=1, direction="Auto", api="/synthesize"):
    from gradio_client import handle_file

    return client.predict(handle_file(str(image)), direction, seed, samples, api_name=api)


def test_both_directions_and_attention_maps(client):
    a2g = call(client, ROOT / "assets/examples/aerial-1.png", 0)
    g2a = call(client, ROOT / "assets/examples/ground-1.png", 0)
    assert Image.open(a2g[0]).size == (256, 64) and Image.open(g2a[0]).size == (128, 128)
    assert Image.open(a2g[1]).size == (128, 32)  # the coarse output
    assert len(a2g[2]) == 10 and len(g2a[2]) == 11  # one map per Attn-AdaIN layer
    assert all("M at" in item["caption"] for item in a2g[2])
    assert -1 <= a2g[3] <= 1
    assert "aerial → ground" in a2g[5] and "ground → aerial" in g2a[5]
    forced = call(client, ROOT / "assets/examples/aerial-1.png", 0, direction="Ground → Aerial")
    assert Image.open(forced[0]).size == (128, 128)


def test_same_seed_same_image_and_resample_changes_it(client):
    image = ROOT / "assets/examples/aerial-2.png"
    first, again = call(client, image, 7), call(client, image, 7)
    assert np.array_equal(pixels(first[0]), pixels(again[0]))
    resampled = call(client, image, 7, api="/resample")
    assert resampled[0] != 7
    assert not np.array_equal(pixels(resampled[1]), pixels(first[0]))
    again_resampled = call(client, image, resampled[0])
    assert np.array_equal(pixels(again_resampled[0]), pixels(resampled[1]))  # the shown seed reproduces it


def test_samples_are_diverse(client):
    result = call(client, ROOT / "assets/examples/ground-2.png", 1, samples=3)
    images = [pixels(item["image"]) for item in result[4]]
    assert len(images) == 3 and not np.array_equal(images[0], images[1])


def test_bad_upload_gets_a_clear_message(client, tmp_path):
    from gradio_client.exceptions import AppError

    fake = tmp_path / "notes.png"
    fake.write_text("this is not an image")
    with pytest.raises(AppError, match="could not be read as an image"):
        call(client, fake, 0)
    call(client, ROOT / "assets/examples/aerial-1.png", 0)  # and the app goes on serving


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_browser_end_to_end(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    fake = tmp_path / "broken.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(app_url, timeout=120_000)
        page.locator("input[type=file]").first.wait_for(state="attached", timeout=120_000)
        page.locator("input[type=file]").first.set_input_files(str(ROOT / "assets/examples/aerial-1.png"))
        page.get_by_role("button", name="Synthesize").click()
        expect(page.get_by_text("Direction:")).to_be_visible(timeout=60_000)
        expect(page.locator("img[alt]").first).to_be_visible()
        gallery = page.get_by_text("M at").first
        expect(gallery).to_be_attached(timeout=30_000)
        seed_box = page.get_by_label("Seed")
        before = seed_box.input_value()
        page.get_by_role("button", name="Resample style").click()
        expect(seed_box).not_to_have_value(before, timeout=60_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
        page.reload()  # a fresh page: gr.File swaps its drop zone for the current file once one is uploaded
        page.locator("input[type=file]").first.wait_for(state="attached", timeout=120_000)
        page.locator("input[type=file]").first.set_input_files(str(fake))
        page.get_by_role("button", name="Synthesize").click()
        expect(page.get_by_text("could not be read as an image").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "app-error.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "app.png").stat().st_size > 10_000
