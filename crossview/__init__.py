"""CrossView: retrieval-guided cross-view image synthesis (aerial <-> street-level panorama).

``from crossview import CrossViewPipeline`` is the public entry point (see crossview/pipeline.py).
"""

__version__ = "0.1.0"
__all__ = ["CrossViewPipeline", "SynthesisOutput"]


def __getattr__(name: str):
    # Lazy, so that light modules (e.g. the SynthCity renderer's worker processes) do not import torch.
    if name in __all__:
        from crossview import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'crossview' has no attribute {name!r}")
