"""Derivative rules of primitives, one module per family; importing this fills the table."""
from . import arithmetic, linalg, reductions, shape, ufuncs  # noqa: F401  (registration)
from .registry import (NON_DIFFERENTIABLE, VJP_RULES, Rule, is_non_differentiable,
                       non_differentiable, rule_for, vjp, vjp_into)

__all__ = ["NON_DIFFERENTIABLE", "VJP_RULES", "Rule", "is_non_differentiable",
           "non_differentiable", "rule_for", "vjp", "vjp_into"]
