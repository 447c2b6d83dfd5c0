"""``srcgrad.nn``: for now only ``srcgrad.nn.functional`` (activations and losses on Tensors)."""
from . import functional  # noqa: F401

__all__ = ["functional"]
