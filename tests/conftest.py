"""Shared test set-up: no network at start-up, small SynthCity folders built once per session."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from crossview.checkpoint import save_model
from crossview.data.synthcity import SynthCityConfig, generate
from crossview.models.embedder import SAIG


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
