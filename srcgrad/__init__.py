"""srcgrad: derivatives of NumPy code by source-to-source transformation."""
from . import rules  # noqa: F401  (fills the rule table)
from .errors import (NoDerivativeRule, NonScalarOutput, SourceError, SrcgradError,
                     UnsupportedSyntax)
from .rules import non_differentiable, vjp

__all__ = ["NoDerivativeRule", "NonScalarOutput", "SourceError", "SrcgradError",
           "UnsupportedSyntax", "non_differentiable", "vjp"]
