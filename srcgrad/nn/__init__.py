"""``srcgrad.nn``: PyTorch's layers (``Module``, ``Linear``, ``Sequential``, activations, losses)
and ``srcgrad.nn.functional`` (activations and losses on Tensors), for the eager Tensor."""
from . import functional  # noqa: F401
from .modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten,  # noqa: F401
                      Identity, L1Loss, Linear, LogSoftmax, Module, ModuleList, MSELoss, NLLLoss,
                      Parameter, ReLU, Sequential, Sigmoid, Softmax, Tanh)

__all__ = ["functional", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten",
           "Identity", "L1Loss", "Linear", "LogSoftmax", "Module", "ModuleList", "MSELoss",
           "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]
