"""PyTorch-style names for eager mode: ``srcgrad.autograd.grad``, ``srcgrad.autograd.Function``,
``srcgrad.autograd.functional.jacobian`` ... (the transformer's ``srcgrad.grad`` is another)."""
from .eager import Function, FunctionCtx, backward, grad, once_differentiable
from .eager import function, functional  # noqa: F401  (autograd.functional.jacobian ...)
from .eager.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                              set_grad_enabled)
from .eager.tensor import Tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (PyTorch's legacy name)
    """PyTorch's legacy wrapper: a leaf Tensor sharing ``data``'s memory."""
    array = data._data if isinstance(data, Tensor) else Tensor(data)._data
    return Tensor._make(array).requires_grad_(requires_grad)


__all__ = ["Function", "FunctionCtx", "GradcheckError", "Variable", "backward", "enable_grad",
           "function", "functional", "grad", "gradcheck", "gradgradcheck", "inference_mode",
           "is_grad_enabled", "no_grad", "once_differentiable", "set_grad_enabled"]
