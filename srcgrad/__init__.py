"""srcgrad: derivatives of NumPy code by source-to-source transformation."""
__version__ = "0.1.0"  # the one place the version is written; pyproject.toml reads it

from . import rules  # noqa: F401  (fills the rule table)
from . import autograd  # noqa: F401  (srcgrad.autograd.grad, srcgrad.autograd.Function)
from .api import (Derivative, defjvp, defvjp, grad, hessian, hvp, jacobian, jvp,
                  non_differentiable, show, source, value_and_grad, vjp)
from .eager import (Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
                    tensor, to_dot)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .errors import (NoDerivativeRule, NonScalarOutput, SourceError, SrcgradError,
                     UnsupportedSyntax)

__all__ = ["__version__", "Derivative", "Function", "GradcheckError", "NoDerivativeRule",
           "NonScalarOutput", "SourceError", "SrcgradError", "Tensor", "UnsupportedSyntax",
           "autograd", "defjvp", "defvjp", "enable_grad", "gradcheck", "gradgradcheck", "grad",
           "hessian", "hvp", "is_grad_enabled", "jacobian", "jvp", "non_differentiable", "no_grad",
           "set_grad_enabled", "show", "source", "tensor", "to_dot", "value_and_grad", "vjp"]
