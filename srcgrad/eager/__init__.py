"""Eager mode: a Tensor that records operations on a tape, with PyTorch's autograd semantics."""
from .tensor import Tensor, tensor  # first: the modules below build on the Tensor class
from .engine import backward, grad  # noqa: E402
from .errors import EagerError, GraphFreedError, InplaceModifiedError, NoEagerRule  # noqa: E402
from .function import Function, FunctionCtx  # noqa: E402
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from .graphviz import to_dot  # noqa: E402

__all__ = ["EagerError", "Function", "FunctionCtx", "GraphFreedError", "InplaceModifiedError",
           "NoEagerRule", "Tensor", "backward", "enable_grad", "grad", "is_grad_enabled",
           "no_grad", "set_grad_enabled", "tensor", "to_dot"]
