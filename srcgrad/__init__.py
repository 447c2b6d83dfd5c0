"""srcgrad: derivatives of NumPy code by source-to-source transformation."""
from . import rules  # noqa: F401  (fills the rule table)
from . import autograd  # noqa: F401  (srcgrad.autograd.grad, srcgrad.autograd.Function)
from .api import (Derivative, grad, hessian, hvp, jacobian, jvp, show, source, value_and_grad,
                  vjp)
from .eager import (Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
                    tensor, to_dot)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .errors import (NoDerivativeRule, NonScalarOutput, SourceError, SrcgradError,
                     UnsupportedSyntax)
from .rules import non_differentiable
from .rules import jvp as defjvp
from .rules import vjp as defvjp

__all__ = ["Derivative", "Function", "GradcheckError", "NoDerivativeRule", "NonScalarOutput",
           "SourceError", "SrcgradError", "Tensor", "UnsupportedSyntax", "autograd", "defjvp", "defvjp",
           "enable_grad", "gradcheck", "gradgradcheck", "grad", "hessian", "hvp", "is_grad_enabled", "jacobian", "jvp",
           "non_differentiable", "no_grad", "set_grad_enabled", "show", "source", "tensor",
           "to_dot", "value_and_grad", "vjp"]
