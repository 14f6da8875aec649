"""Shared test set-up: no network at start-up, small SynthCity folders built once per session."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from crossview.checkpoint import save_model
from crossview.data.synthcity import SynthCityConfig, generate
from crossview.models.embedder import SAIG

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"  # logs and screenshots the tests keep (ignored by git)


@pytest.fixture(scope="session")
def synthcity_dir(tmp_path_factory):
    """Eight demo-size SynthCity pairs with labels (6 train, 1 val, 1 test)."""
    root = tmp_path_factory.mktemp("synthcity")
    generate(root, num=8, seed=123, cfg=SynthCityConfig(), train_frac=0.75, val_frac=0.125, labels=True,
             progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_saig(tmp_path_factory):
    """A randomly initialised tiny SAIG-S model folder (the generator's guide in training tests)."""
    torch.manual_seed(0)
    return save_model(SAIG.from_preset("tiny", "s"), tmp_path_factory.mktemp("saig") / "saig-s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def launched_app(**env_extra: str):
    """python app.py on a free port with extra environment variables; yields its URL, kills it after."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **env_extra}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "app.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 240
            while time.time() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"app exited with {proc.returncode}: {(ARTIFACTS / 'app.log').read_text()[-2000:]}")
                try:  # ready = the page answers (the port opens before the examples are cached)
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=30) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(1)
            else:
                pytest.fail("app did not start in time")
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def app_url():
    """The demo as users start it (an untrained model when no checkpoint is shipped), its log kept."""
    with launched_app() as url:
        yield url
