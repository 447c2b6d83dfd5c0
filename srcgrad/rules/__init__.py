"""Derivative rules of primitives, one module per family; importing this fills the tables."""
from . import adjoints, arithmetic, elementwise, linalg, reductions, shape, ufuncs  # noqa: F401,E501
from .registry import (JVP_RULES, NON_DIFFERENTIABLE, VJP_RULES, ForwardRule, Rule,
                       forward_rule_for, is_non_differentiable, jvp, non_differentiable, rule_for,
                       vjp, vjp_into)

__all__ = ["JVP_RULES", "NON_DIFFERENTIABLE", "VJP_RULES", "ForwardRule", "Rule",
           "forward_rule_for", "is_non_differentiable", "jvp", "non_differentiable", "rule_for",
           "vjp", "vjp_into"]
