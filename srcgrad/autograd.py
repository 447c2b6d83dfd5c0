"""PyTorch-style names for eager mode: ``srcgrad.autograd.grad``, ``srcgrad.autograd.Function``."""
from .eager import Function, FunctionCtx, backward, grad
from .eager.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "FunctionCtx", "GradcheckError", "backward", "enable_grad", "grad",
           "gradcheck", "gradgradcheck", "is_grad_enabled", "no_grad", "set_grad_enabled"]
