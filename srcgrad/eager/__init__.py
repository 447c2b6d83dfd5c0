"""Eager mode: a Tensor that records operations on a tape, with PyTorch's autograd semantics."""
from .tensor import Size, Tensor  # first: the modules below build on the Tensor class
from .engine import backward, grad  # noqa: E402
from .errors import (EagerError, GraphFreedError, InplaceModifiedError, NoEagerRule,  # noqa: E402
                     ShapeError)
from .factories import tensor  # noqa: E402
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: E402
                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from .graphviz import to_dot  # noqa: E402

__all__ = ["EagerError", "Function", "FunctionCtx", "GraphFreedError", "InplaceModifiedError",
           "NoEagerRule", "ShapeError", "Size", "Tensor", "backward", "enable_grad", "grad",
           "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "once_differentiable", "set_grad_enabled", "tensor", "to_dot"]
