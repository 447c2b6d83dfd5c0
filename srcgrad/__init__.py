"""srcgrad: derivatives of NumPy code by source-to-source transformation."""
from . import rules  # noqa: F401  (fills the rule table)
from .api import Derivative, grad, show, source, value_and_grad, vjp
from .errors import (NoDerivativeRule, NonScalarOutput, SourceError, SrcgradError,
                     UnsupportedSyntax)
from .rules import non_differentiable
from .rules import vjp as defvjp

__all__ = ["Derivative", "NoDerivativeRule", "NonScalarOutput", "SourceError", "SrcgradError",
           "UnsupportedSyntax", "defvjp", "grad", "non_differentiable", "show", "source",
           "value_and_grad", "vjp"]
