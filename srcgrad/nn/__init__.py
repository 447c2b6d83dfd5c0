"""``srcgrad.nn``: PyTorch's layers (``Module``, ``Linear``, ``Sequential``, activations, losses),
``srcgrad.nn.functional`` (activations and losses on Tensors) and ``srcgrad.nn.init``
(initializers), for the eager Tensor."""
from . import functional, init  # noqa: F401
from .modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten,  # noqa: F401
                      Identity, L1Loss, Linear, LogSoftmax, Module, ModuleList, MSELoss, NLLLoss,
                      Parameter, ReLU, Sequential, Sigmoid, Softmax, Tanh)

__all__ = ["functional", "init", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout",
           "Flatten", "Identity", "L1Loss", "Linear", "LogSoftmax", "Module", "ModuleList", "MSELoss",
           "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]
